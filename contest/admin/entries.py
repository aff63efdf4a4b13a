"""Editors: 作品管理. Child blueprint of `admin` (role guard inherited): the list of all
entries with filters, counts and participation statistics; entry detail; the original's
download; editor previews and thumbnails."""

from __future__ import annotations


from flask import Blueprint, Response, abort, render_template, request, send_file
from sqlalchemy import select

from contest import participation
from contest.db import get_session
from contest.downloads import download_names, send_original, stored_path
from contest.entries import current_contest
from contest.models import AuditEvent, City, Entry, EntryFile, FileKind, TrackKind, UnitType

bp = Blueprint("entries", __name__)

PER_PAGE = 100
EDITOR_IMAGE_KINDS = (FileKind.preview, FileKind.thumb)
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
    return send_original(entry, entry_file)


@bp.route("/files/<int:file_id>")
def entry_image(file_id: int) -> Response:
    """An editor preview or thumbnail (normalised sRGB JPEG without metadata) by file id."""
    entry_file = get_session().get(EntryFile, file_id)
    if entry_file is None or entry_file.kind not in EDITOR_IMAGE_KINDS:
        abort(404)
    return send_file(stored_path(entry_file), mimetype="image/jpeg", etag=entry_file.sha256,
                     max_age=0, conditional=True)
