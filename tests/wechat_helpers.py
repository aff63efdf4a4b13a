"""Test data for the WeChat package: a track whose winners have real originals in storage,
placed and (optionally) finalised through the awards services."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

from contest import awards
from contest.models import Entry, Role, Track, TrackKind, User
from tests import factories

ONE = [("总分", "", 100)]


def noisy_poster(size: tuple[int, int] = (2480, 3508), seed: int = 7, block: int = 4
                 ) -> Image.Image:
    """Colour noise in `block`-px squares: survives the shrink to 1080 px wide (fine noise
    averages out), so the body image at quality 88 is well over 1 MiB."""
    w, h = size
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (-(-h // block), -(-w // block), 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.NEAREST)


def marker_poster(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A poster with a pure green 8 %-wide square centred at (0.8, 0.3) of the image, for
    checking where a cover crop lands."""
    img = factories.make_poster(size, seed=seed)
    w, h = size
    side = round(0.08 * w)
    cx, cy = round(0.8 * w), round(0.3 * h)
    img.paste((0, 255, 0), (cx - side // 2, cy - side // 2, cx + side // 2, cy + side // 2))
    return img


@dataclass
class SeededTrack:
    track: Track
    entries: list[Entry]  # in intended ranking order (best first)
    editor: User


def seed_winners(session, storage, *, posters: list[Image.Image],  # noqa: ANN001
                 units: list[str] | None = None, titles: list[str] | None = None,
                 finalise: bool = True,
                 quotas: tuple[int, int, int, int] = (1, 1, 1, 10), editor: User | None = None,
                 track_kind: TrackKind = TrackKind.vet_week, **entry_kw) -> SeededTrack:
    """One entry per poster in `track_kind` (originals stored as JPEG q92), scored so the
    first poster ranks first, awards placed by counts `quotas` (first, second, third,
    merit), finalised unless `finalise` is False; committed."""
    jurors = [factories.make_user(session, Role.juror) for _ in range(3)]
    editor = editor or factories.make_user(session, Role.editor)
    units = units or [f"第{i + 1}职业技术学院" for i in range(len(posters))]
    unit_rows = {name: factories.make_unit(session, name) for name in dict.fromkeys(units)}
    entries = []
    for i, img in enumerate(posters):
        entry = factories.make_entry(
            session, unit_rows[units[i % len(units)]], track=track_kind,
            title=(titles[i] if titles else f"匠心筑梦{i + 1}"), authors=f"作者{i + 1}",
            adviser=f"指导教师{i + 1}", **entry_kw)
        factories.attach_original(session, entry, factories.poster_bytes(img, quality=92),
                                  storage=storage)
        entries.append(entry)
    round_ = factories.make_results_round(session, track_kind, jurors, criteria=ONE,
                                          kind="final", name="终评")
    for i, entry in enumerate(entries):
        for delta, juror in zip((-1, 0, 1), jurors, strict=True):
            factories.make_review(session, round_, entry, juror, [95 - 3 * i + delta])
    track = round_.track
    first, second, third, merit = quotas
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={"first": first, "second": second, "third": third,
                               "merit": merit})
    awards.apply_placement(session, track, editor)
    if finalise:
        awards.finalise(session, track, editor)
    session.commit()
    return SeededTrack(track=track, entries=entries, editor=editor)


def open_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def jpeg_info(data: bytes) -> tuple[tuple[int, int], str, dict]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        return im.size, im.mode, dict(im.info)


def marker_centre(data: bytes) -> tuple[float, float] | None:
    """Centroid (x, y) px of the pure-green marker's pixels in a JPEG, None if absent."""
    a = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)
    mask = (a[..., 1] > 225) & (a[..., 0] < 40) & (a[..., 2] < 40)
    if mask.sum() < 50:
        return None
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())
