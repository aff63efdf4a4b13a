"""What the editors' 评审结果 pages show, assembled from the services so templates make no
decisions (STYLE.md §7). No request or user access here."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest import awards, notice, scoring
from contest.models import (AwardDecision, AwardPlan, AwardTier, Contest, Entry, Round,
                            RoundEntry, RoundResultSettings, Track, User)
from contest.models.results import TIER_ORDER


@dataclass
class JurorColumn:
    juror_id: int
    alias: str
    name: str  # the editor's own view shows who the alias is


@dataclass
class RoundResultsView:
    round: Round
    settings: RoundResultSettings
    results: list[scoring.EntryResult]
    jurors: list[JurorColumn]
    sensitivity: list[scoring.SensitivityLine]
    agreement: scoring.RoundAgreement
    pending: list[str]
    revealed: bool
    entries: dict[int, Entry]
    n_rows: int

    def juror_name(self, juror_id: int) -> str:
        return next((j.name for j in self.jurors if j.juror_id == juror_id), "")


def juror_columns(session: Session, round_: Round) -> list[JurorColumn]:
    """The round's jurors in alias order with their display names."""
    aliases = scoring.juror_aliases(round_)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(aliases))))}
    cols = [JurorColumn(j, a, (users[j].display_name or users[j].login) if j in users else "")
            for j, a in aliases.items()]
    cols.sort(key=lambda c: (len(c.alias), c.alias))
    return cols


def round_results_view(session: Session, round_: Round) -> RoundResultsView:
    """Everything the round results page shows: ranking under the chosen method (all three
    aggregates per entry), sensitivity line, agreement, pending sheets."""
    settings = scoring.get_settings(session, round_)
    rows = scoring.load_score_rows(session, round_)
    by_method = scoring.compute_all_methods(session, round_, rows)
    results = by_method[settings.method]
    revealed = awards.is_finalised(session, round_.track)
    entries = {e.id: e for e in session.scalars(
        select(Entry).where(Entry.id.in_([r.entry_id for r in results])))}
    agreement = scoring.agreement(session, round_, rows)
    return RoundResultsView(
        round=round_, settings=settings, results=results, jurors=juror_columns(session, round_),
        sensitivity=scoring.compare_top_n(by_method, settings.method, settings.top_n),
        agreement=agreement, pending=scoring.pending_jurors(round_), revealed=revealed,
        entries=entries, n_rows=len(rows))


@dataclass
class RoundSummary:
    round: Round
    entries: int
    method: str
    is_finalised: bool


@dataclass
class TrackSummary:
    track: Track
    rounds: list[RoundSummary]
    plan: AwardPlan
    winners: int
    deciding_round: Round | None


def track_summaries(session: Session, contest: Contest) -> list[TrackSummary]:
    """Per track: its rounds (entries, chosen method) and its award state."""
    out = []
    for track in contest.tracks:
        rounds = list(session.scalars(select(Round).where(Round.track_id == track.id)
                                      .order_by(Round.id)))
        counts = dict(session.execute(
            select(RoundEntry.round_id, func.count(RoundEntry.id))
            .where(RoundEntry.round_id.in_([r.id for r in rounds]))
            .group_by(RoundEntry.round_id)).all())
        summaries = []
        for r in rounds:
            s = scoring.get_settings(session, r)
            summaries.append(RoundSummary(round=r, entries=counts.get(r.id, 0),
                                          method=str(s.method), is_finalised=s.is_finalised))
        plan = awards.get_plan(session, track)
        out.append(TrackSummary(track=track, rounds=summaries, plan=plan,
                                winners=len(awards.winners(session, track)),
                                deciding_round=awards.source_round(session, track, plan)))
    return out


@dataclass
class TierGroup:
    tier: AwardTier
    is_vacant: bool
    winners: list[awards.Winner]
    planned: int


@dataclass
class AwardsView:
    track: Track
    plan: AwardPlan
    deciding_round: Round | None
    placements: list[awards.Placement]
    counts: dict[AwardTier, int]
    n_ranked: int
    groups: list[TierGroup]
    stored: dict[int, AwardDecision]
    has_drift: bool
    is_finalised: bool
    entries: dict[int, Entry] = field(default_factory=dict)


def awards_view(session: Session, track: Track) -> AwardsView:
    """The awards page of `track`: the plan, the fresh placement, the stored provisional
    list grouped by tier, and whether the stored list differs from a fresh placement."""
    plan = awards.get_plan(session, track)
    round_ = awards.source_round(session, track, plan)
    placements = awards.compute_placement(session, track) if round_ is not None else []
    n_ranked = sum(1 for p in placements if p.result.rank is not None)
    counts = awards.plan_counts(plan, n_ranked)
    stored = {d.entry_id: d for d in session.scalars(
        select(AwardDecision).where(AwardDecision.track_id == track.id))}
    won = awards.winners(session, track)
    groups = [TierGroup(tier=t, is_vacant=plan.is_vacant(t), planned=counts[t],
                        winners=[w for w in won if w.tier == t]) for t in TIER_ORDER]
    has_drift = plan.placed_at is not None and not plan.is_finalised and any(
        (stored.get(p.entry_id).tier if p.entry_id in stored else None) != p.tier
        for p in placements)
    entries = {e.id: e for e in session.scalars(
        select(Entry).where(Entry.id.in_([p.entry_id for p in placements]
                                         + [w.entry.id for w in won])))}
    return AwardsView(track=track, plan=plan, deciding_round=round_, placements=placements,
                      counts=counts, n_ranked=n_ranked, groups=groups, stored=stored,
                      has_drift=has_drift, is_finalised=plan.is_finalised, entries=entries)


@dataclass
class NoticeView:
    contest: Contest
    notice: object
    period: tuple | None
    sections: list[notice.NoticeSection]
    organisation: list
    advisers: list[awards.AdviserAward]
    all_final: bool
    any_final: bool


def notice_view(session: Session, contest: Contest) -> NoticeView:
    """The public notice: settings, period, winners per track, 优秀组织奖 in force and
    proposed 优秀指导教师奖."""
    n = notice.get_notice(session, contest)
    sections = notice.notice_sections(session, contest)
    with_winners = [s for s in sections if s.rows or s.is_finalised]
    return NoticeView(
        contest=contest, notice=n, period=notice.notice_period(n), sections=sections,
        organisation=[a for a in awards.organisation_awards(session, contest) if a.is_awarded],
        advisers=awards.propose_adviser_awards(session, contest),
        all_final=bool(with_winners) and all(s.is_finalised for s in with_winners),
        any_final=any(s.is_finalised for s in sections))
