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
import secrets
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


def paint_redactions(img: Image.Image, redactions: list[Redaction]) -> Image.Image:
    """Return a copy of `img` (RGB, as displayed) with every redaction rectangle filled
    solid grey. Fractions map to pixels outward (floor of the start, ceil of the end), so a
    pixel touched by a box is fully covered."""
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


def _store_jpeg(session: Session, storage: Any, entry: Entry, img: Image.Image,
                kind: FileKind, long_edge_px: int, quality: int) -> EntryFile:
    buf = io.BytesIO()
    width, height = save_jpeg(img, buf, long_edge_px=long_edge_px, quality=quality)
    data = buf.getvalue()
    from contest.storage import derivative_key

    key = derivative_key(str(kind))
    storage.put_bytes(key, data)
    _pending(session)["on_rollback"].append((storage, key))
    f = EntryFile(entry=entry, kind=kind, storage_key=key,
                  sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), format="JPEG",
                  width_px=width, height_px=height, original_filename="", is_current=True,
                  public_token=secrets.token_urlsafe(24))
    session.add(f)
    return f


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
    img = load_normalised(storage.path(original.storage_key))
    redactions = list(session.scalars(select(Redaction).where(Redaction.entry_id == entry.id)
                                      .order_by(Redaction.id)))
    img = paint_redactions(img, redactions)
    display_px = _setting("JUROR_DISPLAY_LONG_EDGE_PX", 2560)
    thumb_px = _setting("THUMB_LONG_EDGE_PX", 480)
    old = list(juror_files(entry).values())
    display = _store_jpeg(session, storage, entry, img, FileKind.juror_display, display_px,
                          DISPLAY_QUALITY)
    if max(img.size) > display_px:  # thumbnails from the smaller image: same look, faster
        img = img.resize((display.width_px, display.height_px), Image.Resampling.LANCZOS)
    thumb = _store_jpeg(session, storage, entry, img, FileKind.juror_thumb, thumb_px,
                        THUMB_QUALITY)
    pending = _pending(session)
    for f in old:
        pending["on_commit"].append((storage, f.storage_key))
        entry.files.remove(f)
        session.delete(f)
    session.flush()
    return {FileKind.juror_display: display, FileKind.juror_thumb: thumb}


def ensure_juror_images(session: Session, entry: Entry, storage: Any = None
                        ) -> dict[FileKind, EntryFile] | None:
    """The entry's juror images, building them when missing or older than the current
    original (a replaced image). Same return and errors as `rebuild_juror_images`."""
    files = juror_files(entry)
    original = entry.current_file(FileKind.original)
    if original is None:
        return files or None
    if len(files) == len(JUROR_KINDS) and all(f.id > original.id for f in files.values()):
        return files
    return rebuild_juror_images(session, entry, storage)


def build_round_images(session: Session, round_: Round, storage: Any = None) -> int:
    """Ensure juror images for every entry of `round_`; returns how many entries were
    (re)built. An entry whose original cannot be decoded is logged and skipped (its juror
    sees a placeholder; editors see it on the entry)."""
    storage = _resolve_storage(storage)
    built = 0
    entries = session.scalars(select(Entry).join(RoundEntry, RoundEntry.entry_id == Entry.id)
                              .where(RoundEntry.round_id == round_.id).order_by(Entry.id))
    for entry in entries:
        before = {f.id for f in juror_files(entry).values()}
        try:
            result = ensure_juror_images(session, entry, storage)
        except ContestError:
            log.warning("juror images for entry %s failed", entry.id, exc_info=True)
            continue
        if result and {f.id for f in result.values()} != before:
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
