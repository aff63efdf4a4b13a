"""Editors: 遮挡校名/标识 (redaction) of one entry's poster, routed on the rounds blueprint as
`admin.rounds.redact_entry` and friends.

The editor draws rectangles over the poster in the browser (static/js/redact.js) or types
them in percent without JS; `contest.anonymise` stores each box as fractions of the
displayed image, rebuilds the juror images with the boxes painted in and logs the change.
The original file is never touched.
"""

from __future__ import annotations

from flask import (Response, abort, flash, jsonify, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import anonymise
from contest.admin.rounds_forms import ConfirmForm, RedactionForm, parse_rect_payload
from contest.db import get_session
from contest.downloads import stored_path
from contest.errors import ContestError
from contest.messages import message_for
from contest.models import Entry, FileKind, Redaction, Round, RoundEntry

IMAGE_KINDS = {"poster": FileKind.preview, "juror": FileKind.juror_display}


def _load_entry(session: Session, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None:
        abort(404)
    return entry


def _image_url(entry: Entry, kind: str) -> str | None:
    """Editor URL of the entry's current poster preview or juror display image; the file id
    in the query string changes on every rebuild, so browsers never show a stale image."""
    f = entry.current_file(IMAGE_KINDS[kind])
    if f is None:
        return None
    return url_for("admin.rounds.entry_image", entry_id=entry.id, kind=kind, v=f.id)


def _state(session: Session, entry: Entry) -> dict:
    """The boxes and the juror image URL, as the page script redraws them."""
    boxes = anonymise.redactions_for(session, entry)
    return {
        "redactions": [{"id": r.id, "x": r.x, "y": r.y, "w": r.w, "h": r.h,
                        "delete_url": url_for("admin.rounds.delete_redaction",
                                              entry_id=entry.id, redaction_id=r.id)}
                       for r in boxes],
        "juror_image": _image_url(entry, "juror"),
    }


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def redact_entry(entry_id: int):  # noqa: ANN201
    """GET: the poster with its boxes, the juror image and the no-JS form.
    POST (no JS): add one box given in percent."""
    session = get_session()
    entry = _load_entry(session, entry_id)
    form = RedactionForm()
    status = 200
    if form.validate_on_submit():
        try:
            anonymise.add_redaction(session, entry, float(form.x.data) / 100,
                                    float(form.y.data) / 100, float(form.w.data) / 100,
                                    float(form.h.data) / 100, current_user)
        except ContestError as err:
            session.rollback()
            flash(message_for(err), "error")
            status = 400
        else:
            session.commit()
            flash("已添加遮挡区域，评委图片已重新生成", "success")
            return redirect(url_for("admin.rounds.redact_entry", entry_id=entry.id,
                                    round=request.args.get("round", type=int)))
    elif request.method == "POST":
        status = 400
    rounds = session.execute(select(Round, RoundEntry.anon_code).join(
        RoundEntry, RoundEntry.round_id == Round.id).where(RoundEntry.entry_id == entry.id)
        .order_by(Round.id)).all()
    back = session.get(Round, request.args.get("round", type=int) or 0)
    state = _state(session, entry)
    return render_template("admin/rounds/redact_entry.html", entry=entry, form=form,
                           delete_form=ConfirmForm(), rounds=rounds, back_round=back,
                           poster_url=_image_url(entry, "poster"), state=state,
                           has_original=entry.current_file(FileKind.original) is not None,
                           save_url=url_for("admin.rounds.save_redactions",
                                            entry_id=entry.id)), status


def save_redactions(entry_id: int):  # noqa: ANN201
    """POST JSON `{"rects": [{x, y, w, h}, …]}` (fractions 0..1, header X-CSRFToken): add
    the boxes, rebuild the juror images once per box (the service does it), commit.
    Returns the new state as JSON, or `{"error": "…"}` with 400."""
    session = get_session()
    entry = _load_entry(session, entry_id)
    try:
        rects = parse_rect_payload(request.get_json(silent=True))
    except ValueError as err:
        return jsonify(error=str(err)), 400
    if entry.current_file(FileKind.original) is None:
        return jsonify(error="该作品还没有图片，无法遮挡"), 400
    try:
        for x, y, w, h in rects:
            anonymise.add_redaction(session, entry, x, y, w, h, current_user)
    except ContestError as err:
        session.rollback()
        return jsonify(error=message_for(err)), 400
    session.commit()
    return jsonify(_state(session, entry))


def delete_redaction(entry_id: int, redaction_id: int):  # noqa: ANN201
    """POST: remove one box and rebuild the juror images. JSON answer for the page script,
    a redirect otherwise."""
    session = get_session()
    entry = _load_entry(session, entry_id)
    redaction = session.get(Redaction, redaction_id)
    if redaction is None or redaction.entry_id != entry.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        anonymise.remove_redaction(session, redaction, current_user)
    except ContestError as err:
        session.rollback()
        if _wants_json():
            return jsonify(error=message_for(err)), 400
        flash(message_for(err), "error")
    else:
        session.commit()
        if _wants_json():
            return jsonify(_state(session, entry))
        flash("已移除遮挡区域，评委图片已重新生成", "success")
    return redirect(url_for("admin.rounds.redact_entry", entry_id=entry.id,
                            round=request.args.get("round", type=int)))


def entry_image(entry_id: int, kind: str) -> Response:
    """The entry's current poster preview (`kind` 'poster') or juror display image
    ('juror', redactions painted in) for editors; both are metadata-free JPEGs."""
    if kind not in IMAGE_KINDS:
        abort(404)
    session = get_session()
    entry = _load_entry(session, entry_id)
    f = entry.current_file(IMAGE_KINDS[kind])
    if f is None:
        abort(404)
    response = send_file(stored_path(f), mimetype="image/jpeg", etag=f.sha256, max_age=0,
                         conditional=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
