"""Judging rounds (初评 / 复评 / 终评): creation with rubric, jurors and entries; opening
(assignment and juror images) and closing. Every change is audit-logged.

Services only (STYLE.md §2): explicit arguments, `session.flush()`, never `commit()`;
errors are `RoundError` codes that `contest.messages` turns into Chinese.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.errors import RoundError
from contest.models import (DEFAULT_RUBRIC, Criterion, Entry, EntryStatus, Review, Role, Round,
                            RoundEntry, RoundJuror, RoundKind, RoundStatus, Track, User,
                            log_event)
from contest.timeutil import utcnow

if TYPE_CHECKING:
    from contest.assignment import AssignmentReport

ANON_PREFIX = {RoundKind.preliminary: "A", RoundKind.second: "B", RoundKind.final: "C"}
DEFAULT_JURORS_PER_ENTRY = 3  # issue #4: 3 jurors per entry in a first round
RUBRIC_NAME_MAX = 50


def eligible_entries(session: Session, track: Track) -> list[Entry]:
    """Entries of `track` that can enter a first round: submitted, not withdrawn and not
    disqualified (issue #4), ordered by id. Drafts never take part."""
    return list(session.scalars(
        select(Entry).where(Entry.track_id == track.id, Entry.status == EntryStatus.submitted)
        .order_by(Entry.id)))


def juror_alias(index: int) -> str:
    """0 → '评委A', 25 → '评委Z', 26 → '评委AA' (bijective base 26): the name a juror has in
    results and progress shown outside the editors' own pages."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return f"评委{letters}"


def make_anon_codes(count: int, kind: RoundKind | str) -> list[str]:
    """`count` distinct 评审编号 like 'A-017' in random order, drawn with the OS random source
    from a number range at least twice `count`, so the numbers reveal neither the entry code,
    the entry id nor the submission order."""
    prefix = ANON_PREFIX.get(RoundKind(kind), "A")
    digits = max(3, len(str(count * 2)))
    numbers = secrets.SystemRandom().sample(range(1, 10 ** digits), count)
    return [f"{prefix}-{n:0{digits}d}" for n in numbers]


def _check_rubric(criteria: Iterable[Sequence[Any]]) -> list[tuple[str, str, float]]:
    """Validate (name, description, max_points) tuples; max points positive, in half points."""
    rows = []
    for item in criteria:
        if len(item) != 3:
            raise RoundError("rubric_invalid", detail="评分项须包含名称、说明和满分")
        name, description, max_points = item
        name = str(name or "").strip()
        try:
            max_points = float(max_points)
        except (TypeError, ValueError):
            raise RoundError("rubric_invalid", detail=f"评分项“{name}”的满分必须是数字") from None
        if not name:
            raise RoundError("rubric_invalid", detail="评分项名称不能为空")
        if len(name) > RUBRIC_NAME_MAX:
            raise RoundError("rubric_invalid",
                             detail=f"评分项名称不超过{RUBRIC_NAME_MAX}字（当前：{len(name)}字）")
        if max_points <= 0 or max_points > 1000 or (max_points * 2) != int(max_points * 2):
            raise RoundError("rubric_invalid",
                             detail=f"评分项“{name}”的满分应为正数（整数或半分，当前：{max_points:g}）")
        rows.append((name, str(description or "").strip(), max_points))
    if not rows:
        raise RoundError("rubric_invalid", detail="评分标准至少需要一个评分项")
    if len({r[0] for r in rows}) != len(rows):
        raise RoundError("rubric_invalid", detail="评分项名称不能重复")
    return rows


def _rubric_snapshot(round_: Round) -> list[dict[str, Any]]:
    return [{"name": c.name, "description": c.description, "max_points": c.max_points}
            for c in round_.criteria]


def _round_snapshot(round_: Round) -> dict[str, Any]:
    return {
        "name": round_.name, "kind": str(round_.kind), "status": str(round_.status),
        "track_id": round_.track_id, "previous_round_id": round_.previous_round_id,
        "opens_at": round_.opens_at.isoformat() if round_.opens_at else None,
        "closes_at": round_.closes_at.isoformat() if round_.closes_at else None,
        "jurors_per_entry": round_.jurors_per_entry, "seed": round_.seed,
        "show_title": round_.show_title, "show_statement": round_.show_statement,
    }


def _check_jurors(jurors: Iterable[User]) -> list[User]:
    out: list[User] = []
    for juror in jurors:
        if juror.role != Role.juror or not juror.is_active_account:
            raise RoundError("juror_invalid", login=juror.login)
        if juror not in out:
            out.append(juror)
    return out


def create_round(session: Session, track: Track, *, kind: RoundKind | str, name: str,
                 jurors: list[User], jurors_per_entry: int | None = None,
                 criteria: Iterable[Sequence[Any]] = DEFAULT_RUBRIC,
                 previous_round: Round | None = None, entry_ids: Iterable[int] | None = None,
                 opens_at: datetime | None = None, closes_at: datetime | None = None,
                 seed: int | None = None, show_title: bool = True, show_statement: bool = True,
                 actor: User | None = None) -> Round:
    """Create a draft round of `track` with its rubric, jurors and entries; logged
    'round.create'.

    `kind`: RoundKind. `jurors`: users with role juror (active), in alias order (评委A, 评委B…).
    `jurors_per_entry`: k; default 3 for 初评/复评 and every juror for 终评 (issue #4).
    `criteria`: (name, description, max_points) tuples; default `DEFAULT_RUBRIC`.
    `entry_ids`: the round's entries; default (None) the eligible entries of `track`
    (`eligible_entries`). A later round passes the shortlist computed by the caller; every id
    must be an eligible entry of `track`. Each entry gets a shuffled 评审编号 ('A-017').
    `opens_at`/`closes_at`: aware UTC or None. `seed`: assignment seed (random when None).
    Raises `RoundError` (juror_invalid, round_no_jurors, round_no_entries,
    round_entry_invalid, rubric_invalid).
    """
    kind = RoundKind(kind)
    name = (name or "").strip()
    if not name:
        raise RoundError("rubric_invalid", detail="请填写轮次名称")
    rubric = _check_rubric(criteria)
    juror_list = _check_jurors(jurors)
    if not juror_list:
        raise RoundError("round_no_jurors")
    if entry_ids is None:
        entries = eligible_entries(session, track)
    else:
        wanted = sorted(set(int(i) for i in entry_ids))
        entries = list(session.scalars(select(Entry).where(Entry.id.in_(wanted))
                                       .order_by(Entry.id))) if wanted else []
        bad = sorted(set(wanted) - {e.id for e in entries if e.track_id == track.id
                                    and e.status == EntryStatus.submitted})
        if bad:
            raise RoundError("round_entry_invalid", entry_id=bad[0])
    if not entries:
        raise RoundError("round_no_entries")
    if jurors_per_entry is None:
        jurors_per_entry = (len(juror_list) if kind == RoundKind.final
                            else DEFAULT_JURORS_PER_ENTRY)
    if jurors_per_entry < 1:
        raise RoundError("rubric_invalid", detail="每件作品的评委人数至少为1")
    round_ = Round(track=track, kind=kind, name=name[:100], status=RoundStatus.draft,
                   previous_round=previous_round, opens_at=opens_at, closes_at=closes_at,
                   jurors_per_entry=int(jurors_per_entry),
                   seed=int(seed) if seed is not None else secrets.randbelow(2**31 - 1),
                   show_title=bool(show_title), show_statement=bool(show_statement))
    session.add(round_)
    for pos, (c_name, c_desc, c_max) in enumerate(rubric):
        round_.criteria.append(Criterion(position=pos, name=c_name, description=c_desc,
                                         max_points=c_max))
    for i, juror in enumerate(juror_list):
        round_.jurors.append(RoundJuror(juror=juror, alias=juror_alias(i)))
    for entry, code in zip(entries, make_anon_codes(len(entries), kind), strict=True):
        round_.round_entries.append(RoundEntry(entry=entry, anon_code=code))
    session.flush()
    log_event(session, actor, "round.create", round_,
              new={**_round_snapshot(round_), "criteria": _rubric_snapshot(round_),
                   "jurors": [j.login for j in juror_list], "entries": len(entries)})
    return round_


def has_scores(session: Session, round_: Round) -> bool:
    """True once any review exists in `round_` (the rubric is then fixed)."""
    return bool(session.scalar(select(func.count(Review.id))
                               .where(Review.round_id == round_.id)))


def update_round(session: Session, round_: Round, actor: User | None, **fields: Any) -> Round:
    """Change settings of `round_`: any of name, opens_at, closes_at (aware UTC or None),
    jurors_per_entry (≥ 1), show_title, show_statement. Logged 'round.update' with old and
    new values. A change of jurors_per_entry takes effect at the next `assign`.
    Raises `RoundError` (rubric_invalid) for an empty name or k < 1."""
    allowed = {"name", "opens_at", "closes_at", "jurors_per_entry", "show_title",
               "show_statement"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown round fields: {sorted(unknown)}")
    old = _round_snapshot(round_)
    if "name" in fields:
        name = str(fields["name"] or "").strip()
        if not name:
            raise RoundError("rubric_invalid", detail="请填写轮次名称")
        round_.name = name[:100]
    if "jurors_per_entry" in fields:
        k = int(fields["jurors_per_entry"])
        if k < 1:
            raise RoundError("rubric_invalid", detail="每件作品的评委人数至少为1")
        round_.jurors_per_entry = k
    for key in ("opens_at", "closes_at"):
        if key in fields:
            setattr(round_, key, fields[key])
    for key in ("show_title", "show_statement"):
        if key in fields:
            setattr(round_, key, bool(fields[key]))
    session.flush()
    new = _round_snapshot(round_)
    if new != old:
        log_event(session, actor, "round.update", round_,
                  old={k: v for k, v in old.items() if new[k] != v},
                  new={k: v for k, v in new.items() if old[k] != v})
    return round_


def set_criteria(session: Session, round_: Round, criteria: Iterable[Sequence[Any]],
                 actor: User | None) -> Round:
    """Replace the rubric of `round_` with (name, description, max_points) tuples; logged
    'round.rubric' with old and new. Only while no review exists in the round.
    Raises `RoundError` (round_rubric_locked, rubric_invalid)."""
    if has_scores(session, round_):
        raise RoundError("round_rubric_locked")
    rubric = _check_rubric(criteria)
    old = _rubric_snapshot(round_)
    round_.criteria.clear()
    session.flush()
    for pos, (c_name, c_desc, c_max) in enumerate(rubric):
        round_.criteria.append(Criterion(position=pos, name=c_name, description=c_desc,
                                         max_points=c_max))
    session.flush()
    log_event(session, actor, "round.rubric", round_, old=old, new=_rubric_snapshot(round_))
    return round_


def add_juror(session: Session, round_: Round, juror: User, actor: User | None) -> RoundJuror:
    """Add `juror` to `round_` with the next alias (idempotent); logged 'round.add_juror'.
    In an open round the caller runs `assignment.assign` to give them entries.
    Raises `RoundError` (juror_invalid)."""
    _check_jurors([juror])
    existing = next((rj for rj in round_.jurors if rj.juror_id == juror.id), None)
    if existing is not None:
        return existing
    rj = RoundJuror(juror=juror, alias=juror_alias(len(round_.jurors)))
    round_.jurors.append(rj)
    session.flush()
    log_event(session, actor, "round.add_juror", round_, new={"juror": juror.login,
                                                              "alias": rj.alias})
    return rj


def open_round(session: Session, round_: Round, actor: User | None,
               storage: Any = None) -> AssignmentReport:
    """Open `round_` (draft or closed → open): assign entries to jurors
    (`assignment.assign`) and build every entry's juror images
    (`anonymise.build_round_images`, which needs `storage`, default `get_storage()`).
    Logged 'round.open'. Returns the `AssignmentReport`.
    Raises `RoundError` (round_state if already open), `ResultsFinalised` (the round's
    results are final: reopening would let scores change under published results)."""
    from contest.anonymise import build_round_images
    from contest.assignment import assign
    from contest.scoring import ensure_round_open_for_results

    ensure_round_open_for_results(session, round_)
    if round_.status == RoundStatus.open:
        raise RoundError("round_state", status=str(round_.status))
    old = str(round_.status)
    round_.status = RoundStatus.open
    session.flush()
    report = assign(session, round_, actor=actor)
    build_round_images(session, round_, storage)
    log_event(session, actor, "round.open", round_, old={"status": old},
              new={"status": str(round_.status), "assignments": report.total_active,
                   "shortfalls": len(report.shortfalls)})
    return report


def close_round(session: Session, round_: Round, actor: User | None) -> Round:
    """Close an open `round_`: jurors can no longer see or score its entries. Logged
    'round.close'. Raises `RoundError` (round_state unless open)."""
    if round_.status != RoundStatus.open:
        raise RoundError("round_state", status=str(round_.status))
    round_.status = RoundStatus.closed
    session.flush()
    log_event(session, actor, "round.close", round_, old={"status": "open"},
              new={"status": "closed", "closed_at": utcnow().isoformat()})
    return round_


def is_round_live(round_: Round, now: datetime | None = None) -> bool:
    """True when jurors may view and score `round_`: status open and `now` (UTC) inside
    the optional opens_at/closes_at window."""
    if round_.status != RoundStatus.open:
        return False
    now = now or utcnow()
    if round_.opens_at is not None and now < round_.opens_at:
        return False
    return not (round_.closes_at is not None and now >= round_.closes_at)


def rounds_for_track(session: Session, track: Track) -> list[Round]:
    """Rounds of `track`, oldest first."""
    return list(session.scalars(select(Round).where(Round.track_id == track.id)
                                .order_by(Round.id)))
