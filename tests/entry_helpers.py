"""Helpers for the entrant-journey tests: poster files of a chosen size, a complete entry
form, posting it, and listing what storage holds."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from tests.factories import make_poster, pad_to, poster_bytes

MIB = 1024 * 1024
VALID_SIZE = 2 * MIB + 4096  # just over the notice's 2 MB minimum


@lru_cache(maxsize=32)
def poster_data(seed: int = 0, size: tuple[int, int] = (2000, 2600), *,
                nbytes: int | None = VALID_SIZE, fmt: str = "JPEG") -> bytes:
    """An encoded poster, padded (pixels unchanged) to exactly `nbytes` when given."""
    data = poster_bytes(make_poster(size, seed=seed), fmt, quality=90)
    if nbytes is not None:
        data = pad_to(data, nbytes, fmt)
    return data


def write_poster(folder: Path, name: str = "poster.jpg", **kw) -> Path:
    """Write `poster_data(**kw)` to folder/name and return the path."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(poster_data(**kw))
    return path


ENTRY_FIELDS = {
    "title": "匠心筑梦 技能成才", "authors": "张三、李四", "adviser": "王老师",
    "statement": "以青年学子的笑脸与实训场景表现职业教育的活力。",
    "caption_time": "2024年5月8日", "caption_place": "学校实训楼",
    "caption_people": "机电专业师生", "caption_event": "职业教育活动周开放日",
    "ai_use": "none", "content_review_confirmed": "y", "content_reviewer": "宣传部 赵老师",
    "originality_confirmed": "y",
}


def entry_form(image: bytes | None = None, filename: str = "海报.jpg",
               action: str = "submit", **overrides) -> dict:
    """Multipart form data of a complete entry; a field set to None is left out."""
    data = {**ENTRY_FIELDS, "action": action, **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    if image is not None:
        data["image"] = (io.BytesIO(image), filename)
    return data


def post_entry(client, track: str = "vet_week", *,  # noqa: ANN001, ANN201
               headers: dict | None = None, **kw):
    """POST the new-entry form (see `entry_form` for keywords)."""
    return client.post(f"/submit/entries/new?track={track}", data=entry_form(**kw),
                       content_type="multipart/form-data", headers=headers or {})


def stored_files(upload_dir: Path | str) -> list[str]:
    """Every file under UPLOAD_DIR (relative paths, sorted)."""
    root = Path(upload_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
