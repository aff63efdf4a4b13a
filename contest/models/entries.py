"""Entries (参赛作品) and their stored files."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.contests import Contest, Track
    from contest.models.users import Unit, User


class EntryStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    disqualified = "disqualified"


class AIUse(enum.StrEnum):
    """GLOSSARY.md: 是否使用AI生成/辅助 (否 / 辅助 / 主要)."""

    none = "none"
    assisted = "assisted"
    generated = "generated"


class FileKind(enum.StrEnum):
    """`original`: the entrant's bytes, unchanged (evidence). `preview`/`thumb`: normalised
    sRGB JPEGs without metadata for entrants and editors. `juror_display`/`juror_thumb`:
    the same for jurors, with redactions painted in, served under `public_token`."""

    original = "original"
    preview = "preview"
    thumb = "thumb"
    juror_display = "juror_display"
    juror_thumb = "juror_thumb"


class Entry(Base):
    """One poster entry of a unit in a track. `code` (ZJ2024-0001) is handed out on first
    submission and kept for life. The current image is the `EntryFile` rows with
    `is_current`; replaced images stay as history."""

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_contest_status", "contest_id", "status"),
        Index("ix_entries_unit_track", "unit_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    authors: Mapped[str] = mapped_column(String(200), default="")
    adviser: Mapped[str] = mapped_column(String(100), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    caption_time: Mapped[str] = mapped_column(String(100), default="")
    caption_place: Mapped[str] = mapped_column(String(100), default="")
    caption_people: Mapped[str] = mapped_column(String(200), default="")
    caption_event: Mapped[str] = mapped_column(String(300), default="")
    # None until the entrant answers (a draft may be saved before); submission requires it
    ai_use: Mapped[AIUse | None] = mapped_column(str_enum(AIUse))
    content_review_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    content_reviewer: Mapped[str] = mapped_column(String(50), default="")
    originality_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), default=EntryStatus.draft)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="web")  # web | import
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contest: Mapped[Contest] = relationship(back_populates="entries")
    track: Mapped[Track] = relationship(back_populates="entries")
    unit: Mapped[Unit] = relationship(back_populates="entries")
    created_by: Mapped[User | None] = relationship()
    files: Mapped[list[EntryFile]] = relationship(back_populates="entry",
                                                  cascade="all, delete-orphan",
                                                  order_by="EntryFile.id")

    def current_file(self, kind: FileKind | str = FileKind.original) -> EntryFile | None:
        """The current stored file of `kind`, or None."""
        return next((f for f in reversed(self.files) if f.kind == kind and f.is_current), None)

    @property
    def is_eligible(self) -> bool:
        """Submitted and neither withdrawn nor disqualified: can enter a round."""
        return self.status == EntryStatus.submitted


class EntryFile(Base):
    """A stored file of an entry. `storage_key` is a server-made path under UPLOAD_DIR
    (content-addressed for originals); `original_filename` is display data only, never used
    in a path (PITFALLS.md #1). Sizes in bytes, dimensions in pixels as displayed (after
    EXIF orientation). `public_token`: opaque random URL part for juror images."""

    __tablename__ = "entry_files"
    __table_args__ = (
        UniqueConstraint("public_token"),
        CheckConstraint("size_bytes >= 0", name="size_nonneg"),
        Index("ix_entry_files_sha256", "sha256"),
        Index("ix_entry_files_entry_kind", "entry_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    kind: Mapped[FileKind] = mapped_column(str_enum(FileKind))
    storage_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))  # Pillow format name: JPEG, PNG
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    public_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="files")
