"""Juror ↔ entry assignment (分配) with conflicts of interest (回避) taken out first.

Rules (issue #4, STYLE.md §4): each entry of a round gets k jurors (k = the round's
`jurors_per_entry`, capped by the jurors who may judge it); juror loads are balanced within
one entry where the exclusions allow; the result is deterministic for `Round.seed`. A juror
never judges an entry of their own unit (`User.unit_id`), nor one of their city when
`Contest.exclude_same_city_jurors` is on, nor an entry or unit named in a
`ConflictOfInterest`. Re-running is idempotent: valid assignments and their scores stay, only
gaps are filled. Each juror sees their entries in their own shuffled order (`order_key`).
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from contest.errors import NotAssigned, RoundError, SheetLocked
from contest.models import (Assignment, ConflictOfInterest, Entry, Review, Role, Round,
                            RoundEntry, RoundJuror, Unit, User, log_event)

ORDER_KEY_BITS = 31  # fits a signed 32-bit INTEGER on PostgreSQL


@dataclass(frozen=True)
class Shortfall:
    """An entry that got fewer jurors than the round asks for: `wanted` is the round's k,
    `assigned` how many jurors it has (all the jurors allowed to judge it)."""

    entry_id: int
    anon_code: str
    wanted: int
    assigned: int


@dataclass
class AssignmentReport:
    """Outcome of one `assign` run. `loads`: juror id → active assignments in the round
    (every juror of the round, zero included). `removed`: assignments deactivated because the
    juror is now excluded or left the round."""

    created: int = 0
    kept: int = 0
    removed: int = 0
    shortfalls: list[Shortfall] = field(default_factory=list)
    loads: dict[int, int] = field(default_factory=dict)

    @property
    def total_active(self) -> int:
        return sum(self.loads.values())

    @property
    def load_spread(self) -> int:
        """Max minus min load over the round's jurors (0 when there are none)."""
        return (max(self.loads.values()) - min(self.loads.values())) if self.loads else 0


class _Exclusions:
    """The exclusion rules for one round, loaded once: who may not judge what."""

    def __init__(self, session: Session, round_: Round, juror_ids: list[int]) -> None:
        self.same_city = bool(round_.track.contest.exclude_same_city_jurors)
        self.entry_conflicts: set[tuple[int, int]] = set()
        self.unit_conflicts: set[tuple[int, int]] = set()
        if juror_ids:
            for coi in session.scalars(select(ConflictOfInterest)
                                       .where(ConflictOfInterest.juror_id.in_(juror_ids))):
                if coi.entry_id is not None:
                    self.entry_conflicts.add((coi.juror_id, coi.entry_id))
                if coi.unit_id is not None:
                    self.unit_conflicts.add((coi.juror_id, coi.unit_id))

    def reason(self, juror: User, entry: Entry) -> str | None:
        """'same_unit', 'same_city', 'conflict' or None when `juror` may judge `entry`."""
        if juror.unit_id is not None and juror.unit_id == entry.unit_id:
            return "same_unit"
        if (juror.id, entry.id) in self.entry_conflicts \
                or (juror.id, entry.unit_id) in self.unit_conflicts:
            return "conflict"
        if self.same_city and juror.unit is not None and juror.unit.city_id is not None \
                and juror.unit.city_id == entry.unit.city_id:
            return "same_city"
        return None


def order_key(seed: int, juror_id: int, entry_id: int) -> int:
    """A juror's private, stable sort key for an entry: a hash of (seed, juror, entry), so
    each juror gets their own shuffled queue that does not follow entry ids or submission
    order, and adding entries later does not reshuffle it."""
    digest = hashlib.sha256(f"{seed}:{juror_id}:{entry_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & ((1 << ORDER_KEY_BITS) - 1)


def exclusion_reason(juror: User, entry: Entry, round_: Round) -> str | None:
    """Why `juror` may not judge `entry` in `round_`: 'same_unit', 'same_city' (when the
    contest's exclude_same_city_jurors is on), 'conflict' (a recorded 回避 on the entry or its
    unit), or None when allowed."""
    session = object_session(round_)
    return _Exclusions(session, round_, [juror.id]).reason(juror, entry)


def can_be_assigned(juror: User, entry: Entry, round_: Round) -> bool:
    """True when `juror` is an active juror who may judge `entry` in `round_` under the
    exclusion rules (see `exclusion_reason`)."""
    return (juror.role == Role.juror and juror.is_active_account
            and exclusion_reason(juror, entry, round_) is None)


def active_assignment(session: Session, juror: User, entry_id: int,
                      round_: Round) -> Assignment | None:
    """The active assignment of `juror` to entry `entry_id` in `round_`, or None."""
    return session.scalar(select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.entry_id == entry_id,
        Assignment.juror_id == juror.id, Assignment.is_active.is_(True)))


def can_view(juror: User, entry: Entry, round_: Round) -> bool:
    """True when `juror` may see `entry` (its juror images and anonymised fields) in
    `round_`: an active assignment and the round live (open, inside its time window)."""
    from contest.rounds import is_round_live

    session = object_session(round_)
    return (juror.is_active_account and is_round_live(round_)
            and active_assignment(session, juror, entry.id, round_) is not None)


def can_score(juror: User, entry: Entry, round_: Round) -> bool:
    """True when `juror` may change their scores for `entry` in `round_`: `can_view` and
    their score sheet for the round is not locked (submitted)."""
    if not can_view(juror, entry, round_):
        return False
    session = object_session(round_)
    rj = session.scalar(select(RoundJuror).where(RoundJuror.round_id == round_.id,
                                                 RoundJuror.juror_id == juror.id))
    return rj is not None and not rj.is_locked


def _deactivate(session: Session, assignment: Assignment, actor: User | None,
                reason: str) -> None:
    """Deactivate `assignment` and delete the juror's review of that entry (its scores are
    kept in the audit log as the old value), so results never count a conflicted juror."""
    assignment.is_active = False
    review = session.scalar(select(Review).where(Review.round_id == assignment.round_id,
                                                 Review.entry_id == assignment.entry_id,
                                                 Review.juror_id == assignment.juror_id))
    old: dict = {"juror_id": assignment.juror_id, "entry_id": assignment.entry_id}
    if review is not None:
        old["scores"] = {str(s.criterion_id): s.points for s in review.scores}
        old["comment"] = review.comment
        session.delete(review)
    session.flush()
    log_event(session, actor, "assignment.deactivate", assignment, old=old,
              new={"is_active": False}, reason=reason)


def assign(session: Session, round_: Round, *, actor: User | None = None) -> AssignmentReport:
    """Give every entry of `round_` its k jurors; return an `AssignmentReport`.

    Order of work: (1) deactivate assignments whose juror left the round, was deactivated or
    is now excluded (their draft review is deleted, logged); (2) keep the rest; (3) fill
    each entry's gap up to k = min(round_.jurors_per_entry, jurors allowed for it), the most
    constrained entries first, each time taking the allowed juror with the lowest load —
    unlocked sheets first, ties broken by a permutation seeded with `round_.seed`; (4) move
    assignments made in this run from the most to the least loaded juror while loads differ
    by more than one and a move is allowed. Deterministic for a given seed and data.
    A juror picked after submitting their sheet gets it reopened (logged 'sheet.reopen').
    Logged 'round.assign'. Raises nothing for shortfalls: they are in the report.
    """
    round_jurors = [rj for rj in session.scalars(
        select(RoundJuror).where(RoundJuror.round_id == round_.id)
        .options(selectinload(RoundJuror.juror).selectinload(User.unit))
        .order_by(RoundJuror.id))
        if rj.juror.role == Role.juror and rj.juror.is_active_account]
    jurors = {rj.juror_id: rj.juror for rj in round_jurors}
    sheet = {rj.juror_id: rj for rj in round_jurors}
    round_entries = list(session.scalars(
        select(RoundEntry).where(RoundEntry.round_id == round_.id)
        .options(selectinload(RoundEntry.entry).selectinload(Entry.unit)
                 .selectinload(Unit.city))
        .order_by(RoundEntry.entry_id)))
    excl = _Exclusions(session, round_, list(jurors))
    report = AssignmentReport()

    rows: dict[tuple[int, int], Assignment] = {
        (a.entry_id, a.juror_id): a for a in session.scalars(
            select(Assignment).where(Assignment.round_id == round_.id))}
    entry_by_id = {re.entry_id: re.entry for re in round_entries}
    for (entry_id, juror_id), a in sorted(rows.items()):
        if not a.is_active:
            continue
        juror = jurors.get(juror_id)
        entry = entry_by_id.get(entry_id)
        why = ("left_round" if juror is None else "entry_left_round" if entry is None
               else excl.reason(juror, entry))
        if why:
            _deactivate(session, a, actor, why)
            report.removed += 1
        else:
            report.kept += 1

    active: dict[int, set[int]] = defaultdict(set)  # entry id → juror ids
    loads = dict.fromkeys(jurors, 0)
    for (entry_id, juror_id), a in rows.items():
        if a.is_active:
            active[entry_id].add(juror_id)
            loads[juror_id] += 1

    rng = random.Random(round_.seed)
    juror_rank = {jid: i for i, jid in enumerate(rng.sample(sorted(jurors), len(jurors)))}
    allowed = {re.entry_id: [jid for jid, j in jurors.items()
                             if excl.reason(j, re.entry) is None] for re in round_entries}
    entry_tiebreak = {re.entry_id: rng.random() for re in round_entries}
    wanted = round_.jurors_per_entry
    todo = sorted(round_entries,
                  key=lambda re: (len(allowed[re.entry_id]), entry_tiebreak[re.entry_id]))
    new_pairs: list[tuple[int, int]] = []
    for re in todo:
        eid = re.entry_id
        k = min(wanted, len(allowed[eid]))
        candidates = [jid for jid in allowed[eid] if jid not in active[eid]]
        while len(active[eid]) < k and candidates:
            candidates.sort(key=lambda jid: (sheet[jid].is_locked, loads[jid], juror_rank[jid]))
            jid = candidates.pop(0)
            active[eid].add(jid)
            loads[jid] += 1
            new_pairs.append((eid, jid))

    _rebalance(new_pairs, active, allowed, loads, juror_rank, sheet)

    for eid, jid in sorted(new_pairs):
        a = rows.get((eid, jid))
        if a is None:
            a = Assignment(round_id=round_.id, entry_id=eid, juror_id=jid,
                           order_key=order_key(round_.seed, jid, eid))
            session.add(a)
            rows[(eid, jid)] = a
        else:  # the juror was allowed again (e.g. an editor removed a wrong 回避 record)
            a.is_active = True
        report.created += 1
    for jid in {jid for _eid, jid in new_pairs}:
        rj = sheet[jid]
        if rj.is_locked:
            old = rj.submitted_at.isoformat()
            rj.submitted_at = None
            log_event(session, actor, "sheet.reopen", rj, old={"submitted_at": old},
                      new={"submitted_at": None}, reason="new_assignment")
    session.flush()

    for re in round_entries:
        got = len(active[re.entry_id])
        if got < wanted:
            report.shortfalls.append(Shortfall(re.entry_id, re.anon_code, wanted, got))
    report.loads = loads
    log_event(session, actor, "round.assign", round_,
              new={"created": report.created, "kept": report.kept, "removed": report.removed,
                   "pairs": [list(p) for p in sorted(new_pairs)],
                   "shortfalls": [[s.entry_id, s.assigned] for s in report.shortfalls],
                   "load_spread": report.load_spread})
    return report


def _rebalance(new_pairs: list[tuple[int, int]], active: dict[int, set[int]],
               allowed: dict[int, list[int]], loads: dict[int, int],
               juror_rank: dict[int, int], sheet: dict[int, RoundJuror]) -> None:
    """Move assignments made in this run from heavy to light jurors while loads differ by
    more than one and some move keeps every rule. Deterministic: jurors by (load, rank),
    pairs in list order. Kept (older) assignments never move: their scores stay."""
    allowed_sets = {eid: set(jids) for eid, jids in allowed.items()}
    for _ in range(len(new_pairs) + 1):
        order = sorted(loads, key=lambda jid: (loads[jid], juror_rank[jid]))
        moved = False
        for hi in reversed(order):
            for lo in order:
                if loads[hi] - loads[lo] <= 1:
                    break
                if sheet[lo].is_locked and not sheet[hi].is_locked:
                    continue
                for i, (eid, jid) in enumerate(new_pairs):
                    if jid == hi and lo in allowed_sets[eid] and lo not in active[eid]:
                        active[eid].discard(hi)
                        active[eid].add(lo)
                        loads[hi] -= 1
                        loads[lo] += 1
                        new_pairs[i] = (eid, lo)
                        moved = True
                        break
                if moved:
                    break
            if moved:
                break
        if not moved:
            return


def declare_conflict(session: Session, juror: User, round_: Round, entry: Entry,
                     reason: str) -> User | None:
    """The juror declares a conflict of interest (回避) on `entry` in `round_` with a reason.

    Deactivates the assignment (deleting the juror's draft review, logged), records a
    `ConflictOfInterest` (declared by the juror), logs 'conflict.declare', and reassigns the
    entry to another allowed juror (`assign`). Returns the new juror, or None when no other
    juror may take it (the shortfall shows in editors' progress).
    Raises `NotAssigned` (no active assignment), `RoundError` (round_not_open,
    reason_required) and `SheetLocked` (the juror already submitted the round).
    """
    from contest.rounds import is_round_live

    reason = (reason or "").strip()
    assignment = active_assignment(session, juror, entry.id, round_)
    if assignment is None:
        raise NotAssigned()
    if not is_round_live(round_):
        raise RoundError("round_not_open")
    rj = session.scalar(select(RoundJuror).where(RoundJuror.round_id == round_.id,
                                                 RoundJuror.juror_id == juror.id))
    if rj is not None and rj.is_locked:
        raise SheetLocked()
    if not reason:
        raise RoundError("reason_required")
    coi = ConflictOfInterest(juror_id=juror.id, entry_id=entry.id, reason=reason[:1000],
                             declared_by_id=juror.id)
    session.add(coi)
    session.flush()
    log_event(session, juror, "conflict.declare", coi,
              new={"juror_id": juror.id, "entry_id": entry.id, "round_id": round_.id},
              reason=reason[:1000])
    _deactivate(session, assignment, juror, "conflict")
    before = set(session.scalars(select(Assignment.juror_id).where(
        Assignment.round_id == round_.id, Assignment.entry_id == entry.id,
        Assignment.is_active.is_(True))))
    assign(session, round_, actor=juror)
    after = list(session.scalars(select(Assignment.juror_id).where(
        Assignment.round_id == round_.id, Assignment.entry_id == entry.id,
        Assignment.is_active.is_(True)).order_by(Assignment.id)))
    new_ids = [jid for jid in after if jid not in before]
    return session.get(User, new_ids[0]) if new_ids else None


def record_conflict(session: Session, juror: User, *, entry: Entry | None = None,
                    unit: Unit | None = None, reason: str, actor: User | None
                    ) -> ConflictOfInterest:
    """An editor records a 回避 of `juror` against `entry` or a whole `unit` (at least one).
    Logged 'conflict.record'. Open rounds pick it up at their next `assign` run, which
    moves the affected entries to other jurors. Raises `RoundError` (reason_required)."""
    reason = (reason or "").strip()
    if not reason:
        raise RoundError("reason_required")
    if entry is None and unit is None:
        raise ValueError("record_conflict needs an entry or a unit")
    coi = ConflictOfInterest(juror_id=juror.id, entry_id=entry.id if entry else None,
                             unit_id=unit.id if unit else None, reason=reason[:1000],
                             declared_by_id=actor.id if actor else None)
    session.add(coi)
    session.flush()
    log_event(session, actor, "conflict.record", coi,
              new={"juror_id": juror.id, "entry_id": coi.entry_id, "unit_id": coi.unit_id},
              reason=reason[:1000])
    return coi
