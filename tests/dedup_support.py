"""Helpers for the duplicate-detection tests: posters stored through the real intake path
(`entries.prepare_image` + `attach_image`, which calls the dedup hook), entries of several
units, and image variants (near copies, template siblings, EXIF-rotated and transparent
copies, blank images)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from contest import entries as entries_service
from contest.models import Contest, Entry, EntryFile, EntryStatus, TrackKind, Unit
from contest.storage import get_storage
from tests.factories import make_entry, make_poster, near_copy, poster_bytes

POSTER_SIZE = (1200, 1700)  # px; the dedup contest switches the width and size rules off


def relax_rules(session: Session, contest: Contest) -> Contest:
    """Switch the width and byte-size rules off so tests can use small posters (the format,
    integrity and bomb checks stay on)."""
    contest.min_width_px = None
    contest.min_size_bytes = None
    session.flush()
    return contest


def jpeg(img: Image.Image, quality: int = 92, **kw) -> bytes:
    return poster_bytes(img, "JPEG", quality=quality, **kw)


def png(img: Image.Image) -> bytes:
    return poster_bytes(img, "PNG")


def poster(seed: int, text: str = "POSTER") -> Image.Image:
    return make_poster(POSTER_SIZE, seed=seed, text=text)


def sibling(seed: int, text: str) -> Image.Image:
    """A different poster on the same template as `poster(seed)`: the same background and
    layout, a different headline block and a different photo panel in the middle."""
    img = poster(seed, text)
    draw = ImageDraw.Draw(img)
    w, h = img.size
    panel = make_poster((w // 2, h // 3), seed=seed + 1000)
    img.paste(panel, (w // 4, h // 3))
    draw.rectangle([w // 10, h // 12, w * 9 // 10, h // 5], fill=(250, 240, 200))
    draw.text((w // 8, h // 10), text * 3, fill=(20, 20, 20), font_size=w // 14)
    return img


def resized_copy(img: Image.Image) -> Image.Image:
    return near_copy(img, scale=0.85, quality=82)


def exif_rotated_jpeg(img: Image.Image) -> bytes:
    """`img` stored turned 90° with EXIF Orientation 6, so it *displays* as `img`."""
    stored = img.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def transparent_png(img: Image.Image) -> bytes:
    """`img` as an RGBA PNG whose white areas are transparent, and whose hidden RGB under
    the transparency is noise: displayed on white it looks exactly like `img` with a white
    border (PITFALLS.md #10: the hash must be of the flattened image)."""
    w, h = img.size
    canvas = Image.effect_noise((w + 200, h + 200), 90).convert("RGB")
    alpha = Image.new("L", canvas.size, 0)
    canvas.paste(img, (100, 100))
    alpha.paste(255, (100, 100, 100 + w, 100 + h))
    rgba = canvas.copy()
    rgba.putalpha(alpha)
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    return buf.getvalue()


def white_bordered(img: Image.Image) -> Image.Image:
    w, h = img.size
    out = Image.new("RGB", (w + 200, h + 200), (255, 255, 255))
    out.paste(img, (100, 100))
    return out


def flat(colour: tuple[int, int, int], size: tuple[int, int] = POSTER_SIZE) -> Image.Image:
    return Image.new("RGB", size, colour)


def store_image(session: Session, app, entry: Entry, data: bytes,  # noqa: ANN001
                filename: str = "海报.jpg") -> EntryFile:
    """Store `data` as `entry`'s current image through the intake path (validate, store,
    derive, attach, dedup hook). On any error the session is rolled back and the stored
    files are removed, as the web views do; the error propagates."""
    contest = entry.contest
    storage = get_storage(app)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.bin"
        path.write_bytes(data)
        prepared = entries_service.prepare_image(
            path, rules=entries_service.intake_rules(contest, app.config["MAX_IMAGE_PIXELS"]),
            storage=storage, original_filename=filename,
            preview_long_edge_px=app.config["PREVIEW_LONG_EDGE_PX"],
            thumb_long_edge_px=app.config["THUMB_LONG_EDGE_PX"])
        try:
            original = entries_service.attach_image(session, entry, prepared, actor=None)
            session.commit()
        except BaseException:
            session.rollback()
            entries_service.discard_prepared(session, storage, prepared)
            raise
        entries_service.confirm_stored(storage, prepared)
    return original


def new_entry(session: Session, app, unit: Unit, data: bytes, *,  # noqa: ANN001
              track: TrackKind = TrackKind.vet_week,
              status: EntryStatus = EntryStatus.submitted, **kw) -> Entry:
    """An entry of `unit` whose image is `data`, stored through intake (so the dedup hook
    runs while the entry is a draft, as on the web), then given `status` (submitted: with a
    code). Raises what the hook raises (the draft is then rolled back)."""
    entry = make_entry(session, unit, track=track, status=EntryStatus.draft, **kw)
    session.commit()
    try:
        store_image(session, app, entry, data)
    except BaseException:
        leftover = session.get(Entry, entry.id)
        if leftover is not None:
            session.delete(leftover)
            session.commit()
        raise
    if status != EntryStatus.draft:
        entry = session.get(Entry, entry.id)
        set_status(session, entry, status)
    return entry


def set_status(session: Session, entry: Entry, status: EntryStatus) -> None:
    """Move a draft to `status` through the entries service (submit, withdraw)."""
    data = entries_service.EntryData.from_entry(entry)
    data.ai_use = entry.ai_use  # declared on the form when the entrant submits
    entries_service.submit_entry(session, entry, actor=None, data=data)
    if status == EntryStatus.withdrawn:
        entries_service.withdraw_entry(session, entry, actor=None)
    elif status != EntryStatus.submitted:
        raise ValueError(status)
    session.commit()


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
