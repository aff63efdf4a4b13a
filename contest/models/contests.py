"""The contest, its two tracks and its intake rules."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.entries import Entry

MIB = 1024 * 1024  # RULES.md / DEVELOPERS: MB means 1024×1024 bytes


class TrackKind(enum.StrEnum):
    """GLOSSARY.md `Track`: 职业教育活动周 / 全民终身学习活动周."""

    vet_week = "vet_week"
    lifelong_week = "lifelong_week"


TRACK_DEFAULTS = {
    TrackKind.vet_week: ("职业教育活动周", "ZJ"),
    TrackKind.lifelong_week: ("全民终身学习活动周", "ZS"),
}


class Contest(Base):
    """One year's poster contest. The intake rules are per-contest settings whose defaults
    are the notice's values (RULES.md, attachment 2): JPG/PNG, width ≥ 2000 px,
    2 MiB ≤ size ≤ 10 MiB, design statement ≤ 300 characters. `None` switches a limit off."""

    __tablename__ = "contests"
    __table_args__ = (
        CheckConstraint("min_size_bytes IS NULL OR max_size_bytes IS NULL "
                        "OR min_size_bytes <= max_size_bytes", name="size_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    organiser: Mapped[str] = mapped_column(String(100), default="《山西教育》杂志社")
    submissions_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submissions_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    allowed_formats: Mapped[str] = mapped_column(String(64), default="JPEG,PNG")
    # No column defaults here: an explicit None ("rule off") must stay None; __init__ fills
    # in the notice's values only for arguments not given.
    min_width_px: Mapped[int | None] = mapped_column(Integer)
    min_size_bytes: Mapped[int | None] = mapped_column(Integer)
    max_size_bytes: Mapped[int | None] = mapped_column(Integer)
    max_statement_chars: Mapped[int] = mapped_column(Integer, default=300)
    max_entries_per_unit_per_track: Mapped[int] = mapped_column(Integer, default=3)
    exclude_same_city_jurors: Mapped[bool] = mapped_column(Boolean, default=False)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    NOTICE_DEFAULTS = {  # RULES.md, attachment 2 of the notice
        "min_width_px": 2000,
        "min_size_bytes": 2 * MIB,
        "max_size_bytes": 10 * MIB,
    }

    def __init__(self, **kwargs: object) -> None:
        for key, value in self.NOTICE_DEFAULTS.items():
            kwargs.setdefault(key, value)
        super().__init__(**kwargs)

    tracks: Mapped[list[Track]] = relationship(back_populates="contest",
                                               order_by="Track.id")
    entries: Mapped[list[Entry]] = relationship(back_populates="contest")

    @property
    def formats(self) -> frozenset[str]:
        """Allowed Pillow format names, e.g. frozenset({'JPEG', 'PNG'})."""
        return frozenset(f.strip().upper() for f in self.allowed_formats.split(",") if f.strip())

    def track(self, kind: TrackKind | str) -> Track | None:
        return next((t for t in self.tracks if t.kind == kind), None)


class Track(Base):
    """One of the contest's two activity weeks. `code_prefix` builds entry codes
    ('ZJ' → ZJ2024-0001); `next_number` is the next sequence number to hand out."""

    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("contest_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    kind: Mapped[TrackKind] = mapped_column(str_enum(TrackKind))
    name: Mapped[str] = mapped_column(String(50))
    code_prefix: Mapped[str] = mapped_column(String(8))
    next_number: Mapped[int] = mapped_column(Integer, default=1)

    contest: Mapped[Contest] = relationship(back_populates="tracks")
    entries: Mapped[list[Entry]] = relationship(back_populates="track")
