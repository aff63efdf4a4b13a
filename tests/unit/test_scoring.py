"""Aggregation, ranking, sensitivity and juror agreement against hand-computed values."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from contest import scoring
from contest.errors import ResultsFinalised
from contest.models import (AggregateMethod, Assignment, AuditEvent, EntryStatus, Role,
                            RoundJuror)
from contest.scoring import ScoreRow
from tests import factories

ONE = [("总分", "", 100)]  # a one-criterion rubric: a juror's total is the number given
TWO = [("思想性", "", 50), ("创意", "", 50)]


def rows_from(table: dict[int, list[float | None]]) -> list[ScoreRow]:
    """{entry_id: [total by juror 1, 2, …]} → ScoreRows (None: the juror did not score)."""
    return [ScoreRow(entry_id=e, juror_id=j, points=(float(t),))
            for e, totals in table.items() for j, t in enumerate(totals, start=1)
            if t is not None]


# ----------------------------------------------------------------- mean, trimmed, median


def test_mean_trimmed_mean_and_median_by_hand():
    results = scoring.aggregate_rows(rows_from({1: [95, 80, 78, 70, 40]}), max_total=100)
    r = results[1]
    assert r.n_scores == 5
    assert r.mean == pytest.approx(363 / 5)  # 72.6
    assert r.is_trimmed
    assert r.trimmed_mean == pytest.approx((80 + 78 + 70) / 3)  # 95 and 40 dropped → 76
    assert r.median == 78
    assert r.juror_totals == {1: 95, 2: 80, 3: 78, 4: 70, 5: 40}


def test_trimmed_mean_falls_back_to_the_mean_below_the_minimum():
    four = [95.0, 80.0, 70.0, 40.0]
    assert scoring.trimmed_mean(four) == (pytest.approx(71.25), False)  # default minimum 5
    assert scoring.trimmed_mean(four, min_scores=4) == (pytest.approx(75.0), True)
    r = scoring.aggregate_rows(rows_from({1: four}), max_total=100)[1]
    assert not r.is_trimmed and r.trimmed_mean == r.mean == pytest.approx(71.25)


def test_trimmed_mean_never_trims_fewer_than_three_scores():
    assert scoring.trimmed_mean([90.0, 10.0], min_scores=2) == (pytest.approx(50.0), False)
    with pytest.raises(ValueError):
        scoring.trimmed_mean([])


# ----------------------------------------------------------------- z-score


def test_zscore_corrects_a_strict_and_a_lenient_juror_by_hand():
    # juror 1 is strict (60, 50, 40), juror 2 lenient (80, 90, 70)
    rows = rows_from({1: [60, 80], 2: [50, 90], 3: [40, 70]})
    z = scoring.juror_zscores(rows)
    # each juror: mean as given, population sd √(200/3); z = ±√1.5 or 0
    assert z[(1, 1)] == pytest.approx(math.sqrt(1.5))
    assert z[(2, 1)] == pytest.approx(0.0)
    assert z[(3, 2)] == pytest.approx(-math.sqrt(1.5))
    agg = scoring.zscore_aggregates(rows, max_total=100)
    # G = 65 (mean of all six totals), S = √(1750/6); entry 1: z̄ = √1.5 / 2
    # 65 + √(1750/6)·√1.5/2 = 65 + √437.5 / 2
    assert agg[1] == pytest.approx(65 + math.sqrt(437.5) / 2)
    assert agg[2] == pytest.approx(65 + math.sqrt(437.5) / 2)
    assert agg[3] == pytest.approx(65 - math.sqrt(437.5))  # z̄ = −√1.5
    assert agg[1] == pytest.approx(75.4583, abs=1e-4)


def test_zscore_rescale_uses_percent_of_the_rubric_maximum_and_clips():
    # the same scores on a 50-point rubric give the same 0–100 values
    rows = [ScoreRow(r.entry_id, r.juror_id, (r.points[0] / 2,))
            for r in rows_from({1: [60, 80], 2: [50, 90], 3: [40, 70]})]
    assert scoring.zscore_aggregates(rows, max_total=50)[1] == pytest.approx(
        65 + math.sqrt(437.5) / 2)
    # a juror who gives everyone the same total contributes z = 0
    flat = scoring.juror_zscores(rows_from({1: [70], 2: [70]}))
    assert flat[(1, 1)] == flat[(2, 1)] == 0.0
    # extreme spread would leave the scale: clipped to [0, 100]
    wide = rows_from({1: [100, 100, 100], 2: [0, 0, 0], 3: [100, 0, 100]})
    values = scoring.zscore_aggregates(wide, max_total=100).values()
    assert all(0.0 <= v <= 100.0 for v in values)


# ----------------------------------------------------------------- ranking and ties


def two_criteria_rows() -> list[ScoreRow]:
    """Five entries, three jurors, points (思想性, 创意). Hand-computed:
    X totals 70, 70, 82: mean 74, median 70
    Y totals 74, 74, 74: mean 74, median 74, first criterion 37
    Z totals 70, 74, 78: mean 74, median 74, first criterion (40+35+38)/3 = 37.67
    W totals 70, 74, 78: mean 74, median 74, first criterion (30+34+36)/3 = 33.33
    V identical to W."""
    sheets = {
        "X": [(35, 35), (35, 35), (41, 41)],
        "Y": [(37, 37), (37, 37), (37, 37)],
        "Z": [(40, 30), (35, 39), (38, 40)],
        "W": [(30, 40), (34, 40), (36, 42)],
        "V": [(30, 40), (34, 40), (36, 42)],
    }
    ids = {"X": 1, "Y": 2, "Z": 3, "W": 4, "V": 5}
    return [ScoreRow(ids[k], j, pts) for k, sheet in sheets.items()
            for j, pts in enumerate(sheet, start=1)]


def test_ties_go_through_the_whole_chain():
    results = scoring.aggregate_rows(two_criteria_rows(), max_total=100)
    for code, res in zip("XYZWV", [results[i] for i in range(1, 6)], strict=True):
        res.anon_code = code
    ranked = scoring.rank_results(results.values(), "mean")
    assert all(r.aggregate == pytest.approx(74) for r in ranked)
    # Z beats Y on the first criterion (37.67 > 37); both beat W/V on it; X loses on median;
    # W and V are equal on everything and share rank 3; X is 5th (competition ranking)
    assert [(r.anon_code, r.rank) for r in ranked] == [
        ("Z", 1), ("Y", 2), ("V", 3), ("W", 3), ("X", 5)]
    assert results[3].first_criterion == pytest.approx(113 / 3)
    assert results[1].median == 70


def test_float_noise_does_not_split_a_tie():
    a = scoring.EntryResult(entry_id=1, n_scores=3, mean=70.0, median=70.0,
                            first_criterion=20.0, anon_code="A-001")
    b = scoring.EntryResult(entry_id=2, n_scores=3, mean=70.0 + 1e-10, median=70.0,
                            first_criterion=20.0, anon_code="A-002")
    assert [r.rank for r in scoring.rank_results([b, a], "mean")] == [1, 1]


def test_unscored_and_ineligible_entries_get_no_rank_and_come_last():
    results = scoring.aggregate_rows(rows_from({1: [80, 70], 2: [90, 95]}), max_total=100,
                                     entry_ids=[3])
    results[2].is_eligible = False  # e.g. disqualified after scoring
    ranked = scoring.rank_results(results.values(), AggregateMethod.mean)
    assert [(r.entry_id, r.rank) for r in ranked] == [(1, 1), (2, None), (3, None)]
    assert results[3].n_scores == 0 and results[3].mean is None


# ----------------------------------------------------------------- sensitivity


def test_sensitivity_names_entries_entering_and_leaving_the_top_n():
    # E1: one enthusiastic juror (100) lifts the mean (68) but the trim drops it (60)
    rows = rows_from({1: [100, 60, 60, 60, 60], 2: [65, 65, 65, 65, 65],
                      3: [50, 55, 50, 55, 50]})
    by_method = {}
    for method in scoring.METHODS:
        res = scoring.aggregate_rows(rows, max_total=100)
        by_method[method] = scoring.rank_results(res.values(), method)
    lines = {line.method: line for line in
             scoring.compare_top_n(by_method, AggregateMethod.mean, top_n=1)}
    assert set(lines) == {AggregateMethod.trimmed_mean, AggregateMethod.zscore}
    trimmed = lines[AggregateMethod.trimmed_mean]
    assert [r.entry_id for r in trimmed.entering] == [2]
    assert [r.entry_id for r in trimmed.leaving] == [1]
    assert not trimmed.is_stable
    wide = scoring.compare_top_n(by_method, AggregateMethod.mean, top_n=3)
    assert all(line.is_stable for line in wide)


def test_shortlist_by_top_n_and_threshold_keeps_ties_at_the_boundary():
    res = scoring.aggregate_rows(rows_from({1: [90], 2: [80], 3: [80], 4: [60]}),
                                 max_total=100)
    ranked = scoring.rank_results(res.values(), "mean")
    assert [r.entry_id for r in scoring.shortlist(ranked, top_n=2)] == [1, 2, 3]
    assert [r.entry_id for r in scoring.shortlist(ranked, threshold=80)] == [1, 2, 3]
    assert [r.entry_id for r in scoring.shortlist(ranked, top_n=2, threshold=85)] == [1]


# ----------------------------------------------------------------- agreement


def test_kendalls_w_with_ties_by_hand():
    # 3 jurors × 4 entries; juror 2 ties the first two entries
    matrix = [[90, 80, 70, 60], [85, 85, 60, 50], [70, 88, 65, 40]]
    # ranks: (4,3,2,1), (3.5,3.5,2,1), (3,4,2,1) → R = (10.5, 10.5, 6, 3), R̄ = 7.5
    # S = 9 + 9 + 2.25 + 20.25 = 40.5; T = 2³ − 2 = 6
    # W = 12·40.5 / (3²·(4³ − 4) − 3·6) = 486 / 522 = 27/29
    assert scoring.kendalls_w(matrix) == pytest.approx(27 / 29)


def test_kendalls_w_limits():
    assert scoring.kendalls_w([[1, 2, 3], [10, 20, 30]]) == pytest.approx(1.0)
    assert scoring.kendalls_w([[1, 2, 3], [3, 2, 1]]) == pytest.approx(0.0)
    assert scoring.kendalls_w([[1, 2], [1, 2]]) is None  # fewer than 3 entries
    assert scoring.kendalls_w([[5, 5, 5], [5, 5, 5]]) is None  # everything tied


def test_icc_oneway_balanced_and_unbalanced_by_hand():
    # balanced: MSB = 74/3, MSW = 2, k = 2 → (74/3 − 2) / (74/3 + 2) = 0.85
    assert scoring.icc_oneway([[8, 10], [4, 6], [1, 3]]) == pytest.approx(0.85)
    # unbalanced: MSB = 1211/49, MSW = 1.5, k0 = 16/7 → 2275/2611
    assert scoring.icc_oneway([[8, 10], [4, 6, 5], [1, 3]]) == pytest.approx(2275 / 2611)
    assert scoring.icc_oneway([[8, 10], [7]]) is None  # one usable entry


def agreement_rows() -> list[ScoreRow]:
    """Jurors 1, 2, 4 agree on the order of six entries; juror 3 reverses it."""
    table = {1: [90, 88, 40, 85], 2: [80, 79, 50, 82], 3: [70, 72, 60, 68],
             4: [60, 61, 70, 65], 5: [50, 52, 80, 48], 6: [40, 45, 90, 43]}
    return rows_from(table)


def test_a_juror_reversing_the_consensus_is_flagged():
    result = scoring.round_agreement(agreement_rows())
    by_id = {j.juror_id: j for j in result.jurors}
    assert [j.juror_id for j in result.flagged] == [3]
    assert by_id[3].spearman == pytest.approx(-1.0)
    assert by_id[3].pearson < -0.9
    for juror_id in (1, 2, 4):
        assert by_id[juror_id].spearman == pytest.approx(1.0)
        assert not by_id[juror_id].is_flagged
    assert by_id[3].mean == pytest.approx(65.0)
    assert by_id[3].sd == pytest.approx(math.sqrt(1750 / 6))  # 40…90, population sd
    assert by_id[3].n_compared == 6
    # every juror scored every entry: W over the complete 4 × 6 block
    assert result.w_jurors == 4 and result.w_entries == 6
    assert 0.0 <= result.kendalls_w < 0.6


def test_leniency_and_the_minimum_number_of_entries_for_a_flag():
    rows = rows_from({1: [90, 80, 40], 2: [80, 70, 50], 3: [70, 60, 60], 4: [60, 50, 70]})
    result = scoring.round_agreement(rows)
    juror3 = next(j for j in result.jurors if j.juror_id == 3)
    assert juror3.spearman == pytest.approx(-1.0)
    assert not juror3.is_flagged  # only 4 shared entries < AGREEMENT_MIN_ENTRIES
    juror1 = next(j for j in result.jurors if j.juror_id == 1)
    # juror 1 vs the others' mean on each entry: (90−60)+(80−60)+(70−60)+(60−60) = 60 → +15
    assert juror1.leniency == pytest.approx(15.0)


def test_incomplete_design_has_no_w_but_an_icc():
    rows = rows_from({1: [80, 82, None], 2: [None, 60, 62], 3: [70, None, 71],
                      4: [50, 52, None]})
    result = scoring.round_agreement(rows)
    assert result.kendalls_w is None and result.w_entries == 0
    assert result.icc is not None and result.icc > 0.8


# ----------------------------------------------------------------- database layer


@pytest.fixture
def scored_round(session, contest):
    """Five jurors, four entries on a one-criterion rubric, all sheets submitted."""
    jurors = [factories.make_user(session, Role.juror) for _ in range(5)]
    unit = factories.make_unit(session)
    entries = [factories.make_entry(session, unit, title=f"作品{i}") for i in range(4)]
    round_ = factories.make_results_round(session, "vet_week", jurors, criteria=ONE)
    table = [[95, 80, 78, 70, 40], [70, 72, 74, 76, 78], [60, 61, 62, 63, 64],
             [50, 50, 50, 50, 50]]
    for entry, totals in zip(entries, table, strict=True):
        for juror, total in zip(jurors, totals, strict=True):
            factories.make_review(session, round_, entry, juror, [total], comment="构图完整")
    session.commit()
    return round_, entries, jurors


def test_compute_results_reads_the_round_and_ranks_by_the_chosen_method(session,
                                                                        scored_round):
    round_, entries, _ = scored_round
    by_mean = scoring.compute_results(session, round_)
    assert [r.entry_id for r in by_mean] == [entries[1].id, entries[0].id, entries[2].id,
                                             entries[3].id]  # 74 > 72.6 > 62 > 50
    assert by_mean[1].mean == pytest.approx(72.6) and by_mean[1].rank == 2
    assert by_mean[0].anon_code.startswith("A-") and by_mean[0].entry_code.startswith("ZJ")
    by_trim = scoring.compute_results(session, round_, "trimmed_mean")
    assert by_trim[0].entry_id == entries[0].id  # 76 > 74
    assert by_trim[0].aggregate == pytest.approx(76.0) and by_trim[0].is_trimmed


def test_unsubmitted_sheets_incomplete_sheets_and_recusals_are_not_counted(session,
                                                                           scored_round):
    round_, entries, jurors = scored_round
    rj = session.scalar(select(RoundJuror).where(RoundJuror.juror_id == jurors[0].id))
    rj.submitted_at = None  # sheet unlocked: its 95 no longer counts
    session.add(Assignment(round_id=round_.id, entry_id=entries[1].id, juror_id=jurors[4].id,
                           is_active=False))  # juror 5 recused from entry 2
    session.commit()
    rows = scoring.load_score_rows(session, round_)
    assert len(rows) == 4 * 4 - 1
    res = {r.entry_id: r for r in scoring.compute_results(session, round_)}
    assert res[entries[0].id].n_scores == 4
    assert res[entries[0].id].mean == pytest.approx((80 + 78 + 70 + 40) / 4)
    assert res[entries[1].id].mean == pytest.approx((72 + 74 + 76) / 3)
    assert scoring.pending_jurors(round_) == ["评委A"]


def test_disqualified_entry_is_listed_without_a_rank(session, scored_round):
    round_, entries, _ = scored_round
    entries[1].status = EntryStatus.disqualified
    session.commit()
    res = scoring.compute_results(session, round_)
    assert res[0].entry_id == entries[0].id and res[0].rank == 1
    assert res[-1].entry_id == entries[1].id and res[-1].rank is None


def test_set_method_is_logged_and_refused_once_final(session, scored_round, editor):
    round_, _, _ = scored_round
    scoring.set_method(session, round_, editor, method="zscore", top_n=3)
    session.commit()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "results.method"))
    assert event.old == {"method": "mean", "top_n": 10}
    assert event.new == {"method": "zscore", "top_n": 3}
    assert scoring.compute_results(session, round_)[0].method == AggregateMethod.zscore
    scoring.get_settings(session, round_).is_finalised = True
    with pytest.raises(ResultsFinalised):
        scoring.set_method(session, round_, editor, method="mean")
    with pytest.raises(ResultsFinalised):
        scoring.ensure_round_open_for_results(session, round_)


def test_set_method_rejects_a_trim_minimum_below_three(session, scored_round, editor):
    round_, _, _ = scored_round
    with pytest.raises(ValueError):
        scoring.set_method(session, round_, editor, trimmed_min_scores=2)


def test_agreement_and_sensitivity_from_the_database(session, scored_round):
    round_, entries, _ = scored_round
    result = scoring.agreement(session, round_)
    assert [j.alias for j in result.jurors] == ["评委A", "评委B", "评委C", "评委D", "评委E"]
    assert result.w_jurors == 5 and result.w_entries == 4
    lines = scoring.sensitivity(session, round_, top_n=1)
    trimmed = next(line for line in lines if line.method == AggregateMethod.trimmed_mean)
    assert [r.entry_id for r in trimmed.entering] == [entries[0].id]
    assert [r.entry_id for r in trimmed.leaving] == [entries[1].id]


def test_alias_format_continues_after_z():
    assert scoring.alias_for(0) == "评委A"
    assert scoring.alias_for(25) == "评委Z"
    assert scoring.alias_for(26) == "评委AA"
