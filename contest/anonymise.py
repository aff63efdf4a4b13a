"""Juror images (匿名评审): per entry a display image and a thumbnail made from pixels only,
with the entry's redaction rectangles painted over, served under opaque random tokens.

Why re-encode from pixels: the original can carry the author's name in EXIF Artist, XMP,
IPTC, a JPEG comment, PNG text chunks or an ICC description. `imaging.load_normalised`
returns bare RGB pixels as displayed (orientation applied, sRGB) and `imaging.save_jpeg`
writes a JPEG with nothing but JFIF, quantisation and Huffman tables (issue #4).

Why new tokens on every rebuild: a juror who saw the unredacted image may still hold its
URL (browser cache, history); the old files are deleted once the transaction commits and
their tokens vanish with their rows, so old URLs return 404.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from contest.errors import ContestError, RedactionInvalid
from contest.imaging import load_normalised, save_jpeg
from contest.models import (Entry, EntryFile, FileKind, Redaction, Round, RoundEntry, User,
                            log_event)

log = logging.getLogger(__name__)

REDACTION_FILL = (128, 128, 128)  # solid neutral grey: reads as "masked", not as content
DISPLAY_QUALITY = 88
THUMB_QUALITY = 80
MIN_REDACTION_FRACTION = 0.002  # a box thinner than 0.2 % of the side is a mis-click
JUROR_KINDS = (FileKind.juror_display, FileKind.juror_thumb)
_PENDING_KEY = "contest_juror_files_pending"


def _setting(name: str, default: int) -> int:
    """A size setting from the running app's config when there is one (CLI, request)."""
    try:
        from flask import current_app

        return int(current_app.config.get(name, default))
    except RuntimeError:  # no app context (plain scripts)
        return default


def _resolve_storage(storage: Any) -> Any:
    if storage is not None:
        return storage
    from contest.storage import get_storage

    return get_storage()


def _pending(session: Session) -> dict[str, list]:
    """Per-session lists of stored keys to delete after commit (replaced juror files) and
    after rollback (juror files written by the failed transaction)."""
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = {"on_commit": [], "on_rollback": []}
        session.info[_PENDING_KEY] = pending

        @event.listens_for(session, "after_commit")
        def _after_commit(sess: Session) -> None:
            for storage, key in pending["on_commit"]:
                _safe_delete(storage, key)
            pending["on_commit"].clear()
            pending["on_rollback"].clear()

        @event.listens_for(session, "after_soft_rollback")
        def _after_rollback(sess: Session, previous_transaction: Any) -> None:
            if sess.in_transaction():
                return
            for storage, key in pending["on_rollback"]:
                _safe_delete(storage, key)
            pending["on_commit"].clear()
            pending["on_rollback"].clear()

    return pending


def _safe_delete(storage: Any, key: str) -> None:
    try:
        storage.delete(key)
    except (OSError, ValueError):
        log.warning("could not delete stored juror file %s", key, exc_info=True)


def juror_files(entry: Entry) -> dict[FileKind, EntryFile]:
    """The entry's current juror images by kind (possibly empty)."""
    out = {}
    for f in entry.files:
        if f.kind in JUROR_KINDS and f.is_current:
            out[FileKind(f.kind)] = f
    return out


def paint_redactions(img: Image.Image, redactions: list[Any]) -> Image.Image:
    """Return a copy of `img` (RGB, as displayed) with every redaction rectangle (anything
    with fractional x, y, w, h, such as a `Redaction` row) filled solid grey. Fractions map
    to pixels outward (floor of the start, ceil of the end), so a pixel touched by a box is
    fully covered."""
    out = img.copy()
    if not redactions:
        return out
    w, h = out.size
    draw = ImageDraw.Draw(out)
    for r in redactions:
        x0 = max(0, math.floor(r.x * w))
        y0 = max(0, math.floor(r.y * h))
        x1 = min(w, math.ceil((r.x + r.w) * w))
        y1 = min(h, math.ceil((r.y + r.h) * h))
        if x1 > x0 and y1 > y0:
            draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=REDACTION_FILL)
    return out


@dataclass(frozen=True)
class _Box:
    """A redaction rectangle as plain fractions (safe to hand to a worker thread)."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class _Rendered:
    """One juror image written to storage by `_render`, not yet in the database."""

    kind: FileKind
    key: str
    sha256: str
    size_bytes: int
    width_px: int
    height_px: int


def _render(storage: Any, original_key: str, boxes: tuple[_Box, ...], display_px: int,
            thumb_px: int) -> list[_Rendered]:
    """Pixels only: decode the original as displayed, paint the boxes, write the display
    image and the thumbnail as metadata-free JPEGs under fresh keys. No database access, so
    it can run in a worker thread (Pillow releases the GIL while decoding and encoding)."""
    from contest.storage import derivative_key

    img = paint_redactions(load_normalised(storage.path(original_key)), list(boxes))
    out = []
    written: list[str] = []
    try:
        # the thumbnail is made from the full image too: save_jpeg's reducing resize is
        # ~10x faster than resampling the display image again
        for kind, edge, quality in ((FileKind.juror_display, display_px, DISPLAY_QUALITY),
                                    (FileKind.juror_thumb, thumb_px, THUMB_QUALITY)):
            buf = io.BytesIO()
            width, height = save_jpeg(img, buf, long_edge_px=edge, quality=quality)
            data = buf.getvalue()
            key = derivative_key(kind.value)
            storage.put_bytes(key, data)
            written.append(key)
            out.append(_Rendered(kind, key, hashlib.sha256(data).hexdigest(), len(data),
                                 width, height))
    except BaseException:
        for key in written:
            _safe_delete(storage, key)
        raise
    return out


def _boxes(session: Session, entry: Entry) -> tuple[_Box, ...]:
    return tuple(_Box(r.x, r.y, r.w, r.h) for r in redactions_for(session, entry))


def _attach(session: Session, storage: Any, entry: Entry, rendered: list[_Rendered]
            ) -> dict[FileKind, EntryFile]:
    """Add rows for freshly rendered juror images (new random tokens) and retire the old
    ones: their rows go now, their bytes after commit."""
    pending = _pending(session)
    old = list(juror_files(entry).values())
    out = {}
    for r in rendered:
        pending["on_rollback"].append((storage, r.key))
        f = EntryFile(entry=entry, kind=r.kind, storage_key=r.key, sha256=r.sha256,
                      size_bytes=r.size_bytes, format="JPEG", width_px=r.width_px,
                      height_px=r.height_px, original_filename="", is_current=True,
                      public_token=secrets.token_urlsafe(24))
        session.add(f)
        out[r.kind] = f
    for f in old:
        pending["on_commit"].append((storage, f.storage_key))
        entry.files.remove(f)
        session.delete(f)
    session.flush()
    return out


def _sizes() -> tuple[int, int]:
    return (_setting("JUROR_DISPLAY_LONG_EDGE_PX", 2560), _setting("THUMB_LONG_EDGE_PX", 480))


def rebuild_juror_images(session: Session, entry: Entry, storage: Any = None
                         ) -> dict[FileKind, EntryFile] | None:
    """(Re)make the entry's juror images from its current original: pixels only, the
    entry's redactions painted in, display long edge JUROR_DISPLAY_LONG_EDGE_PX (2560 px),
    thumbnail THUMB_LONG_EDGE_PX (480 px). Old juror files lose their rows (so their tokens
    stop working at once) and their stored bytes are deleted after commit.
    `storage`: a LocalStorage (default `get_storage()`).
    Returns {kind: EntryFile}, or None when the entry has no original image.
    Raises `InvalidImage` when the original cannot be decoded.
    """
    storage = _resolve_storage(storage)
    original = entry.current_file(FileKind.original)
    if original is None:
        return None
    rendered = _render(storage, original.storage_key, _boxes(session, entry), *_sizes())
    return _attach(session, storage, entry, rendered)


def _needs_build(entry: Entry) -> bool:
    files = juror_files(entry)
    original = entry.current_file(FileKind.original)
    if original is None:
        return False
    return not (len(files) == len(JUROR_KINDS)
                and all(f.id > original.id for f in files.values()))


def ensure_juror_images(session: Session, entry: Entry, storage: Any = None
                        ) -> dict[FileKind, EntryFile] | None:
    """The entry's juror images, building them when missing or older than the current
    original (a replaced image). Same return and errors as `rebuild_juror_images`."""
    if not _needs_build(entry):
        return juror_files(entry) or None
    return rebuild_juror_images(session, entry, storage)


def build_round_images(session: Session, round_: Round, storage: Any = None, *,
                       workers: int | None = None) -> int:
    """Ensure juror images for every entry of `round_` (`ensure_juror_images` for all of
    them); returns how many entries were (re)built. The pixel work runs in `workers`
    threads (default: the CPU count, at most 4); rows are added in this thread. An entry
    whose original cannot be decoded or is missing is logged and skipped (its jurors see
    "图片准备中"; editors see the problem on the entry).
    Measured (scripts/bench_judging.py): ~0.25 s per 2480x3508 poster on one core."""
    storage = _resolve_storage(storage)
    entries = [e for e in session.scalars(
        select(Entry).join(RoundEntry, RoundEntry.entry_id == Entry.id)
        .where(RoundEntry.round_id == round_.id).order_by(Entry.id)) if _needs_build(e)]
    if not entries:
        return 0
    jobs = [(e, e.current_file(FileKind.original).storage_key, _boxes(session, e))
            for e in entries]
    display_px, thumb_px = _sizes()
    workers = workers or min(4, os.cpu_count() or 1)
    built = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(e, pool.submit(_render, storage, key, boxes, display_px, thumb_px))
                   for e, key, boxes in jobs]
        for entry, future in futures:
            try:
                rendered = future.result()
            except (ContestError, OSError, ValueError):
                log.warning("juror images for entry %s failed", entry.id, exc_info=True)
                continue
            _attach(session, storage, entry, rendered)
            built += 1
    return built


def _check_fractions(x: float, y: float, w: float, h: float) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in (x, y, w, h))
    except (TypeError, ValueError):
        raise RedactionInvalid() from None
    if not all(math.isfinite(v) for v in vals):
        raise RedactionInvalid()
    x, y, w, h = vals
    # clamp what a drag slightly past the edge gives, refuse what is really outside
    if x < -0.01 or y < -0.01 or x > 1 or y > 1:
        raise RedactionInvalid()
    x, y = max(0.0, x), max(0.0, y)
    w, h = min(w, 1.0 - x), min(h, 1.0 - y)
    if w < MIN_REDACTION_FRACTION or h < MIN_REDACTION_FRACTION:
        raise RedactionInvalid()
    return x, y, w, h


def add_redaction(session: Session, entry: Entry, x: float, y: float, w: float, h: float,
                  actor: User | None, storage: Any = None) -> Redaction:
    """Add a redaction rectangle to `entry` and rebuild its juror images (new tokens);
    logged 'redaction.add'. `x`, `y`, `w`, `h`: fractions 0..1 of the displayed image's
    width and height (top-left origin); a box slightly past an edge is clipped to it.
    The original file is never changed. Raises `RedactionInvalid` for a box outside the
    image or thinner than 0.2 % of a side."""
    x, y, w, h = _check_fractions(x, y, w, h)
    red = Redaction(entry_id=entry.id, x=x, y=y, w=w, h=h,
                    created_by_id=actor.id if actor else None)
    session.add(red)
    session.flush()
    log_event(session, actor, "redaction.add", red,
              new={"entry_id": entry.id, "x": x, "y": y, "w": w, "h": h})
    rebuild_juror_images(session, entry, storage)
    return red


def remove_redaction(session: Session, redaction: Redaction, actor: User | None,
                     storage: Any = None) -> None:
    """Remove a redaction rectangle and rebuild the entry's juror images (new tokens);
    logged 'redaction.remove' with the old rectangle."""
    entry = redaction.entry
    old = {"entry_id": redaction.entry_id, "x": redaction.x, "y": redaction.y,
           "w": redaction.w, "h": redaction.h}
    log_event(session, actor, "redaction.remove", redaction, old=old)
    session.delete(redaction)
    session.flush()
    rebuild_juror_images(session, entry, storage)


def redactions_for(session: Session, entry: Entry) -> list[Redaction]:
    """The entry's redaction rectangles, oldest first."""
    return list(session.scalars(select(Redaction).where(Redaction.entry_id == entry.id)
                                .order_by(Redaction.id)))
