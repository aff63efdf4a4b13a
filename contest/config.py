"""Settings: every environment variable the product reads, with its default, in one table.

`load_config(environ, instance_path)` returns a plain dict that `create_app` merges into
`app.config`. The README's settings table is generated from `SETTINGS` by hand; keep them equal.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    """One setting: environment variable name, default, parser and a one-line description."""

    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, str,
            "Session signing key. Embedded default: generated once into instance/secret_key. "
            "Required when CONTEST_ENV=production."),
    Setting("CONTEST_ENV", "development", str, "`development` or `production` (production: "
            "SECRET_KEY required, Secure cookies)."),
    Setting("DATABASE_URL", None, str,
            "SQLAlchemy URL. Default: sqlite:///<instance>/contest.sqlite3. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/db."),
    Setting("UPLOAD_DIR", None, str, "Folder for stored images. Default: <instance>/uploads."),
    Setting("DISPLAY_TIMEZONE", "Asia/Shanghai", str,
            "Time zone in which dates are shown (stored in UTC). RULES.md: China Standard Time."),
    Setting("MAX_UPLOAD_MB", 12, int,
            "Largest request body in MiB (the 10 MB image rule plus form fields); larger gets 413."),
    Setting("MAX_IMAGE_PIXELS", 100_000_000, int,
            "Decompression-bomb cap in pixels (width x height), checked before any decode."),
    Setting("PREVIEW_LONG_EDGE_PX", 1600, int, "Long edge of editor/entrant previews, px."),
    Setting("JUROR_DISPLAY_LONG_EDGE_PX", 2560, int, "Long edge of juror display images, px."),
    Setting("THUMB_LONG_EDGE_PX", 480, int, "Long edge of thumbnails, px."),
    Setting("PHASH_MAX_DISTANCE_BITS", 12, int,
            "Hamming radius (bits of 64) within which a stored image is a duplicate candidate."),
    Setting("LOGIN_MAX_FAILURES", 5, int,
            "Failed logins per account or per address within LOGIN_LOCK_MINUTES before login "
            "is refused for that account or address."),
    Setting("LOGIN_LOCK_MINUTES", 15, int, "Window and lock time for failed logins, minutes."),
    Setting("SAMPLES_DIR", None, str,
            "Extra folder of photos for seed-demo. Default: the photos shipped in "
            "static/img/samples."),
    Setting("SESSION_COOKIE_SECURE", None, _bool,
            "Secure cookies. Default: on in production, off in development."),
)


def load_config(environ: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Return settings from `environ` over their defaults, with derived paths filled in.

    `instance_path`: the Flask instance folder (created if missing). Raises `RuntimeError`
    when CONTEST_ENV=production and SECRET_KEY is unset (never a guessable fallback).
    """
    cfg: dict[str, Any] = {}
    for s in SETTINGS:
        raw = environ.get(s.name)
        cfg[s.name] = s.parse(raw) if raw not in (None, "") else s.default
    instance_path.mkdir(parents=True, exist_ok=True)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{instance_path / 'contest.sqlite3'}"
    if not cfg["UPLOAD_DIR"]:
        cfg["UPLOAD_DIR"] = str(instance_path / "uploads")
    production = cfg["CONTEST_ENV"] == "production"
    if cfg["SESSION_COOKIE_SECURE"] is None:
        cfg["SESSION_COOKIE_SECURE"] = production
    if not cfg["SECRET_KEY"]:
        if production:
            raise RuntimeError("SECRET_KEY must be set when CONTEST_ENV=production")
        cfg["SECRET_KEY"] = _instance_secret(instance_path)
    cfg["MAX_CONTENT_LENGTH"] = cfg["MAX_UPLOAD_MB"] * 1024 * 1024
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    return cfg


def _instance_secret(instance_path: Path) -> str:
    """Read, or create once, a random key in `<instance>/secret_key` (mode 0600)."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
