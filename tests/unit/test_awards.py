"""Award tiers, vacant tiers, overrides, finalisation and the organisation-award rule."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contest import awards, scoring
from contest.errors import AwardError, ResultsFinalised
from contest.models import (AuditEvent, AwardTier, EntryStatus, OrganisationAward, QuotaMode,
                            Role, TrackKind)
from tests import factories

F, S, T, M = AwardTier.first, AwardTier.second, AwardTier.third, AwardTier.merit
ONE = [("总分", "", 100)]


# ----------------------------------------------------------------- pure rules


@pytest.mark.parametrize(("mode", "quotas", "vacant", "n", "expected"), [
    ("percent", {F: 10, S: 20, T: 30, M: 40}, [], 10, {F: 1, S: 2, T: 3, M: 4}),
    ("percent", {F: 10, S: 20, T: 30, M: 40}, [], 20, {F: 2, S: 4, T: 6, M: 8}),
    # 4 entries: first forced to 1; 0.8 → 1; 1.2 → 1; 1.6 → 2 but only 1 entry is left
    ("percent", {F: 10, S: 20, T: 30, M: 40}, [], 4, {F: 1, S: 1, T: 1, M: 1}),
    # 15 entries: 1.5 → 2 (half up), 3, 4.5 → 5, 0
    ("percent", {F: 10, S: 20, T: 30, M: 0}, [], 15, {F: 2, S: 3, T: 5, M: 0}),
    ("count", {F: 2, S: 3, T: 4, M: 5}, [], 8, {F: 2, S: 3, T: 3, M: 0}),
    ("count", {F: 1, S: 2, T: 3, M: 4}, [F], 10, {F: 0, S: 2, T: 3, M: 4}),
    ("percent", {F: 10, S: 20, T: 30, M: 40}, [F, M], 10, {F: 0, S: 2, T: 3, M: 0}),
    ("count", {F: 1, S: 2, T: 3, M: 4}, [], 0, {F: 0, S: 0, T: 0, M: 0}),
])
def test_tier_counts(mode, quotas, vacant, n, expected):
    assert awards.tier_counts(mode, quotas, vacant, n) == expected


def test_ties_at_a_boundary_all_get_the_better_tier_and_the_next_tier_shrinks():
    ordered = [(1, 1), (2, 1), (3, 3), (4, 4), (5, 5)]
    tiers = awards.place(ordered, {F: 1, S: 2, T: 1, M: 0})
    # cut-offs: first ≤ 1, second ≤ 3, third ≤ 4
    assert tiers == {1: F, 2: F, 3: S, 4: T, 5: None}


def test_a_vacant_first_tier_is_not_passed_on():
    ordered = [(1, 1), (2, 2), (3, 3), (4, 4)]
    counts = awards.tier_counts("count", {F: 1, S: 2, T: 1, M: 0}, [F], 4)
    assert awards.place(ordered, counts) == {1: S, 2: S, 3: T, 4: None}


def test_rerank_keeps_ties_after_removing_entries():
    assert awards.rerank([(1, 1), (5, 3), (6, 3), (7, 5)]) == [(1, 1), (5, 2), (6, 2), (7, 4)]


def test_organisation_rule_thresholds_ranking_and_cap():
    stats = [awards.UnitStats(1, "甲校", submitted=5, awarded=2, points=8),
             awards.UnitStats(2, "乙校", submitted=3, awarded=2, points=8),
             awards.UnitStats(3, "丙校", submitted=4, awarded=1, points=1),
             awards.UnitStats(4, "丁校", submitted=2, awarded=2, points=10),  # too few entries
             awards.UnitStats(5, "戊校", submitted=6, awarded=0, points=0)]  # no award
    ranked = awards.rank_units(stats, min_entries=3, min_awards=1, max_units=1)
    assert [(s.unit_name, s.rank, s.is_proposed) for s in ranked] == [
        ("甲校", 1, True),  # equal points and awards with 乙校; more entries
        ("乙校", 2, False), ("丙校", 3, False), ("丁校", None, False), ("戊校", None, False)]
    tied = [awards.UnitStats(1, "甲校", 3, 2, 8), awards.UnitStats(2, "乙校", 3, 2, 8)]
    assert [s.is_proposed for s in awards.rank_units(tied, min_entries=3, min_awards=1,
                                                     max_units=1)] == [True, True]
    uncapped = awards.rank_units(stats, min_entries=0, min_awards=0, max_units=0)
    assert all(s.is_proposed for s in uncapped)


def test_split_advisers():
    assert awards.split_advisers("王老师、李老师, 赵老师；钱老师") == ["王老师", "李老师",
                                                                  "赵老师", "钱老师"]
    assert awards.split_advisers("") == []


# ----------------------------------------------------------------- database


@pytest.fixture
def track_round(session, contest):
    """Ten entries of VET week from five units (two each), means 90, 85, … 45 by three
    jurors; all sheets submitted."""
    jurors = [factories.make_user(session, Role.juror) for _ in range(3)]
    units = [factories.make_unit(session, f"第{i}职业学校") for i in range(1, 6)]
    entries = [factories.make_entry(session, units[i // 2], title=f"作品{i + 1}",
                                    adviser="王老师、李老师" if i < 2 else f"教师{i}")
               for i in range(10)]
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors, criteria=ONE,
                                          kind="final", name="终评")
    for i, entry in enumerate(entries):
        for delta, juror in zip((-1, 0, 1), jurors, strict=True):
            factories.make_review(session, round_, entry, juror, [90 - 5 * i + delta])
    session.commit()
    return contest.track(TrackKind.vet_week), round_, entries


def tiers_of(session, track):
    return [(w.entry.title, w.tier) for w in awards.winners(session, track)]


def test_default_plan_places_one_two_three_four(session, track_round, editor):
    track, round_, entries = track_round
    awards.apply_placement(session, track, editor)
    session.commit()
    won = awards.winners(session, track)
    assert [w.tier for w in won] == [F, S, S, T, T, T, M, M, M, M]
    assert [w.entry.id for w in won] == [e.id for e in entries]
    assert won[0].rank == 1 and won[0].aggregate == pytest.approx(90)
    assert [w.position for w in won] == list(range(1, 11))
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "awards.place"))
    assert event.new["counts"] == {"first": 1, "second": 2, "third": 3, "merit": 4}


def test_plan_by_counts_with_a_vacant_tier(session, track_round, editor):
    track, _, entries = track_round
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={F: 1, S: 2, T: 3, M: 0}, vacant=[F])
    awards.apply_placement(session, track, editor)
    assert tiers_of(session, track) == [("作品1", S), ("作品2", S), ("作品3", T),
                                        ("作品4", T), ("作品5", T)]
    with pytest.raises(AwardError) as err:
        awards.update_plan(session, track, editor, quota_mode="percent",
                           quotas={F: 30, S: 30, T: 30, M: 30})
    assert err.value.code == "plan_percent_sum" and err.value.params["total"] == 120
    with pytest.raises(AwardError):
        awards.update_plan(session, track, editor, quota_mode="count", quotas={F: 1.5})


def test_override_needs_a_reason_is_logged_and_uses_no_quota(session, track_round, editor):
    track, _, entries = track_round
    awards.update_plan(session, track, editor, quota_mode=QuotaMode.count,
                       quotas={F: 1, S: 1, T: 1, M: 0})
    awards.apply_placement(session, track, editor)
    with pytest.raises(AwardError) as err:
        awards.override_award(session, track, entries[0], None, "  ", editor)
    assert err.value.code == "override_reason_required"
    # the best entry loses its award (e.g. an objection upheld): the others move up
    awards.override_award(session, track, entries[0], None, "经核实存在署名争议", editor)
    assert tiers_of(session, track) == [("作品2", F), ("作品3", S), ("作品4", T)]
    # the 8th entry is raised to second: it takes no quota from the others
    awards.override_award(session, track, entries[7], S, "评审组复议提高等次", editor)
    assert tiers_of(session, track) == [("作品2", F), ("作品3", S), ("作品8", S),
                                        ("作品4", T)]
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "awards.override")
                             .order_by(AuditEvent.id)).all()
    assert [(e.old["tier"], e.new["tier"], e.reason) for e in events] == [
        ("first", None, "经核实存在署名争议"), (None, "second", "评审组复议提高等次")]
    placements = {p.entry_id: p for p in awards.compute_placement(session, track)}
    assert placements[entries[0].id].computed_tier == F
    assert placements[entries[0].id].is_override and placements[entries[0].id].tier is None
    awards.clear_override(session, track, entries[0], editor)
    assert tiers_of(session, track)[0] == ("作品1", F)


def test_disqualified_entries_are_not_placed(session, track_round, editor):
    track, _, entries = track_round
    entries[0].status = EntryStatus.disqualified
    session.flush()
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={F: 1, S: 0, T: 0, M: 0})
    awards.apply_placement(session, track, editor)
    assert tiers_of(session, track) == [("作品2", F)]


def test_finalise_makes_results_read_only_and_logs_the_reveal(session, track_round, editor):
    track, round_, entries = track_round
    with pytest.raises(AwardError) as err:
        awards.finalise(session, track, editor)
    assert err.value.code == "awards_not_placed"
    awards.apply_placement(session, track, editor)
    assert awards.finalise(session, track, editor) == [track]
    session.commit()
    assert awards.is_finalised(session, track)
    reveal = session.scalar(select(AuditEvent)
                            .where(AuditEvent.action == "results.reveal_names"))
    assert reveal.new["entries"] == [e.code for e in entries]
    assert reveal.actor_id == editor.id
    with pytest.raises(ResultsFinalised):
        awards.apply_placement(session, track, editor)
    with pytest.raises(ResultsFinalised):
        awards.override_award(session, track, entries[3], F, "理由", editor)
    with pytest.raises(ResultsFinalised):
        awards.update_plan(session, track, editor, quota_mode="count", quotas={F: 2})
    with pytest.raises(ResultsFinalised):
        scoring.set_method(session, round_, editor, method="zscore")
    with pytest.raises(ResultsFinalised):
        awards.finalise(session, track, editor)
    assert len(awards.winners(session, track)) == 10  # unchanged


def test_a_finalised_round_cannot_be_reopened_or_its_sheets_unlocked(session, track_round,
                                                                     editor):
    from contest import judging, rounds
    from contest.models import RoundJuror, RoundStatus

    track, round_, _ = track_round
    awards.apply_placement(session, track, editor)
    awards.finalise(session, track, editor)
    round_.status = RoundStatus.closed
    session.flush()
    with pytest.raises(ResultsFinalised):  # reopening would let scores change under them
        rounds.open_round(session, round_, editor)
    sheet = session.scalar(select(RoundJuror).where(RoundJuror.round_id == round_.id))
    with pytest.raises(ResultsFinalised):
        judging.unlock_sheet(session, sheet, editor, "理由")
    assert round_.status == RoundStatus.closed


def test_reopen_is_for_admins_with_a_reason(session, track_round, editor, admin):
    track, round_, _ = track_round
    awards.apply_placement(session, track, editor)
    awards.finalise(session, track, editor)
    assert not awards.can_reopen(editor) and awards.can_reopen(admin)
    with pytest.raises(AwardError):
        awards.reopen(session, track, admin, "")
    awards.reopen(session, track, admin, "公示期异议成立，需重新评定")
    assert not awards.is_finalised(session, track)
    scoring.set_method(session, round_, editor, method="zscore")  # editable again


def test_finalise_a_contest_takes_every_placed_track(session, track_round, editor, contest):
    track, _, _ = track_round
    awards.apply_placement(session, track, editor)
    assert awards.finalise(session, contest, editor) == [track]
    assert awards.contest_finalised(session, contest)  # the other track has no round


def test_organisation_awards_from_participation_and_results(session, track_round, editor,
                                                            contest):
    track, _, entries = track_round
    awards.update_rules(session, contest, editor, org_min_entries=2, org_min_awards=1,
                        org_max_units=2)
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={F: 1, S: 2, T: 3, M: 0})
    awards.apply_placement(session, track, editor)
    # points 5/3/2/1: unit 1 (作品1 一等, 作品2 二等) 8, unit 2 (二等, 三等) 5,
    # unit 3 (三等, 三等) 4, units 4 and 5 no award
    rows = awards.propose_organisation_awards(session, contest, editor)
    assert [(r.unit.name, r.points, r.rank, r.is_awarded) for r in rows[:3]] == [
        ("第1职业学校", 8, 1, True), ("第2职业学校", 5, 2, True), ("第3职业学校", 4, 3, False)]
    assert {r.unit.name for r in rows[3:]} == {"第4职业学校", "第5职业学校"}
    assert all(r.submitted_entries == 2 for r in rows)
    third = rows[2]
    with pytest.raises(AwardError):
        awards.decide_organisation_award(session, third, True, "", editor)
    awards.decide_organisation_award(session, third, True, "承办市级展评，组织工作突出", editor)
    rows = awards.propose_organisation_awards(session, contest, editor)  # decision kept
    assert next(r for r in rows if r.unit_id == third.unit_id).is_awarded
    session.commit()
    assert session.scalar(select(AuditEvent)
                          .where(AuditEvent.action == "awards.organisation_decide")).reason
    awards.finalise(session, contest, editor)
    with pytest.raises(ResultsFinalised):
        awards.propose_organisation_awards(session, contest, editor)
    assert session.scalars(select(OrganisationAward)).all()


def test_adviser_award_is_optional_and_splits_names(session, track_round, editor, contest):
    track, _, _ = track_round
    awards.apply_placement(session, track, editor)
    assert awards.propose_adviser_awards(session, contest) == []
    awards.update_rules(session, contest, editor, adviser_award_enabled=True,
                        adviser_min_tier="second")
    proposed = awards.propose_adviser_awards(session, contest)
    # 作品1 (一等) and 作品2 (二等) share 王老师、李老师; 作品3 (二等) has 教师2
    assert [(a.adviser, len(a.entries)) for a in proposed] == [("李老师", 2), ("王老师", 2),
                                                               ("教师2", 1)]
    assert proposed[0].entries[0][1] == F
