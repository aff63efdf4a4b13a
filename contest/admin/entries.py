"""Editors: 作品管理. Child blueprint of `admin` (role guard inherited): the list of all
entries with filters, counts and participation statistics; entry detail; the original's
download; editor previews and thumbnails."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, send_file
from sqlalchemy import select

from contest import participation
from contest.db import get_session
from contest.entries import current_contest
from contest.models import AuditEvent, City, Entry, EntryFile, FileKind, TrackKind, UnitType
from contest.storage import get_storage

bp = Blueprint("entries", __name__)

PER_PAGE = 100
EDITOR_IMAGE_KINDS = (FileKind.preview, FileKind.thumb)
EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}
# Characters that break a file name on Windows, macOS or Linux, and control characters.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def stored_path(entry_file: EntryFile) -> Path:
    """Absolute path of `entry_file` in storage; 404 if the key is invalid or the file is
    missing (a server-made key never is)."""
    try:
        path = get_storage().path(entry_file.storage_key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    return path


def download_names(entry: Entry, entry_file: EntryFile) -> tuple[str, str]:
    """(name, ascii_fallback) for an original: '单位-作品名称.jpg' as RULES.md asks files to
    be named ("学校+活动主题"), and a readable ASCII name from the entry code
    ('ZJ2024-0001.jpg') for clients that ignore RFC 5987 `filename*`."""
    ext = EXTENSIONS.get(entry_file.format.upper(), entry_file.format.lower() or "bin")
    stem = _UNSAFE_NAME.sub("_", f"{entry.unit.name}-{entry.title or '未命名'}").strip(" .")
    name = f"{stem[:150]}.{ext}"
    fallback = f"{entry.code or f'entry-{entry.id}'}.{ext}"
    if not entry_file.is_current:
        fallback = fallback.replace(f".{ext}", f"-file{entry_file.id}.{ext}")
    return name, fallback


def _content_disposition(name: str, fallback: str) -> str:
    # RFC 6266 / RFC 5987: quoted ASCII fallback, then the UTF-8 name percent-encoded.
    return (f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}")


@bp.route("/")
def list_entries():  # noqa: ANN201
    session = get_session()
    contest = current_contest(session)
    if contest is None:
        return render_template("admin/entries/list_entries.html", contest=None)
    filters = participation.EntryFilters.from_args(request.args)
    page = participation.list_entries(session, contest, filters,
                                      page=request.args.get("page", 1, type=int),
                                      per_page=PER_PAGE)
    cities = list(session.scalars(select(City).order_by(City.code)))
    rows = [(e, e.current_file(FileKind.thumb), e.current_file(FileKind.original))
            for e in page.entries]
    return render_template(
        "admin/entries/list_entries.html", contest=contest, filters=filters, page=page,
        rows=rows, counts=participation.facet_counts(session, contest, filters),
        stats=participation.participation_stats(session, contest), cities=cities,
        city_names={c.code: c.name for c in cities}, track_kinds=list(TrackKind),
        unit_types=list(UnitType))


@bp.route("/<int:entry_id>")
def entry_detail(entry_id: int):  # noqa: ANN201
    session = get_session()
    entry = session.get(Entry, entry_id)
    if entry is None:
        abort(404)
    original = entry.current_file(FileKind.original)
    history = list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == Entry.__tablename__,
                                 AuditEvent.object_id == entry.id)
        .order_by(AuditEvent.at, AuditEvent.id)))
    return render_template(
        "admin/entries/entry_detail.html", entry=entry, original=original,
        preview=entry.current_file(FileKind.preview),
        download_name=download_names(entry, original)[0] if original else None,
        old_originals=[f for f in entry.files if f.kind == FileKind.original
                       and not f.is_current],
        history=history)


@bp.route("/<int:entry_id>/download")
def download_original(entry_id: int) -> Response:
    """The original bytes, unchanged, as '单位-作品名称.<ext>'. `?file=<id>` picks a replaced
    original of the same entry."""
    session = get_session()
    entry = session.get(Entry, entry_id)
    if entry is None:
        abort(404)
    file_id = request.args.get("file", type=int)
    if file_id is None:
        entry_file = entry.current_file(FileKind.original)
    else:
        entry_file = session.get(EntryFile, file_id)
        if entry_file is not None and (entry_file.entry_id != entry.id
                                       or entry_file.kind != FileKind.original):
            entry_file = None
    if entry_file is None:
        abort(404)
    name, fallback = download_names(entry, entry_file)
    response = send_file(stored_path(entry_file), as_attachment=True, download_name=name,
                         mimetype="image/png" if entry_file.format == "PNG" else "image/jpeg",
                         etag=entry_file.sha256, max_age=0)
    # werkzeug's own fallback strips the Chinese and leaves '-.jpg'; give a readable one.
    response.headers["Content-Disposition"] = _content_disposition(name, fallback)
    return response


@bp.route("/files/<int:file_id>")
def entry_image(file_id: int) -> Response:
    """An editor preview or thumbnail (normalised sRGB JPEG without metadata) by file id."""
    entry_file = get_session().get(EntryFile, file_id)
    if entry_file is None or entry_file.kind not in EDITOR_IMAGE_KINDS:
        abort(404)
    return send_file(stored_path(entry_file), mimetype="image/jpeg", etag=entry_file.sha256,
                     max_age=0, conditional=True)
