"""Accounts editors create from the web: juror accounts (评委账号) made while setting up a round.

Services only (STYLE.md §2): explicit arguments, `session.flush()`, never `commit()`.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.errors import ContestError
from contest.models import Role, Unit, User, log_event
from contest.units import generate_password

LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")


def create_juror(session: Session, *, login: str, display_name: str, unit: Unit | None,
                 actor: User | None) -> tuple[User, str]:
    """Create an active juror account with a random initial password the juror must change at
    first login; logged 'user.create' (the password is never logged).

    `login`: 3–64 of A–Z a–z 0–9 . _ -. `display_name`: the juror's name (required).
    `unit`: the juror's own unit, or None; a juror is never assigned their unit's entries
    (issue #4). Returns (user, initial password in plain text, to show once).
    Raises `ContestError` with code `login_invalid` (login) or `login_taken` (login).
    """
    login = (login or "").strip()
    display_name = (display_name or "").strip()
    if not LOGIN_PATTERN.match(login) or not display_name:
        raise ContestError("login_invalid", login=login)
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise ContestError("login_taken", login=login)
    password = generate_password()
    user = User(login=login, display_name=display_name[:100], role=Role.juror, unit=unit,
                must_change_password=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    log_event(session, actor, "user.create", user,
              new={"login": login, "display_name": user.display_name, "role": "juror",
                   "unit": unit.name if unit is not None else None})
    return user, password
