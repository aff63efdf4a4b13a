"""The demo's results stage (contest.demo_results) on a judging stage built from small test
posters: every round scored by the demo jurors and closed, a final round from the
shortlist, awards placed, the notice dated, results finalised. (`seed-demo --stage results`
itself is exercised in tests/web/test_seed_demo.py.)"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from contest import awards, notice, scoring
from contest.demo import DemoReport
from contest.demo_results import DEMO_JURORS, seed_results
from contest.models import (OrganisationAward, Review, Role, Round, RoundKind, RoundStatus,
                            TrackKind)
from contest.rounds import create_round, open_round
from tests import factories


def judging_stage(session, contest):  # noqa: ANN001, ANN201
    """What the judging stage leaves: demo accounts, six VET and three lifelong entries with
    small posters, an open first round per track with the five demo jurors."""
    jurors = [factories.make_user(session, Role.juror, login=login) for login in DEMO_JURORS]
    factories.make_user(session, Role.editor, login="demo_editor")
    for i in range(9):
        unit = factories.make_unit(session, f"演示职业学院{i}")
        track = TrackKind.vet_week if i < 6 else TrackKind.lifelong_week
        entry = factories.make_entry(session, unit, track=track, title=f"演示作品{i}",
                                     adviser=f"指导教师{i % 3}")
        factories.attach_original(session, entry, factories.poster_bytes(
            factories.make_poster((300, 420), seed=i)))
    for track in contest.tracks:
        round_ = create_round(session, track, kind="preliminary", name=f"初评（{track.name}）",
                              jurors=jurors, jurors_per_entry=3, seed=2024)
        open_round(session, round_, actor=None)
    return DemoReport(contest=contest, stage="results")


def test_results_stage_scores_closes_places_and_finalises(session, contest):
    report = judging_stage(session, contest)
    seed_results(session, report, today=date(2024, 5, 24))
    session.commit()

    rounds = session.scalars(select(Round).order_by(Round.id)).all()
    assert all(r.status == RoundStatus.closed for r in rounds)
    assert all(rj.submitted_at is not None for r in rounds for rj in r.jurors)
    vet = contest.track(TrackKind.vet_week)
    finals = [r for r in rounds if r.kind == RoundKind.final]
    assert [r.track_id for r in finals] == [vet.id]  # 6 ≥ 5 entries; lifelong has 3
    assert len(finals[0].round_entries) == 4  # top ceil(0.6 × 6)
    assert awards.source_round(session, vet).id == finals[0].id
    for r in rounds:
        results = scoring.compute_results(session, r)
        assert all(res.n_scores >= 3 for res in results), r.name
    reviews = session.scalars(select(Review)).all()
    assert all(rv.comment for rv in reviews)
    assert len({rv.total for rv in reviews}) >= 8  # plausible, varied scores
    for track in contest.tracks:
        assert awards.is_finalised(session, track)
        assert awards.winners(session, track)
    period = notice.notice_period(notice.get_notice(session, contest))
    assert period == (date(2024, 5, 24), date(2024, 5, 30))
    assert session.scalar(select(func.count(OrganisationAward.id))) > 0
    assert any("结果已确认发布" in note for note in report.notes)

