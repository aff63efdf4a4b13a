"""Duplicate detection (查重): image fingerprints, the reference library (往届作品库) and the
flags editors decide on."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.contests import Contest
    from contest.models.entries import Entry, EntryFile
    from contest.models.users import User


class DedupKind(enum.StrEnum):
    """GLOSSARY.md 查重 result kinds: `exact` (same bytes), `duplicate` (same poster),
    `similar` (needs a human: template siblings, heavy edits)."""

    exact = "exact"
    duplicate = "duplicate"
    similar = "similar"


# Severity order, strongest first: used to sort flags and to pick the refusal to report.
DEDUP_KIND_ORDER = {DedupKind.exact: 0, DedupKind.duplicate: 1, DedupKind.similar: 2}


class FlagStatus(enum.StrEnum):
    """`open`: waiting for an editor. `not_duplicate`: an editor decided the two are different
    posters. `disqualified`: an editor disqualified one of the two entries
    (`DuplicateFlag.disqualified_entry_id`)."""

    open = "open"
    not_duplicate = "not_duplicate"
    disqualified = "disqualified"


class ReferenceImage(Base):
    """One poster of the reference library (往届作品库): a past year's entry or winner, or a
    known template, imported by `flask import-reference` or uploaded by an editor.

    `sha256` is of the original bytes and unique (re-importing the same file is a no-op).
    `storage_key` is the server-made key of the stored copy of those bytes (never built from
    the client's name, PITFALLS.md #1); `preview_key`/`thumb_key` are normalised sRGB JPEGs
    without metadata. `original_filename` is display data only. Dimensions are in pixels as
    displayed (EXIF orientation applied); sizes in bytes."""

    __tablename__ = "reference_images"
    __table_args__ = (
        UniqueConstraint("sha256"),
        Index("ix_reference_images_label", "label"),
        CheckConstraint("size_bytes >= 0", name="size_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(200))
    preview_key: Mapped[str | None] = mapped_column(String(200))
    thumb_key: Mapped[str | None] = mapped_column(String(200))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))  # Pillow format name: JPEG, PNG
    size_bytes: Mapped[int] = mapped_column(Integer)
    width_px: Mapped[int] = mapped_column(Integer)
    height_px: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    fingerprint: Mapped[ImageFingerprint | None] = relationship(
        back_populates="reference_image", cascade="all, delete-orphan", passive_deletes=True)


class ImageFingerprint(Base):
    """The duplicate-detection fingerprint of one stored image: exactly one of `entry_file_id`
    (an `original` EntryFile; replaced originals keep theirs as history) or
    `reference_image_id` is set, and each image has at most one fingerprint.

    `phash`: the global 64-bit perceptual hash as 16 lowercase hex characters (text, because
    a signed BIGINT cannot hold an unsigned 64-bit value on PostgreSQL); `content_phash`:
    the same hash of the image with uniform margins trimmed (borders, padding), searched
    alongside. `index_hashes`: every 64-bit hash the engine's candidate search keeps for
    the image (`engine.index_row`: whole, trimmed, crop windows; little-endian uint64), so
    the in-process index is built without loading `features`. `features`: the
    engine's serialised `Fingerprint` (`to_bytes()`), loaded only for verified candidates.
    `algo_version`: `contest.dedup.engine.ALGO_VERSION` that produced the row; rows of another
    version are recomputed by `flask dedup-rehash`, which replaces rows rather than
    updating them, so the in-process search index notices the change. `low_variance`:
    near-blank image, never matched on hash equality alone (PITFALLS.md #9)."""

    __tablename__ = "image_fingerprints"
    __table_args__ = (
        UniqueConstraint("entry_file_id"),
        UniqueConstraint("reference_image_id"),
        CheckConstraint("(entry_file_id IS NULL) <> (reference_image_id IS NULL)",
                        name="one_owner"),
        CheckConstraint("length(phash) = 16", name="phash_hex64"),
        CheckConstraint("length(content_phash) = 16", name="content_phash_hex64"),
        Index("ix_image_fingerprints_sha256", "sha256"),
        # covers the search index's freshness check (count, max id, newest row per version)
        Index("ix_image_fingerprints_version", "algo_version", "id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_files.id", ondelete="CASCADE"))
    reference_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_images.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    phash: Mapped[str] = mapped_column(String(16))
    content_phash: Mapped[str] = mapped_column(String(16))
    index_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    algo_version: Mapped[str] = mapped_column(String(32))
    low_variance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # last: a 20-40 kB value that SQLite keeps in overflow pages; columns after it would
    # make every scan walk them
    features: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    entry_file: Mapped[EntryFile | None] = relationship()
    reference_image: Mapped[ReferenceImage | None] = relationship(back_populates="fingerprint")

    @property
    def phash_int(self) -> int:
        """`phash` as an unsigned 64-bit int."""
        return int(self.phash, 16)


class DuplicateFlag(Base):
    """A pair an editor must look at: entry A against entry B (any contest's entry; A is the
    lower id, so each unordered pair has one row) or entry A against a reference image.

    Exactly one of `entry_b_id` / `reference_image_id` is set. `kind` and `scores` are the
    engine's latest verdict for the pair (`file_a_id`/`file_b_id`: the original EntryFiles
    compared). `distance_bits`: pHash Hamming distance, 0–64. While `status` is `open` a
    replaced image refreshes or removes the flag; once decided, the row is kept as it is and
    the pair is never flagged again (not by a new image of either entry, not by a rescan).
    `contest_id`: the contest whose editors see it (entry A's)."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (
        UniqueConstraint("entry_a_id", "entry_b_id"),
        UniqueConstraint("entry_a_id", "reference_image_id"),
        CheckConstraint("(entry_b_id IS NULL) <> (reference_image_id IS NULL)",
                        name="one_counterpart"),
        CheckConstraint("entry_b_id IS NULL OR entry_a_id < entry_b_id", name="pair_order"),
        CheckConstraint("distance_bits IS NULL OR (distance_bits >= 0 AND distance_bits <= 64)",
                        name="distance_range"),
        Index("ix_duplicate_flags_contest_status", "contest_id", "status"),
        Index("ix_duplicate_flags_entry_b", "entry_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    entry_a_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    entry_b_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    reference_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_images.id", ondelete="CASCADE"))
    file_a_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_files.id", ondelete="SET NULL"))
    file_b_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_files.id", ondelete="SET NULL"))
    kind: Mapped[DedupKind] = mapped_column(str_enum(DedupKind, 16))
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    distance_bits: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus, 16), default=FlagStatus.open)
    disqualified_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()
    entry_a: Mapped[Entry] = relationship(foreign_keys=[entry_a_id])
    entry_b: Mapped[Entry | None] = relationship(foreign_keys=[entry_b_id])
    reference_image: Mapped[ReferenceImage | None] = relationship()
    file_a: Mapped[EntryFile | None] = relationship(foreign_keys=[file_a_id])
    file_b: Mapped[EntryFile | None] = relationship(foreign_keys=[file_b_id])
    disqualified_entry: Mapped[Entry | None] = relationship(foreign_keys=[disqualified_entry_id])
    decided_by: Mapped[User | None] = relationship()

    @property
    def is_decided(self) -> bool:
        return self.status != FlagStatus.open

    @property
    def is_reference(self) -> bool:
        """The counterpart is a reference-library image, not an entry."""
        return self.reference_image_id is not None


__all__ = ["DEDUP_KIND_ORDER", "DedupKind", "DuplicateFlag", "FlagStatus", "ImageFingerprint",
           "ReferenceImage"]
