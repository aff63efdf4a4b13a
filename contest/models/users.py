"""Cities, entrant units, users and login attempts."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.entries import Entry


class UnitType(enum.StrEnum):
    """GLOSSARY.md `unit_type`."""

    higher_vocational = "higher_vocational"
    secondary_vocational = "secondary_vocational"
    open_university = "open_university"
    community_learning_centre = "community_learning_centre"
    city_bureau = "city_bureau"
    other = "other"


class Role(enum.StrEnum):
    entrant = "entrant"
    juror = "juror"
    editor = "editor"
    admin = "admin"


class City(Base):
    """A prefecture-level city of Shanxi. `code`: GB/T 2260, e.g. '140100' 太原市."""

    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)

    units: Mapped[list[Unit]] = relationship(back_populates="city")


class Unit(Base):
    """An entrant unit (参赛单位): a school, open university branch, learning centre or bureau.
    Names are unique province-wide."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"))
    unit_type: Mapped[UnitType] = mapped_column(str_enum(UnitType), default=UnitType.other)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    city: Mapped[City | None] = relationship(back_populates="units")
    users: Mapped[list[User]] = relationship(back_populates="unit")
    entries: Mapped[list[Entry]] = relationship(back_populates="unit")


class User(Base):
    """A login. Entrants belong to exactly one unit; jurors may name a unit (their own school,
    for conflict-of-interest exclusion); editors and admins have none.

    `session_token` is what Flask-Login stores in the session and the remember cookie;
    rotating it on logout or password change invalidates every remembered login.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    session_token: Mapped[str] = mapped_column(String(64), unique=True,
                                               default=lambda: secrets.token_urlsafe(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship(back_populates="users")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def set_password(self, password: str) -> None:
        """Hash and store `password` (werkzeug scrypt); rotates the session token."""
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = utcnow()
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        """Invalidate every session and remember cookie issued for this user."""
        self.session_token = secrets.token_urlsafe(32)

    @property
    def is_editor(self) -> bool:
        return self.role in (Role.editor, Role.admin)

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"


class LoginAttempt(Base):
    """One login attempt, for throttling repeated failures per login and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_login_at", "login", "at"),
                      Index("ix_login_attempts_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
