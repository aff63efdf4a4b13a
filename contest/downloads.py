"""File downloads with Chinese names: one way to name an entry's original and to write the
`Content-Disposition` header (RFC 6266 with an RFC 5987 `filename*`), for every view that
sends a file (entrants' and editors' originals, result exports, the WeChat package)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, send_file

from contest.models import Entry, EntryFile
from contest.storage import get_storage

EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}
# Characters that break a file name on Windows, macOS or Linux, and control characters.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def content_disposition(name: str, fallback: str) -> str:
    """`attachment` with a quoted ASCII `filename` (`fallback`, stripped to [A-Za-z0-9._-])
    for old clients, then the real (Chinese) `name` as UTF-8 percent-encoded `filename*`.
    werkzeug's own fallback drops every Chinese character and leaves names like '-.jpg'."""
    safe = "".join(c for c in fallback if c.isascii() and (c.isalnum() or c in "._-"))
    return (f'attachment; filename="{safe or "download"}"; '
            f"filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}")


def stored_path(entry_file: EntryFile) -> Path:
    """Absolute path of `entry_file` in storage; aborts 404 if the key is invalid or the file
    is missing (a server-made key never is)."""
    try:
        path = get_storage().path(entry_file.storage_key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path


def download_names(entry: Entry, entry_file: EntryFile) -> tuple[str, str]:
    """(name, ascii_fallback) for an original: '单位-作品名称.jpg', as RULES.md asks files to
    be named ("学校+活动主题"), and a readable ASCII name from the entry code
    ('ZJ2024-0001.jpg'; '-file<id>' added for a replaced, non-current original)."""
    ext = EXTENSIONS.get(entry_file.format.upper(), entry_file.format.lower() or "bin")
    stem = _UNSAFE_NAME.sub("_", f"{entry.unit.name}-{entry.title or '未命名'}").strip(" .")
    name = f"{stem[:150]}.{ext}"
    fallback = f"{entry.code or f'entry-{entry.id}'}.{ext}"
    if not entry_file.is_current:
        fallback = fallback.replace(f".{ext}", f"-file{entry_file.id}.{ext}")
    return name, fallback


def send_original(entry: Entry, entry_file: EntryFile) -> Response:
    """The original bytes of `entry_file`, unchanged, as an attachment named by
    `download_names`. Aborts 404 when the stored file is missing."""
    name, fallback = download_names(entry, entry_file)
    response = send_file(stored_path(entry_file), as_attachment=True, download_name=name,
                         mimetype="image/png" if entry_file.format == "PNG" else "image/jpeg",
                         etag=entry_file.sha256, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(name, fallback)
    return response
