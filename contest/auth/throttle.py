"""Slow down repeated failed logins per account and per address (issue #2)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contest.models import LoginAttempt
from contest.timeutil import utcnow


def failures_since(session: Session, *, login: str, address: str, minutes: int) -> int:
    """Failed attempts for `login` or from `address` in the last `minutes` (the larger)."""
    since = utcnow() - timedelta(minutes=minutes)
    by_login = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.login == login, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since))
    by_addr = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.address == address, LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since))
    return max(by_login or 0, by_addr or 0)


def record_attempt(session: Session, *, login: str, address: str, succeeded: bool) -> None:
    """Log one attempt; a success clears that login's earlier failures."""
    if succeeded:
        session.execute(delete(LoginAttempt).where(LoginAttempt.login == login,
                                                   LoginAttempt.succeeded.is_(False)))
    session.add(LoginAttempt(login=login, address=address, succeeded=succeeded))
    session.flush()
