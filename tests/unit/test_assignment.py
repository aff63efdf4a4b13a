"""Assignment (分配) and conflicts of interest (回避): issue #4's assignment tests."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from contest.assignment import (assign, can_be_assigned, declare_conflict, exclusion_reason,
                                record_conflict)
from contest.errors import NotAssigned, RoundError
from contest.judging import save_scores
from contest.models import (Assignment, AuditEvent, ConflictOfInterest, Review, Role,
                            TrackKind)
from contest.rounds import create_round, open_round
from tests import factories as f


def _jurors(session, n, units=None):
    units = units or [None] * n
    return [f.make_user(session, Role.juror, unit=units[i]) for i in range(n)]


def _entries(session, n, units):
    return [f.make_entry(session, units[i % len(units)]) for i in range(n)]


def _active(session, round_):
    return list(session.scalars(select(Assignment).where(Assignment.round_id == round_.id,
                                                         Assignment.is_active.is_(True))))


def _full_points(round_, value=10):
    return {c.id: min(value, c.max_points) for c in round_.criteria}


def test_every_entry_gets_k_jurors_and_loads_are_balanced(session, contest):
    units = [f.make_unit(session) for _ in range(6)]
    entries = _entries(session, 23, units)
    jurors = _jurors(session, 7)
    round_ = create_round(session, contest.track(TrackKind.vet_week), kind="preliminary",
                          name="初评", jurors=jurors, seed=11)
    report = open_round(session, round_, actor=None)
    per_entry = Counter(a.entry_id for a in _active(session, round_))
    assert {e.id for e in entries} == set(per_entry)
    assert set(per_entry.values()) == {3}
    loads = Counter(a.juror_id for a in _active(session, round_))
    assert sum(loads.values()) == 69
    assert max(loads.values()) - min(loads.values()) <= 1
    assert report.load_spread <= 1 and report.shortfalls == []
    assert report.created == 69


def test_final_round_defaults_to_every_juror(session, contest):
    units = [f.make_unit(session) for _ in range(3)]
    _entries(session, 5, units)
    jurors = _jurors(session, 4)
    round_ = create_round(session, contest.track(TrackKind.vet_week), kind="final",
                          name="终评", jurors=jurors)
    open_round(session, round_, actor=None)
    assert round_.jurors_per_entry == 4
    assert set(Counter(a.entry_id for a in _active(session, round_)).values()) == {4}


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_no_conflict_is_ever_assigned(session, contest, seed):
    rng = random.Random(seed)
    contest.exclude_same_city_jurors = seed % 2 == 0
    cities = ["太原市", "大同市", "长治市", "运城市"]
    units = [f.make_unit(session, city=rng.choice(cities)) for _ in range(8)]
    entries = _entries(session, 30, units)
    # jurors from entrant units and from elsewhere; recorded conflicts on units and entries
    jurors = _jurors(session, 9, [rng.choice(units + [None, None]) for _ in range(9)])
    for juror in jurors[:3]:
        record_conflict(session, juror, unit=rng.choice(units), reason="曾任该校兼职教师",
                        actor=None)
        record_conflict(session, juror, entry=rng.choice(entries), reason="亲属作品",
                        actor=None)
    round_ = create_round(session, contest.track(TrackKind.vet_week), kind="preliminary",
                          name="初评", jurors=jurors, seed=seed)
    report = open_round(session, round_, actor=None)
    cois = list(session.scalars(select(ConflictOfInterest)))
    juror_by_id = {j.id: j for j in jurors}
    entry_by_id = {e.id: e for e in entries}
    for a in _active(session, round_):
        juror, entry = juror_by_id[a.juror_id], entry_by_id[a.entry_id]
        assert juror.unit_id is None or juror.unit_id != entry.unit_id
        if contest.exclude_same_city_jurors and juror.unit is not None:
            assert juror.unit.city_id != entry.unit.city_id
        for coi in cois:
            if coi.juror_id == juror.id:
                assert coi.entry_id != entry.id and coi.unit_id != entry.unit_id
        assert exclusion_reason(juror, entry, round_) is None
    # every entry gets min(3, allowed jurors); any shortfall is reported, never filled wrongly
    per_entry = Counter(a.entry_id for a in _active(session, round_))
    for entry in entries:
        allowed = sum(can_be_assigned(j, entry, round_) for j in jurors)
        assert per_entry[entry.id] == min(3, allowed)
    assert {s.entry_id for s in report.shortfalls} == {
        e.id for e in entries if per_entry[e.id] < 3}


def test_same_unit_and_same_city_exclusion_reasons(session, contest):
    unit = f.make_unit(session, city="大同市")
    neighbour = f.make_unit(session, city="大同市")
    entry = f.make_entry(session, unit)
    jurors = _jurors(session, 3, [unit, neighbour, None])
    round_ = _dummy_round(session, contest, jurors)
    assert exclusion_reason(jurors[0], entry, round_) == "same_unit"
    assert exclusion_reason(jurors[1], entry, round_) is None
    contest.exclude_same_city_jurors = True
    assert exclusion_reason(jurors[1], entry, round_) == "same_city"
    assert exclusion_reason(jurors[2], entry, round_) is None


def _dummy_round(session, contest, jurors):
    return create_round(session, contest.track(TrackKind.vet_week), kind="preliminary",
                        name="初评", jurors=jurors, seed=1)


def test_shortfall_when_too_few_jurors_allowed(session, contest):
    unit = f.make_unit(session)
    entry = f.make_entry(session, unit)
    jurors = _jurors(session, 3, [unit, None, None])
    round_ = _dummy_round(session, contest, jurors)
    report = open_round(session, round_, actor=None)
    assert [(s.entry_id, s.wanted, s.assigned) for s in report.shortfalls] == [(entry.id, 3, 2)]
    assert jurors[0].id not in {a.juror_id for a in _active(session, round_)}


def _pairs(session, round_):
    return sorted((a.entry_id, a.juror_id, a.order_key) for a in _active(session, round_))


def test_assignment_is_deterministic_for_a_seed(session, contest):
    units = [f.make_unit(session) for _ in range(5)]
    _entries(session, 17, units)
    jurors = _jurors(session, 6, [units[0], units[1], None, None, None, None])
    track = contest.track(TrackKind.vet_week)
    r1 = create_round(session, track, kind="preliminary", name="初评一", jurors=jurors, seed=42)
    r2 = create_round(session, track, kind="preliminary", name="初评二", jurors=jurors, seed=42)
    r3 = create_round(session, track, kind="preliminary", name="初评三", jurors=jurors, seed=43)
    for r in (r1, r2, r3):
        open_round(session, r, actor=None)
    assert _pairs(session, r1) == _pairs(session, r2)
    assert _pairs(session, r1) != _pairs(session, r3)


def test_each_juror_has_an_own_shuffled_order(session, contest):
    units = [f.make_unit(session) for _ in range(4)]
    _entries(session, 12, units)
    jurors = _jurors(session, 3)
    round_ = _dummy_round(session, contest, jurors)
    open_round(session, round_, actor=None)
    orders = []
    for j in jurors:
        rows = sorted((a for a in _active(session, round_) if a.juror_id == j.id),
                      key=lambda a: a.order_key)
        orders.append([a.entry_id for a in rows])
    assert all(len(o) == 12 for o in orders)
    assert len({tuple(o) for o in orders}) == 3  # not the same order for everyone
    assert all(o != sorted(o) for o in orders)  # not entry-id (submission) order


def test_declared_conflict_is_reassigned(session, contest):
    units = [f.make_unit(session) for _ in range(4)]
    entries = _entries(session, 8, units)
    jurors = _jurors(session, 5)
    round_ = _dummy_round(session, contest, jurors)
    open_round(session, round_, actor=None)
    a = next(a for a in _active(session, round_) if a.entry_id == entries[0].id)
    juror = next(j for j in jurors if j.id == a.juror_id)
    save_scores(session, juror, round_, entries[0], {round_.criteria[0].id: 12}, "草稿")
    new_juror = declare_conflict(session, juror, round_, entries[0], "指导过该作品的作者")
    assert new_juror is not None and new_juror.id != juror.id
    holders = {x.juror_id for x in _active(session, round_) if x.entry_id == entries[0].id}
    assert len(holders) == 3 and juror.id not in holders and new_juror.id in holders
    coi = session.scalar(select(ConflictOfInterest).where(
        ConflictOfInterest.juror_id == juror.id, ConflictOfInterest.entry_id == entries[0].id))
    assert coi.reason == "指导过该作品的作者" and coi.declared_by_id == juror.id
    # the conflicted juror's draft no longer counts anywhere, and is kept in the audit log
    assert session.scalar(select(Review).where(Review.juror_id == juror.id,
                                               Review.entry_id == entries[0].id)) is None
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "conflict.declare" in actions and "assignment.deactivate" in actions
    deact = session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.deactivate"))
    assert deact.old["scores"] == {str(round_.criteria[0].id): 12.0}
    # running assignment again never gives the entry back to the conflicted juror
    assign(session, round_)
    assert juror.id not in {x.juror_id for x in _active(session, round_)
                            if x.entry_id == entries[0].id}
    with pytest.raises(NotAssigned):
        declare_conflict(session, juror, round_, entries[0], "再次回避")


def test_declare_conflict_needs_a_reason(session, contest):
    units = [f.make_unit(session) for _ in range(2)]
    entries = _entries(session, 2, units)
    jurors = _jurors(session, 3)
    round_ = _dummy_round(session, contest, jurors)
    open_round(session, round_, actor=None)
    with pytest.raises(RoundError) as err:
        declare_conflict(session, jurors[0], round_, entries[0], "   ")
    assert err.value.code == "reason_required"


def test_rerun_keeps_existing_assignments_and_scores(session, contest):
    units = [f.make_unit(session) for _ in range(4)]
    entries = _entries(session, 10, units)
    jurors = _jurors(session, 5)
    round_ = _dummy_round(session, contest, jurors)
    open_round(session, round_, actor=None)
    before = _pairs(session, round_)
    juror = jurors[0]
    mine = [a.entry_id for a in _active(session, round_) if a.juror_id == juror.id]
    for eid in mine:
        entry = next(e for e in entries if e.id == eid)
        save_scores(session, juror, round_, entry, _full_points(round_), "好")
    report = assign(session, round_)
    assert report.created == 0 and report.removed == 0 and report.kept == len(before)
    assert _pairs(session, round_) == before
    reviews = list(session.scalars(select(Review).where(Review.juror_id == juror.id)))
    assert len(reviews) == len(mine) and all(r.is_complete for r in reviews)
    # a new juror and a larger k: only the gaps are filled, scored assignments stay
    round_.jurors_per_entry = 4
    from contest.rounds import add_juror

    add_juror(session, round_, f.make_user(session, Role.juror), actor=None)
    report = assign(session, round_)
    assert report.created == 10 and report.removed == 0
    assert set(before) <= set(_pairs(session, round_))
    assert len(list(session.scalars(select(Review).where(Review.juror_id == juror.id)))) \
        == len(mine)


def test_recorded_conflict_after_assignment_moves_the_entry(session, contest):
    units = [f.make_unit(session) for _ in range(3)]
    entries = _entries(session, 6, units)
    jurors = _jurors(session, 4)
    round_ = _dummy_round(session, contest, jurors)
    open_round(session, round_, actor=None)
    a = _active(session, round_)[0]
    juror = next(j for j in jurors if j.id == a.juror_id)
    entry = next(e for e in entries if e.id == a.entry_id)
    record_conflict(session, juror, unit=entry.unit, reason="该校校友", actor=None)
    report = assign(session, round_)
    assert report.removed >= 1
    for x in _active(session, round_):
        if x.juror_id == juror.id:
            assert next(e for e in entries if e.id == x.entry_id).unit_id != entry.unit_id
    per_entry = Counter(x.entry_id for x in _active(session, round_))
    assert set(per_entry.values()) == {3}
