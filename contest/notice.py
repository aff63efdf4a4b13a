"""The public notice (公示) of the provisional winners: its settings, the notice period in
working days, and the rows it prints.

Working days are Monday to Friday. Public holidays and the weekend days that are worked in
their place (调休) are not known to the program, so the editor may set the end date by hand
(`PublicNotice.ends_on`), which then wins over the computed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import awards
from contest.errors import AwardError
from contest.models import AwardTier, Contest, PublicNotice, Track, User, log_event
from contest.models.results import DEFAULT_NOTICE_WORKING_DAYS, TIER_ORDER


@dataclass
class NoticeRow:
    """One line of the notice: award, entry code, title, unit, authors, adviser."""

    tier: AwardTier
    entry_code: str
    title: str
    unit: str
    authors: str
    adviser: str


@dataclass
class NoticeSection:
    """The winners of one track; `vacant` lists the tiers the plan left vacant (空缺)."""

    track: Track
    rows: list[NoticeRow]
    vacant: list[AwardTier]
    is_finalised: bool


def add_working_days(start: date, days: int) -> date:
    """The last day of a period of `days` working days (Mon–Fri) starting on `start`:
    `start` counts as day 1 when it is a working day, else the period starts on the next
    Monday. Public holidays are not known (module docstring). `days` ≥ 1.
    Example: Friday 2024-05-24 + 5 → Thursday 2024-05-30."""
    if days < 1:
        raise ValueError("days must be at least 1")
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    counted = 1
    while counted < days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            counted += 1
    return current


def get_notice(session: Session, contest: Contest) -> PublicNotice:
    """`contest`'s notice settings, created on first use with the defaults: title
    '关于<contest name>拟获奖名单的公示', issuer the organiser, 5 working days, the standard
    objection text (flushes)."""
    notice = session.scalar(select(PublicNotice).where(PublicNotice.contest_id == contest.id))
    if notice is None:
        notice = PublicNotice(contest_id=contest.id, title=f"关于{contest.name}拟获奖名单的公示",
                              issuer=contest.organiser, working_days=DEFAULT_NOTICE_WORKING_DAYS)
        session.add(notice)
        session.flush()
    return notice


def notice_period(notice: PublicNotice) -> tuple[date, date] | None:
    """(first day, last day) of the notice period, or None before a start date is set. The
    last day is the editor's `ends_on` if set, else `add_working_days`."""
    if notice.starts_on is None:
        return None
    end = notice.ends_on or add_working_days(notice.starts_on, notice.working_days)
    return notice.starts_on, end


NOTICE_FIELDS = ("title", "issuer", "starts_on", "working_days", "ends_on", "objection_text",
                 "contact")


def update_notice(session: Session, contest: Contest, actor: User | None,
                  **fields: object) -> PublicNotice:
    """Change the notice settings (any of NOTICE_FIELDS; dates are `datetime.date` in China
    Standard Time or None); logged 'notice.update'. Allowed after finalisation (the notice is
    published then). Raises `AwardError` (notice_dates when the end is before the start;
    plan_invalid for working days < 1)."""
    unknown = set(fields) - set(NOTICE_FIELDS)
    if unknown:
        raise TypeError(f"unknown notice fields: {sorted(unknown)}")
    notice = get_notice(session, contest)
    old = {k: _plain(getattr(notice, k)) for k in NOTICE_FIELDS}
    values: dict[str, object] = {}
    for key, value in fields.items():
        if key == "working_days":
            value = int(value)  # type: ignore[arg-type]
            if value < 1:
                raise AwardError("plan_invalid", detail="公示期至少为1个工作日")
        elif key in ("title", "issuer", "objection_text", "contact"):
            value = str(value or "").strip()
        values[key] = value
    starts = values.get("starts_on", notice.starts_on)
    ends = values.get("ends_on", notice.ends_on)
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts:
        raise AwardError("notice_dates", starts=_cn(starts), ends=_cn(ends))
    for key, value in values.items():
        setattr(notice, key, value)
    session.flush()
    new = {k: _plain(getattr(notice, k)) for k in NOTICE_FIELDS}
    if new != old:
        log_event(session, actor, "notice.update", notice,
                  old={k: v for k, v in old.items() if new[k] != v},
                  new={k: v for k, v in new.items() if old[k] != v})
    return notice


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _cn(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def notice_sections(session: Session, contest: Contest) -> list[NoticeSection]:
    """Per track of `contest` (in track order): the winners in award order as notice rows,
    and the tiers left vacant. Unit, authors and adviser stay empty until the track is
    finalised (finalising reveals names)."""
    sections = []
    for track in contest.tracks:
        plan = awards.get_plan(session, track)
        reveal = plan.is_finalised
        rows = [NoticeRow(tier=w.tier, entry_code=w.entry.code or "", title=w.entry.title,
                          unit=w.entry.unit.name if reveal else "",
                          authors=w.entry.authors if reveal else "",
                          adviser=w.entry.adviser if reveal else "")
                for w in awards.winners(session, track)]
        sections.append(NoticeSection(track=track, rows=rows,
                                      vacant=[t for t in TIER_ORDER if plan.is_vacant(t)],
                                      is_finalised=plan.is_finalised))
    return sections
