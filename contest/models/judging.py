"""Rounds, rubric criteria, jurors, assignments, conflicts of interest, reviews, scores and
redactions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.contests import Track
    from contest.models.entries import Entry
    from contest.models.users import Unit, User


class RoundKind(enum.StrEnum):
    """GLOSSARY.md: 初评 / 复评 / 终评."""

    preliminary = "preliminary"
    second = "second"
    final = "final"


class RoundStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


DEFAULT_RUBRIC = (  # issue #4: the default rubric, points
    ("思想性与主题", "紧扣活动周主题，导向正确，内容积极向上", 30),
    ("创意", "构思新颖，表现形式有新意", 25),
    ("艺术表现", "构图、色彩、字体与版式的艺术水准", 30),
    ("技术规范", "图片清晰、尺寸合规、文字无误", 15),
)


class Round(Base):
    """A judging round of one track. Entries are those with a `RoundEntry`; the rubric is
    its `criteria`; jurors are its `RoundJuror` rows. Times in UTC."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind), default=RoundKind.preliminary)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus), default=RoundStatus.draft)
    previous_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    jurors_per_entry: Mapped[int] = mapped_column(Integer, default=3)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    show_title: Mapped[bool] = mapped_column(Boolean, default=True)
    show_statement: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    track: Mapped[Track] = relationship()
    previous_round: Mapped[Round | None] = relationship(remote_side="Round.id")
    criteria: Mapped[list[Criterion]] = relationship(back_populates="round",
                                                     cascade="all, delete-orphan",
                                                     order_by="Criterion.position")
    jurors: Mapped[list[RoundJuror]] = relationship(back_populates="round",
                                                    cascade="all, delete-orphan")
    round_entries: Mapped[list[RoundEntry]] = relationship(back_populates="round",
                                                           cascade="all, delete-orphan")

    @property
    def max_total(self) -> float:
        return float(sum(c.max_points for c in self.criteria))


class Criterion(Base):
    """One rubric criterion (评分项) of a round; points from 0 to `max_points`, half points
    allowed."""

    __tablename__ = "criteria"
    __table_args__ = (CheckConstraint("max_points > 0", name="max_points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float] = mapped_column(Float)

    round: Mapped[Round] = relationship(back_populates="criteria")


class RoundJuror(Base):
    """A juror taking part in a round, with their score sheet's state: `submitted_at` set
    means the sheet is locked until an editor unlocks it (logged)."""

    __tablename__ = "round_jurors"
    __table_args__ = (UniqueConstraint("round_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alias: Mapped[str] = mapped_column(String(16), default="")  # 评委A, 评委B … in results

    round: Mapped[Round] = relationship(back_populates="jurors")
    juror: Mapped[User] = relationship()

    @property
    def is_locked(self) -> bool:
        return self.submitted_at is not None


class RoundEntry(Base):
    """An entry taking part in a round, with its shuffled anonymous code (评审编号), unique
    within the round and unrelated to the entry code."""

    __tablename__ = "round_entries"
    __table_args__ = (UniqueConstraint("round_id", "entry_id"),
                      UniqueConstraint("round_id", "anon_code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    anon_code: Mapped[str] = mapped_column(String(16))

    round: Mapped[Round] = relationship(back_populates="round_entries")
    entry: Mapped[Entry] = relationship()


class Assignment(Base):
    """Juror × entry × round. `order_key` gives each juror their own shuffled queue order.
    `is_active` False once the juror declared a conflict (the row stays as history)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("round_id", "entry_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_key: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[Round] = relationship()
    entry: Mapped[Entry] = relationship()
    juror: Mapped[User] = relationship()


class ConflictOfInterest(Base):
    """回避: juror must not judge `entry` (if set) or any entry of `unit` (if set).
    Declared by the juror or recorded by an editor, with a reason."""

    __tablename__ = "conflicts_of_interest"
    __table_args__ = (CheckConstraint("entry_id IS NOT NULL OR unit_id IS NOT NULL",
                                      name="has_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    juror: Mapped[User] = relationship(foreign_keys=[juror_id])
    entry: Mapped[Entry | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class Review(Base):
    """A juror's score sheet for one entry in one round: per-criterion `scores` and a
    comment. One per juror × entry × round."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("round_id", "entry_id", "juror_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    entry: Mapped[Entry] = relationship()
    juror: Mapped[User] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="review",
                                               cascade="all, delete-orphan")

    @property
    def is_complete(self) -> bool:
        """Every criterion of the round has a score."""
        return len(self.scores) == len(self.round.criteria)

    @property
    def total(self) -> float:
        return float(sum(s.points for s in self.scores))


class Score(Base):
    """Points given on one criterion in one review: 0 ≤ points ≤ max, in steps of 0.5."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),
                      CheckConstraint("points >= 0", name="points_nonneg"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    points: Mapped[float] = mapped_column(Float)

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class Redaction(Base):
    """A rectangle painted over an entry's juror images (a school's name or logo).
    Coordinates are fractions 0..1 of the displayed (oriented) image's width/height."""

    __tablename__ = "redactions"
    __table_args__ = (CheckConstraint("x >= 0 AND y >= 0 AND w > 0 AND h > 0 "
                                      "AND x + w <= 1.0001 AND y + h <= 1.0001",
                                      name="inside_image"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    w: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship()
