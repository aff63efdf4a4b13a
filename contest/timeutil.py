"""UTC storage, China Standard Time display. RULES.md: deadlines are Asia/Shanghai (UTC+8)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; naive values (SQLite returns them) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_local(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Return `value` (aware or naive-UTC) converted to the display time zone `tz`."""
    return as_utc(value).astimezone(ZoneInfo(tz))


def local_to_utc(value: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """Interpret naive `value` as wall-clock time in `tz` and return aware UTC."""
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def format_local(value: datetime | None, tz: str = DEFAULT_TZ, with_time: bool = True) -> str:
    """Format as '2024年5月12日 23:59' in `tz`; '' for None."""
    if value is None:
        return ""
    local = to_local(value, tz)
    text = f"{local.year}年{local.month}月{local.day}日"
    if with_time:
        text += f" {local:%H:%M}"
    return text


def format_remaining(deadline: datetime, now: datetime | None = None) -> str:
    """Time left until `deadline` as '3天4小时' / '2小时5分钟' / '已截止'."""
    delta = as_utc(deadline) - (now or utcnow())
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "已截止"
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分钟"
    return f"{max(minutes, 1)}分钟"
