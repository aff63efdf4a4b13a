"""Scoring (评分): the juror's anonymised view of their entries, score sheets, submission and
unlocking, and the editors' progress figures.

Anonymity (STYLE.md §5): juror-facing functions return `JurorEntryView` / `JurorRoundView`
dataclasses built only from the round's 评审编号, the track name, the title and statement
(when the round shows them) and the juror images' opaque URLs — never an ORM `Entry`. Every
juror-facing query starts from the juror's own active assignments (STYLE.md §2).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, selectinload

from contest.assignment import active_assignment
from contest.errors import InvalidScore, NotAssigned, RoundError, SheetLocked
from contest.models import (Assignment, Entry, EntryFile, EntryStatus, FileKind, Review, Round,
                            RoundEntry, RoundJuror, RoundStatus, Score, User, log_event)
from contest.rounds import is_round_live
from contest.timeutil import utcnow

COMMENT_MAX_CHARS = 2000
JUROR_IMAGE_KINDS = (FileKind.juror_display, FileKind.juror_thumb)


def _counts() -> Any:
    """SQL condition: an assignment that counts for jurors — active, and its entry still
    in the contest (an entry withdrawn or disqualified while a round runs disappears from
    jurors' queues, images and counts at once; its reviews stay for the record)."""
    return and_(Assignment.is_active.is_(True),
                Assignment.entry_id.in_(select(Entry.id).where(
                    Entry.status == EntryStatus.submitted)))


def default_image_url(token: str) -> str:
    """URL of a juror image by its public token (views pass `url_for('judge.image', …)`)."""
    return f"/judge/img/{token}"


@dataclass(frozen=True)
class CriterionView:
    """One rubric line on the juror's sheet; `points` None while not yet scored."""

    id: int
    name: str
    description: str
    max_points: float
    points: float | None


@dataclass(frozen=True)
class JurorEntryView:
    """Everything a juror template may show about one entry of a round. `title` and
    `statement` are None when the round hides them; `display_url`/`thumb_url` are None while
    the juror images are not built. `position` is 1-based in the juror's own queue of
    `queue_length`; `prev_code`/`next_code` are neighbouring 评审编号 in that queue."""

    round_id: int
    anon_code: str
    track_name: str
    title: str | None
    statement: str | None
    display_url: str | None
    thumb_url: str | None
    width_px: int | None
    height_px: int | None
    criteria: tuple[CriterionView, ...]
    points_total: float
    max_total: float
    comment: str
    is_started: bool
    is_complete: bool
    is_locked: bool
    can_score: bool
    position: int
    queue_length: int
    prev_code: str | None
    next_code: str | None


@dataclass(frozen=True)
class JurorRoundView:
    """A round on the juror's home page: progress is scored / assigned entries."""

    round_id: int
    name: str
    kind: str
    track_name: str
    opens_at: datetime | None
    closes_at: datetime | None
    assigned: int
    scored: int
    is_locked: bool
    submitted_at: datetime | None
    is_live: bool


@dataclass(frozen=True)
class JurorProgress:
    """Editors' view of one juror's sheet in a round."""

    round_juror_id: int
    juror_id: int
    login: str
    display_name: str
    alias: str
    email: str | None
    phone: str | None
    assigned: int
    scored: int
    submitted_at: datetime | None

    @property
    def is_locked(self) -> bool:
        return self.submitted_at is not None

    @property
    def is_late(self) -> bool:
        """Not yet submitted (whatever the scored count): someone to remind."""
        return self.submitted_at is None and self.assigned > 0


@dataclass(frozen=True)
class EntryProgress:
    """Editors' view of one entry in a round: active jurors and complete reviews."""

    entry_id: int
    entry_code: str | None
    anon_code: str
    title: str
    wanted: int
    assigned: int
    scored: int


@dataclass(frozen=True)
class RoundProgress:
    jurors: list[JurorProgress]
    entries: list[EntryProgress]

    @property
    def assigned(self) -> int:
        return sum(j.assigned for j in self.jurors)

    @property
    def scored(self) -> int:
        return sum(j.scored for j in self.jurors)

    @property
    def late_jurors(self) -> list[JurorProgress]:
        return [j for j in self.jurors if j.is_late]


# ------------------------------------------------------------------ juror side

def _round_juror(session: Session, juror: User, round_: Round) -> RoundJuror | None:
    return session.scalar(select(RoundJuror).where(RoundJuror.round_id == round_.id,
                                                   RoundJuror.juror_id == juror.id))


def _juror_files(session: Session, entry_ids: list[int]) -> dict[tuple[int, str], EntryFile]:
    if not entry_ids:
        return {}
    files = session.scalars(select(EntryFile).where(
        EntryFile.entry_id.in_(entry_ids), EntryFile.kind.in_(JUROR_IMAGE_KINDS),
        EntryFile.is_current.is_(True)).order_by(EntryFile.id))
    return {(f.entry_id, str(f.kind)): f for f in files}


def juror_queue(session: Session, juror: User, round_: Round,
                image_url: Callable[[str], str] = default_image_url) -> list[JurorEntryView]:
    """The juror's entries in `round_`, in their own shuffled order (`Assignment.order_key`),
    as `JurorEntryView`s. Empty when the juror has no active assignment. `image_url` turns a
    juror image's public token into a URL."""
    rows = session.execute(
        select(Assignment, RoundEntry).join(RoundEntry, (RoundEntry.round_id == Assignment.round_id)
                                            & (RoundEntry.entry_id == Assignment.entry_id))
        .where(Assignment.round_id == round_.id, Assignment.juror_id == juror.id,
               _counts())
        .options(selectinload(RoundEntry.entry))
        .order_by(Assignment.order_key, RoundEntry.anon_code)).all()
    entry_ids = [a.entry_id for a, _re in rows]
    reviews = {r.entry_id: r for r in session.scalars(
        select(Review).where(Review.round_id == round_.id, Review.juror_id == juror.id,
                             Review.entry_id.in_(entry_ids or [-1]))
        .options(selectinload(Review.scores)))}
    files = _juror_files(session, entry_ids)
    rj = _round_juror(session, juror, round_)
    locked = rj is not None and rj.is_locked
    live = is_round_live(round_)
    criteria = list(round_.criteria)
    codes = [re.anon_code for _a, re in rows]
    views = []
    for i, (assignment, re) in enumerate(rows):
        entry: Entry = re.entry
        review = reviews.get(assignment.entry_id)
        points = {s.criterion_id: s.points for s in review.scores} if review else {}
        crit = tuple(CriterionView(c.id, c.name, c.description, c.max_points, points.get(c.id))
                     for c in criteria)
        # outside the round's time window the image route answers 404: hand out no URL
        display = files.get((entry.id, FileKind.juror_display.value)) if live else None
        thumb = files.get((entry.id, FileKind.juror_thumb.value)) if live else None
        views.append(JurorEntryView(
            round_id=round_.id, anon_code=re.anon_code, track_name=round_.track.name,
            title=entry.title if round_.show_title else None,
            statement=entry.statement if round_.show_statement else None,
            display_url=image_url(display.public_token) if display and display.public_token
            else None,
            thumb_url=image_url(thumb.public_token) if thumb and thumb.public_token else None,
            width_px=display.width_px if display else None,
            height_px=display.height_px if display else None,
            criteria=crit, points_total=float(sum(p for p in points.values())),
            max_total=round_.max_total, comment=review.comment if review else "",
            is_started=bool(points) or bool(review and review.comment),
            is_complete=all(c.points is not None for c in crit) and bool(crit),
            is_locked=locked, can_score=live and not locked,
            position=i + 1, queue_length=len(rows),
            prev_code=codes[i - 1] if i > 0 else None,
            next_code=codes[i + 1] if i + 1 < len(codes) else None))
    return views


def juror_entry(session: Session, juror: User, round_: Round, anon_code: str,
                image_url: Callable[[str], str] = default_image_url) -> JurorEntryView:
    """One entry of the juror's queue by its 评审编号. Raises `NotAssigned` when the code is
    not in the juror's active assignments of `round_`."""
    for view in juror_queue(session, juror, round_, image_url):
        if view.anon_code == anon_code:
            return view
    raise NotAssigned()


def resolve_entry(session: Session, juror: User, round_: Round,
                  entry_or_anon: Entry | str) -> Entry:
    """The entry a juror acts on, given an `Entry` or a 评审编号 of `round_`, checked against
    the juror's active assignments. Raises `NotAssigned` otherwise."""
    if isinstance(entry_or_anon, Entry):
        entry = entry_or_anon
    else:
        re = session.scalar(select(RoundEntry).where(RoundEntry.round_id == round_.id,
                                                     RoundEntry.anon_code == str(entry_or_anon)))
        if re is None:
            raise NotAssigned()
        entry = re.entry
    if entry.status != EntryStatus.submitted \
            or active_assignment(session, juror, entry.id, round_) is None:
        raise NotAssigned()
    return entry


def juror_rounds(session: Session, juror: User) -> list[JurorRoundView]:
    """Open rounds the juror takes part in, with their scored / assigned counts, newest
    first."""
    rjs = session.scalars(
        select(RoundJuror).join(Round).where(RoundJuror.juror_id == juror.id,
                                             Round.status == RoundStatus.open)
        .order_by(Round.id.desc()))
    out = []
    for rj in rjs:
        round_ = rj.round
        assigned = session.scalar(select(func.count(Assignment.id)).where(
            Assignment.round_id == round_.id, Assignment.juror_id == juror.id,
            _counts())) or 0
        out.append(JurorRoundView(
            round_id=round_.id, name=round_.name, kind=str(round_.kind),
            track_name=round_.track.name, opens_at=round_.opens_at, closes_at=round_.closes_at,
            assigned=assigned, scored=_scored_count(session, round_, juror.id),
            is_locked=rj.is_locked, submitted_at=rj.submitted_at,
            is_live=is_round_live(round_)))
    return out


def juror_round(session: Session, juror: User, round_id: int) -> Round:
    """The open round `round_id` if `juror` takes part in it. Raises `NotAssigned`
    otherwise (a 404 for the view)."""
    round_ = session.get(Round, round_id)
    if round_ is None or round_.status != RoundStatus.open \
            or _round_juror(session, juror, round_) is None:
        raise NotAssigned()
    return round_


def _scored_count(session: Session, round_: Round, juror_id: int) -> int:
    """Complete reviews of the juror's active assignments in `round_`."""
    n_criteria = len(round_.criteria)
    if n_criteria == 0:
        return 0
    sub = (select(Review.id).join(Score, Score.review_id == Review.id)
           .join(Assignment, (Assignment.round_id == Review.round_id)
                 & (Assignment.entry_id == Review.entry_id)
                 & (Assignment.juror_id == Review.juror_id))
           .where(Review.round_id == round_.id, Review.juror_id == juror_id,
                  _counts())
           .group_by(Review.id).having(func.count(Score.id) >= n_criteria))
    return session.scalar(select(func.count()).select_from(sub.subquery())) or 0


def parse_points(value: Any, name: str, max_points: float) -> float | None:
    """Points typed for criterion `name` → float, or None for empty (not scored).
    Accepts '12.5', '12，5', 12; must be 0..`max_points` in steps of 0.5.
    Raises `InvalidScore` (score_range, score_step)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidScore("score_range", criterion=name, max=max_points, actual=str(value))
    try:
        number = float(str(value).strip().replace("，", ".").replace(",", "."))
    except ValueError:
        raise InvalidScore("score_range", criterion=name, max=max_points,
                           actual=str(value)[:20]) from None
    if not math.isfinite(number) or number < 0 or number > max_points:
        raise InvalidScore("score_range", criterion=name, max=max_points,
                           actual=str(value)[:20])
    if number * 2 != math.floor(number * 2):
        raise InvalidScore("score_step", criterion=name, actual=str(value)[:20])
    return number


def save_scores(session: Session, juror: User, round_: Round, entry_or_anon: Entry | str,
                points: Mapping[int | str, Any], comment: str | None = None) -> Review:
    """Save (a draft of) the juror's score sheet for one entry; logged 'score.update' with
    the old and new values when anything changed.

    `entry_or_anon`: an `Entry` or its 评审编号 in `round_`. `points`: criterion id (int or
    numeric str) → points (number or numeric text; None/'' clears the criterion); criteria
    not named are left as they are. Points are 0..max_points in steps of 0.5 (RULES via
    issue #4: half points allowed). `comment`: None leaves it unchanged; at most
    `COMMENT_MAX_CHARS` characters. Validates everything before changing anything.
    Returns the `Review`. Raises `NotAssigned` (no active assignment), `RoundError`
    (round_not_open), `SheetLocked` (sheet submitted), `InvalidScore` (score_range,
    score_step, score_unknown_criterion, comment_too_long).
    """
    entry = resolve_entry(session, juror, round_, entry_or_anon)
    if not is_round_live(round_):
        raise RoundError("round_not_open")
    rj = _round_juror(session, juror, round_)
    if rj is None:
        raise NotAssigned()
    if rj.is_locked:
        raise SheetLocked()
    criteria = {c.id: c for c in round_.criteria}
    parsed: dict[int, float | None] = {}
    for key, value in points.items():
        try:
            cid = int(key)
        except (TypeError, ValueError):
            raise InvalidScore("score_unknown_criterion") from None
        criterion = criteria.get(cid)
        if criterion is None:
            raise InvalidScore("score_unknown_criterion")
        parsed[cid] = parse_points(value, criterion.name, criterion.max_points)
    if comment is not None:
        comment = comment.replace("\r\n", "\n").strip()
        if len(comment) > COMMENT_MAX_CHARS:
            raise InvalidScore("comment_too_long", max=COMMENT_MAX_CHARS, actual=len(comment))

    review = session.scalar(select(Review).where(Review.round_id == round_.id,
                                                 Review.entry_id == entry.id,
                                                 Review.juror_id == juror.id))
    if review is None:
        review = Review(round_id=round_.id, entry_id=entry.id, juror_id=juror.id, comment="")
        session.add(review)
        session.flush()
    by_criterion = {s.criterion_id: s for s in review.scores}
    old = {criteria[cid].name: s.points for cid, s in by_criterion.items() if cid in criteria}
    old_comment = review.comment
    for cid, value in parsed.items():
        score = by_criterion.get(cid)
        if value is None:
            if score is not None:
                review.scores.remove(score)
        elif score is None:
            review.scores.append(Score(criterion_id=cid, points=value))
        else:
            score.points = value
    if comment is not None:
        review.comment = comment
    session.flush()
    new = {criteria[s.criterion_id].name: s.points for s in review.scores}
    if new != old or review.comment != old_comment:
        review.updated_at = utcnow()
        session.flush()
        old_value: dict[str, Any] = {"scores": old}
        new_value: dict[str, Any] = {"scores": new}
        if review.comment != old_comment:
            old_value["comment"], new_value["comment"] = old_comment, review.comment
        log_event(session, juror, "score.update", review, old=old_value, new=new_value)
    return review


def submit_sheet(session: Session, juror: User, round_: Round) -> RoundJuror:
    """Submit (lock) the juror's score sheet of `round_`; logged 'sheet.submit'. Needs every
    active assignment scored on every criterion. Returns the `RoundJuror`.
    Raises `NotAssigned` (not a juror of the round), `RoundError` (round_not_open,
    sheet_incomplete with `missing`), `SheetLocked` (already submitted)."""
    rj = _round_juror(session, juror, round_)
    if rj is None:
        raise NotAssigned()
    if not is_round_live(round_):
        raise RoundError("round_not_open")
    if rj.is_locked:
        raise SheetLocked()
    assigned = session.scalar(select(func.count(Assignment.id)).where(
        Assignment.round_id == round_.id, Assignment.juror_id == juror.id,
        _counts())) or 0
    missing = assigned - _scored_count(session, round_, juror.id)
    if missing > 0:
        raise RoundError("sheet_incomplete", missing=missing)
    rj.submitted_at = utcnow()
    session.flush()
    log_event(session, juror, "sheet.submit", rj, old={"submitted_at": None},
              new={"submitted_at": rj.submitted_at.isoformat(), "entries": assigned})
    return rj


def unlock_sheet(session: Session, round_juror: RoundJuror, actor: User | None,
                 reason: str) -> RoundJuror:
    """An editor unlocks one juror's submitted sheet so they can change scores again;
    logged 'sheet.unlock' with the reason and the old submission time.
    Raises `RoundError` (reason_required, sheet_not_locked), `ResultsFinalised`."""
    from contest.scoring import ensure_round_open_for_results

    ensure_round_open_for_results(session, round_juror.round)
    reason = (reason or "").strip()
    if not reason:
        raise RoundError("reason_required")
    if not round_juror.is_locked:
        raise RoundError("sheet_not_locked")
    old = round_juror.submitted_at.isoformat()
    round_juror.submitted_at = None
    session.flush()
    log_event(session, actor, "sheet.unlock", round_juror, old={"submitted_at": old},
              new={"submitted_at": None}, reason=reason[:1000])
    return round_juror


def image_for_juror(session: Session, juror: User, token: str) -> EntryFile | None:
    """The juror image (juror_display / juror_thumb, current) with public token `token`, if
    `juror` has an active assignment for its entry in a live round; else None (a 404).
    Originals, previews and other kinds are never returned."""
    if not token or len(token) > 64:
        return None
    f = session.scalar(select(EntryFile).where(EntryFile.public_token == token))
    if f is None or f.kind not in JUROR_IMAGE_KINDS or not f.is_current:
        return None
    rounds = session.scalars(select(Round).join(Assignment, Assignment.round_id == Round.id)
                             .where(Assignment.entry_id == f.entry_id,
                                    Assignment.juror_id == juror.id,
                                    _counts(),
                                    Round.status == RoundStatus.open))
    return f if any(is_round_live(r) for r in rounds) else None


# ------------------------------------------------------------------ editors

def round_progress(session: Session, round_: Round) -> RoundProgress:
    """Editors' progress of `round_`: per juror (assigned, scored = complete reviews,
    submitted_at) and per entry (wanted k, assigned active jurors, complete reviews).
    Contains identities: editors only."""
    n_criteria = len(round_.criteria)
    assignments = list(session.scalars(select(Assignment).where(
        Assignment.round_id == round_.id, _counts())))
    complete: set[tuple[int, int]] = set()
    if n_criteria:
        for entry_id, juror_id in session.execute(
                select(Review.entry_id, Review.juror_id).join(Score)
                .where(Review.round_id == round_.id)
                .group_by(Review.id, Review.entry_id, Review.juror_id)
                .having(func.count(Score.id) >= n_criteria)):
            complete.add((entry_id, juror_id))
    per_juror_assigned: dict[int, int] = defaultdict(int)
    per_juror_scored: dict[int, int] = defaultdict(int)
    per_entry_assigned: dict[int, int] = defaultdict(int)
    per_entry_scored: dict[int, int] = defaultdict(int)
    for a in assignments:
        per_juror_assigned[a.juror_id] += 1
        per_entry_assigned[a.entry_id] += 1
        if (a.entry_id, a.juror_id) in complete:
            per_juror_scored[a.juror_id] += 1
            per_entry_scored[a.entry_id] += 1
    jurors = [JurorProgress(rj.id, rj.juror_id, rj.juror.login, rj.juror.display_name, rj.alias,
                            rj.juror.email, rj.juror.phone, per_juror_assigned[rj.juror_id],
                            per_juror_scored[rj.juror_id], rj.submitted_at)
              for rj in sorted(round_.jurors, key=lambda r: r.id)]
    entries = [EntryProgress(re.entry_id, re.entry.code, re.anon_code, re.entry.title,
                             round_.jurors_per_entry, per_entry_assigned[re.entry_id],
                             per_entry_scored[re.entry_id])
               for re in sorted(round_.round_entries, key=lambda r: r.anon_code)]
    return RoundProgress(jurors=jurors, entries=entries)
