"""Read-only helpers of the editors' 评审轮次 pages: choices for forms, the rounds list per
track, the progress tables of a round, the shortlist preview of a later round.

They query and shape data for templates (which make no decisions, STYLE.md §7); every
change goes through the services (`contest.rounds`, `contest.assignment`, `contest.judging`,
`contest.anonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from contest import scoring
from contest.entries import current_contest
from contest.judging import EntryProgress, RoundProgress, round_progress
from contest.models import (City, Redaction, Role, Round, RoundEntry, RoundJuror,
                            RoundStatus, Track, Unit, User)

__all__ = ["RoundDetail", "ShortlistPreview", "ShortlistRow", "current_contest",
           "entry_admin_url", "juror_choices", "round_detail_view", "round_summaries",
           "shortlist_preview", "unit_choices"]


def juror_label(user: User) -> str:
    """'张伟（zhang.wei）· 太原职业技术学院' — how editors pick a juror."""
    text = f"{user.display_name or user.login}（{user.login}）"
    if user.unit is not None:
        text += f" · {user.unit.name}"
    return text


def juror_choices(session: Session) -> list[SelectChoice]:
    """Every active juror account (value: user id), by name."""
    jurors = session.scalars(select(User).where(User.role == Role.juror,
                                                User.is_active_account.is_(True))
                             .options(selectinload(User.unit))
                             .order_by(User.display_name, User.login))
    return [SelectChoice(u.id, juror_label(u)) for u in jurors]


def unit_choices(session: Session) -> list[SelectChoice]:
    """Every unit (value: unit id), grouped by city (GB/T 2260 order), by name."""
    rows = session.execute(select(Unit.id, Unit.name, City.name).outerjoin(Unit.city)
                           .order_by(City.code, Unit.name))
    return [SelectChoice(uid, name, optgroup=city or "其他") for uid, name, city in rows]


def entry_admin_url(entry_id: int) -> str | None:
    """The editors' entry page (作品管理), or None while that page does not exist."""
    try:
        return url_for("admin.entries.entry_detail", entry_id=entry_id)
    except BuildError:
        return None


@dataclass
class RoundSummary:
    """One line of the rounds list."""

    round: Round
    juror_count: int
    entry_count: int
    assigned: int
    scored: int
    submitted_jurors: int

    @property
    def percent(self) -> int:
        return round(100 * self.scored / self.assigned) if self.assigned else 0


@dataclass
class TrackRounds:
    track: Track
    rounds: list[RoundSummary] = field(default_factory=list)
    next_kind: str = "preliminary"
    last_round_id: int | None = None


def round_summaries(session: Session, tracks: list[Track]) -> list[TrackRounds]:
    """Per track, its rounds (oldest first) with juror and entry counts and progress
    (complete score sheets of active assignments / active assignments)."""
    out = []
    for track in tracks:
        rounds = session.scalars(select(Round).where(Round.track_id == track.id)
                                 .options(selectinload(Round.jurors)
                                          .selectinload(RoundJuror.juror),
                                          selectinload(Round.round_entries)
                                          .selectinload(RoundEntry.entry))
                                 .order_by(Round.id)).all()
        item = TrackRounds(track=track)
        for r in rounds:
            p = round_progress(session, r)
            item.rounds.append(RoundSummary(
                round=r, juror_count=len(r.jurors), entry_count=len(r.round_entries),
                assigned=p.assigned, scored=p.scored,
                submitted_jurors=sum(1 for rj in r.jurors if rj.is_locked)))
        if rounds:
            last = rounds[-1]
            item.last_round_id = last.id
            item.next_kind = "final" if last.kind != "preliminary" else "second"
        out.append(item)
    return out


@dataclass
class ShortlistRow:
    """One entry of the previous round in the preview: its rank and score there, and
    whether the rule lets it advance."""

    entry_id: int
    code: str
    anon_code: str
    title: str
    rank: int | None
    score: float | None
    reviews: int
    advances: bool

    @property
    def score_text(self) -> str:
        return "—" if self.score is None else f"{self.score:.2f}"


@dataclass
class ShortlistPreview:
    previous: Round
    rows: list[ShortlistRow]
    entry_ids: list[int]
    previous_open: bool = False  # scores may still change; creating waits for the close
    method: str = "mean"  # the previous round's aggregate method (scoring.AggregateMethod)


def shortlist_preview(session: Session, previous: Round, rule: str, *, top_n: int | None,
                      threshold: Decimal | float | None) -> ShortlistPreview:
    """The entries of `previous` ranked by its results (`scoring.compute_results` under the
    round's chosen method: only submitted score sheets count) and which of them a later
    round would take (`scoring.shortlist`): those ranked within `top_n` (rule 'top_n'; ties
    at the boundary all go through) or whose aggregate is at least `threshold` points (rule
    'threshold'). Withdrawn or disqualified entries are unranked and never advance.
    `entry_ids`: the advancing entry ids, sorted."""
    ranked = scoring.compute_results(session, previous)
    if rule == "threshold":
        cut = scoring.shortlist(ranked, threshold=float(threshold) if threshold is not None
                                else None)
    else:
        cut = scoring.shortlist(ranked, top_n=top_n)
    chosen = {r.entry_id for r in cut}
    rows = [ShortlistRow(entry_id=r.entry_id, code=r.entry_code, anon_code=r.anon_code,
                         title=r.title, rank=r.rank, score=r.aggregate, reviews=r.n_scores,
                         advances=r.entry_id in chosen) for r in ranked]
    return ShortlistPreview(previous=previous, rows=rows, entry_ids=sorted(chosen),
                            previous_open=previous.status != RoundStatus.closed,
                            method=str(scoring.get_settings(session, previous).method))


@dataclass
class RoundDetail:
    """What the round page shows: the services' progress plus each juror's unit (editors
    see identities) and each entry's number of redaction boxes."""

    progress: RoundProgress
    juror_units: dict[int, str]
    redactions: dict[int, int]
    locked_sheets: dict[int, RoundJuror]

    @property
    def is_assigned(self) -> bool:
        """Assignment has run and given out at least one entry."""
        return self.progress.assigned > 0

    @property
    def short_entries(self) -> list[EntryProgress]:
        """Entries with fewer active jurors than the round's k (once assignment has run)."""
        if not self.is_assigned:
            return []
        return [e for e in self.progress.entries if e.assigned < e.wanted]

    @property
    def percent(self) -> int:
        p = self.progress
        return round(100 * p.scored / p.assigned) if p.assigned else 0


def round_detail_view(session: Session, round_: Round) -> RoundDetail:
    """Progress of `round_` (`judging.round_progress`) with juror units and redaction
    counts, for the editors' round page."""
    # load the round's entries and jurors in two queries, not one per row
    session.scalars(select(RoundEntry).where(RoundEntry.round_id == round_.id)
                    .options(selectinload(RoundEntry.entry))).all()
    session.scalars(select(RoundJuror).where(RoundJuror.round_id == round_.id)
                    .options(selectinload(RoundJuror.juror))).all()
    progress = round_progress(session, round_)
    units = dict(session.execute(
        select(User.id, Unit.name).join(Unit, User.unit_id == Unit.id)
        .where(User.id.in_([j.juror_id for j in progress.jurors] or [-1]))).all())
    entry_ids = [e.entry_id for e in progress.entries] or [-1]
    redactions = dict(session.execute(
        select(Redaction.entry_id, func.count(Redaction.id))
        .where(Redaction.entry_id.in_(entry_ids)).group_by(Redaction.entry_id)).all())
    locked = {rj.id: rj for rj in round_.jurors if rj.is_locked}
    return RoundDetail(progress=progress, juror_units=units, redactions=redactions,
                       locked_sheets=locked)
