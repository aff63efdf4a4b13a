"""The results stage of the demo contest (`seed-demo --stage results`), after the judging
stage has opened a first round per track: every demo juror scores every entry assigned to
them through the judging services (plausible, varied scores: each entry has a quality, each
juror a leniency, each criterion some noise; half points; a short comment) and submits; the
round closes. A track with at least FINAL_MIN_ENTRIES ranked entries gets a final round
(终评) over its shortlist, judged by every demo juror (回避 respected). Then awards are placed
by the default plan, 优秀组织奖 proposed, the public notice dated from today and every track
finalised, so a new user sees every stage and can try the exports.

Services only: flush, never commit (the seed-demo command commits). Deterministic for a
given `seed`.
"""

from __future__ import annotations

import math
import random
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import awards, notice, scoring
from contest.models import Assignment, Round, RoundKind, RoundStatus, User
from contest.timeutil import to_local, utcnow

if TYPE_CHECKING:
    from contest.demo import DemoReport

DEMO_JURORS = ("demo_juror", "demo_juror2", "demo_juror3", "demo_juror4", "demo_juror5")
# a strict, two neutral, a lenient and a slightly lenient juror: the z-score column and
# the agreement table then have something to show
LENIENCY = {"demo_juror": 0.0, "demo_juror2": -0.07, "demo_juror3": 0.06, "demo_juror4": 0.0,
            "demo_juror5": 0.03}
NOISE = 0.05  # sd of a criterion's points, as a fraction of its maximum
FINAL_MIN_ENTRIES = 5  # fewer ranked entries: the awards come from the first round
COMMENTS = (
    "主题鲜明，构图饱满，较好体现了活动周主题。",
    "色彩协调，但文字信息略显拥挤，可精简。",
    "创意较好，建议进一步突出职业教育特色。",
    "画面清晰，排版规范，标题醒目。",
    "视觉冲击力强，标题还可再精炼。",
    "场景真实，感染力强，细节处理到位。",
    "整体完成度高，字体层次可再斟酌。",
)


def _half(value: float) -> float:
    return math.floor(value * 2 + 0.5) / 2


def score_round(session: Session, round_: Round, jurors: dict[str, User],
                rng: random.Random) -> int:
    """Score every active assignment of `round_` as its juror (judging.save_scores) and
    submit every juror's sheet. Returns the number of score sheets written."""
    from contest.judging import save_scores, submit_sheet

    quality = {re.entry_id: rng.uniform(0.58, 0.93) for re in
               sorted(round_.round_entries, key=lambda r: r.entry_id)}
    by_id = {u.id: login for login, u in jurors.items()}
    assignments = session.scalars(select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.is_active.is_(True))
        .order_by(Assignment.juror_id, Assignment.order_key)).all()
    written = 0
    for a in assignments:
        login = by_id.get(a.juror_id)
        if login is None:
            continue
        base = quality[a.entry_id] + LENIENCY.get(login, 0.0)
        points = {}
        for c in round_.criteria:
            share = min(1.0, max(0.2, base + rng.gauss(0.0, NOISE)))
            points[c.id] = _half(share * c.max_points)
        save_scores(session, jurors[login], round_, a.entry, points,
                    comment=rng.choice(COMMENTS))
        written += 1
    for rj in round_.jurors:
        if rj.submitted_at is None and rj.juror_id in by_id:
            submit_sheet(session, rj.juror, round_)
    return written


def seed_results(session: Session, report: DemoReport, *, seed: int = 2024,
                 today: date | None = None) -> None:
    """Run the results stage on `report.contest` (see the module docstring); appends
    Chinese notes to `report.notes`. Needs the judging stage's open first rounds and an app
    context (juror images of the final round use the app's storage)."""
    from contest.rounds import close_round, create_round, open_round

    rng = random.Random(seed)
    contest = report.contest
    editor = session.scalar(select(User).where(User.login == "demo_editor"))
    jurors = {login: u for login in DEMO_JURORS
              if (u := session.scalar(select(User).where(User.login == login))) is not None}
    placed = []
    for track in contest.tracks:
        rounds = list(session.scalars(select(Round).where(Round.track_id == track.id)
                                      .order_by(Round.id)))
        if not rounds:
            continue
        first = rounds[-1]
        if first.status != RoundStatus.open:
            open_round(session, first, actor=editor)
        sheets = score_round(session, first, jurors, rng)
        close_round(session, first, editor)
        ranked = [r for r in scoring.compute_results(session, first) if r.rank is not None]
        deciding = first
        line = f"{track.name}：{first.name}已评分并结束（{sheets}份评分表）"
        if len(ranked) >= FINAL_MIN_ENTRIES:
            top_n = max(3, math.ceil(len(ranked) * 0.6))
            shortlist = scoring.shortlist(ranked, top_n=top_n)
            final = create_round(session, track, kind=RoundKind.final,
                                 name=f"终评（{track.name}）", jurors=list(jurors.values()),
                                 previous_round=first, entry_ids=[r.entry_id for r in shortlist],
                                 seed=seed, actor=editor)
            open_round(session, final, actor=editor)
            sheets = score_round(session, final, jurors, rng)
            close_round(session, final, editor)
            deciding = final
            line += f"；前{top_n}名入围{final.name}，已评分并结束（{sheets}份评分表）"
        awards.apply_placement(session, track, editor)
        placed.append(track)
        won = awards.winners(session, track)
        report.notes.append(f"{line}；按{deciding.name}的排名评出{len(won)}件获奖作品。")
    if not placed:
        report.notes.append("没有可评定奖项的赛道（没有已提交的作品）。")
        return
    # demo units have one or two entries each: the organisation rule asks for one
    awards.update_rules(session, contest, editor, org_min_entries=1, org_min_awards=1,
                        org_max_units=3)
    proposed = [a for a in awards.propose_organisation_awards(session, contest, editor)
                if a.is_awarded]
    start = today or to_local(utcnow()).date()
    notice.update_notice(session, contest, editor, starts_on=start,
                         contact="大赛组委会办公室（《山西教育》杂志社职成教育编辑部）")
    awards.finalise(session, contest, editor)
    period = notice.notice_period(notice.get_notice(session, contest))
    report.notes.append(f"优秀组织奖建议{len(proposed)}个单位；结果已确认发布，公示期"
                        f"{period[0]:%Y-%m-%d}至{period[1]:%Y-%m-%d}。")
