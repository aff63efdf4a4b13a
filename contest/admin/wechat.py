"""Editors: 公众号图文 (the WeChat package) per track. Child blueprint of `admin` (role guard
inherited), endpoints `admin.wechat.<verb_noun>`.

The preview page shows the article exactly as the package's article.html (the same
`wechat.render_article`, only the image addresses point at `body_image` here) in a 375 px
phone frame, the two cover crops, a focus-point picker, title and digest with their limits,
the winners and a download button. Every setting travels in the query string (GET), so the
page works without JS and the download takes exactly what the preview shows.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask import Blueprint, Response, abort, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from contest import awards, imaging, wechat
from contest.admin.wechat_forms import WechatOptionsForm
from contest.db import get_session
from contest.downloads import content_disposition
from contest.errors import ContestError, WechatError
from contest.messages import message_for
from contest.models import Entry, FileKind, Track
from contest.storage import get_storage

bp = Blueprint("wechat", __name__)

SOURCE_LONG_EDGE_PX = 800  # the focus picker's image
PHONE_WIDTH_PX = 375  # a phone's CSS width (iPhone 6-8 / SE 2, the common WeChat reader)


@dataclass
class PreviewState:
    """The form, the plan (None when the track has no winners: `error` says why), the
    query the sub-resources share, and whether anything the editor typed was refused."""

    form: WechatOptionsForm
    plan: wechat.PackagePlan | None
    error: str
    query: dict
    has_errors: bool
    cover_size: tuple[int, int] | None = None
    frames: dict | None = None  # shape → (left, top, width, height) in % of the cover image


def _track(session: Session, track_id: int) -> Track:
    track = session.get(Track, track_id)
    if track is None:
        abort(404)
    return track


def _state(session: Session, track: Track) -> PreviewState:
    """Read the query string into the form, check it, and plan the package with every
    valid setting (a refused title or digest falls back to the default, beside its error)."""
    winners = awards.winners(session, track)
    form = WechatOptionsForm(formdata=request.args)
    form.cover.choices = [SelectChoice(w.entry.id, f"{w.position:02d} {w.entry.title}"
                                                   f"（{w.entry.code}）") for w in winners]
    if not winners:
        return PreviewState(form=form, plan=None, query={}, has_errors=False,
                            error=message_for(WechatError("wechat_no_winners",
                                                          track=track.name)))
    form.validate()
    by_id = {w.entry.id: w.entry for w in winners}
    cover = by_id.get(form.cover.data) if not form.cover.errors else None
    fx = form.fx.data if not form.fx.errors and form.fx.data is not None else None
    fy = form.fy.data if not form.fy.errors and form.fy.data is not None else None
    focus = (fx if fx is not None else wechat.DEFAULT_FOCUS[0],
             fy if fy is not None else wechat.DEFAULT_FOCUS[1])
    texts = {}
    for name, check in (("title", wechat.check_title), ("digest", wechat.check_digest)):
        try:
            texts[name] = check(form[name].data or "")
        except WechatError as err:
            form[name].errors = [*form[name].errors, message_for(err)]
            texts[name] = None
    storage = get_storage()
    try:
        plan = wechat.plan_package(session, track, cover_entry=cover, focus=focus,
                                   title=texts["title"], digest=texts["digest"],
                                   storage=storage)
        cover_size = wechat.header_size(plan.cover_entry, storage)
    except ContestError as err:
        return PreviewState(form=form, plan=None, query={}, has_errors=True,
                            error=message_for(err))
    if not form.title.data and not form.title.errors:
        form.title.data = plan.title
    if not form.digest.data and not form.digest.errors:
        form.digest.data = plan.digest
    form.cover.data = plan.cover_entry.id
    form.fx.data, form.fy.data = plan.focus
    query = {"cover": plan.cover_entry.id, "fx": f"{plan.focus[0]:g}",
             "fy": f"{plan.focus[1]:g}", "title": form.title.data or "",
             "digest": form.digest.data or ""}
    return PreviewState(form=form, plan=plan, error="", query=query,
                        has_errors=bool(form.errors), cover_size=cover_size,
                        frames=_frames(cover_size, plan.focus))


def _frames(size: tuple[int, int], focus: tuple[float, float]) -> dict:
    """Where each cover crop sits on the cover image, in % (left, top, width, height)."""
    w, h = size
    out = {}
    for shape, (tw, th) in wechat.COVERS.items():
        left, top, right, bottom = wechat.crop_box(size, tw / th, focus)
        out[shape] = tuple(round(v, 3) for v in (100 * left / w, 100 * top / h,
                                                  100 * (right - left) / w,
                                                  100 * (bottom - top) / h))
    return out


def _article_html(plan: wechat.PackagePlan, track: Track) -> str:
    """The package's article body with image addresses rewritten to `body_image`."""
    parts = {}
    for it in plan.items:
        for n, img in enumerate(it.images, start=1):
            parts[img.name] = url_for(".body_image", track_id=track.id, position=it.position,
                                      part=n)
    return wechat.render_article(plan, image_url=lambda img: parts[img.name])


@bp.route("/tracks/<int:track_id>")
def preview(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _track(session, track_id)
    state = _state(session, track)
    session.commit()  # the award plan's defaults may have been created on first view
    return _render_preview(track, state, status=400 if state.has_errors else 200)


def _render_preview(track: Track, state: PreviewState, status: int):  # noqa: ANN202
    plan = state.plan
    return render_template(
        "admin/wechat/preview.html", track=track, state=state, form=state.form, plan=plan,
        is_final=plan.is_final if plan else awards.is_finalised(get_session(), track),
        phone_width=PHONE_WIDTH_PX, covers=wechat.COVERS,
        max_title=wechat.MAX_TITLE_CHARS, max_digest=wechat.MAX_DIGEST_CHARS), status


@bp.route("/tracks/<int:track_id>/article")
def article(track_id: int):  # noqa: ANN201
    """The article as a phone shows it (the preview's iframe): the title line and account
    name above the package's article body."""
    session = get_session()
    track = _track(session, track_id)
    state = _state(session, track)
    if state.plan is None:
        abort(404)
    return render_template("admin/wechat/article_frame.html", plan=state.plan,
                           article=_article_html(state.plan, track))


def _etag(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _jpeg(data: bytes, etag: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype="image/jpeg", max_age=0)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def _not_modified(etag: str) -> Response | None:
    if etag in request.if_none_match:
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    return None


def _original_sha(entry: Entry) -> str:
    original = entry.current_file(FileKind.original)
    return original.sha256 if original is not None else ""


@bp.route("/tracks/<int:track_id>/images/<int:position>/<int:part>.jpg")
def body_image(track_id: int, position: int, part: int) -> Response:
    """Body image `part` (1-based slice) of the winner at `position`, the very bytes the
    package holds (1080 px wide, < 1 MiB, no metadata)."""
    session = get_session()
    track = _track(session, track_id)
    storage = get_storage()
    try:
        plan = wechat.plan_package(session, track, storage=storage)
    except ContestError:
        abort(404)
    item = next((it for it in plan.items if it.position == position), None)
    if item is None or not 1 <= part <= len(item.images):
        abort(404)
    tag = _etag("body", _original_sha(item.entry), item.images)
    cached = _not_modified(tag)
    if cached is not None:
        return cached
    try:
        data = wechat.body_jpegs(wechat.load_original(item.entry, storage), item.images)
    except ContestError:
        abort(404)
    return _jpeg(data[part - 1], tag)


@bp.route("/tracks/<int:track_id>/covers/<shape>.jpg")
def cover_image(track_id: int, shape: str) -> Response:
    """The cover `shape` ('2.35x1' or '1x1') for the query's cover winner and focus."""
    if shape not in wechat.COVERS:
        abort(404)
    session = get_session()
    track = _track(session, track_id)
    state = _state(session, track)
    if state.plan is None:
        abort(404)
    plan = state.plan
    tag = _etag("cover", shape, _original_sha(plan.cover_entry), plan.focus)
    cached = _not_modified(tag)
    if cached is not None:
        return cached
    try:
        img = wechat.load_original(plan.cover_entry, get_storage())
    except ContestError:
        abort(404)
    return _jpeg(wechat.cover_jpeg(img, shape, plan.focus), tag)


@bp.route("/tracks/<int:track_id>/source/<int:entry_id>.jpg")
def cover_source(track_id: int, entry_id: int) -> Response:
    """A winner's image as displayed for the focus picker: the editor preview derivative
    when there is one (same orientation and proportions as the original), else an 800 px
    long-edge JPEG made from the original."""
    session = get_session()
    track = _track(session, track_id)
    entry = next((w.entry for w in awards.winners(session, track) if w.entry.id == entry_id),
                 None)
    if entry is None:
        abort(404)
    tag = _etag("source", _original_sha(entry))
    cached = _not_modified(tag)
    if cached is not None:
        return cached
    preview_file = entry.current_file(FileKind.preview)
    if preview_file is not None:
        try:
            path = get_storage().path(preview_file.storage_key)
        except ValueError:
            path = None
        if path is not None and path.is_file():
            return _jpeg(path.read_bytes(), tag)
    try:
        img = wechat.load_original(entry, get_storage())
    except ContestError:
        abort(404)
    buf = io.BytesIO()
    imaging.save_jpeg(img, buf, long_edge_px=SOURCE_LONG_EDGE_PX, quality=85)
    return _jpeg(buf.getvalue(), tag)


@bp.route("/tracks/<int:track_id>/download")
def download(track_id: int):  # noqa: ANN201
    """The ZIP with the preview's settings, named '职业教育活动周_公众号图文.zip' (ASCII
    fallback 'wechat_<kind>.zip'); logged 'export.wechat'. A refused setting re-renders the
    preview with its error (400), a track without winners says so (409)."""
    session = get_session()
    track = _track(session, track_id)
    state = _state(session, track)
    if state.plan is None or state.has_errors:
        session.rollback()
        return _render_preview(track, state, status=409 if state.plan is None and
                               not state.has_errors else 400)
    plan = state.plan
    try:
        data = wechat.build_package(session, track, cover_entry=plan.cover_entry,
                                    focus=plan.focus, title=state.query["title"],
                                    digest=state.query["digest"], storage=get_storage(),
                                    actor=current_user)
    except ContestError as err:
        session.rollback()
        state.error = message_for(err)
        return _render_preview(track, state, status=409)
    session.commit()
    response = Response(data, mimetype="application/zip")
    fallback = f"wechat_{track.kind}{'' if plan.is_final else '_provisional'}.zip"
    response.headers["Content-Disposition"] = content_disposition(plan.zip_name, fallback)
    response.headers["Cache-Control"] = "no-store"
    return response
