"""Jurors (评委): their open rounds, the per-juror shuffled queue, the scoring page, 回避,
submitting the round, and the juror images.

Anonymity: templates and JSON get only `JurorEntryView` / `JurorRoundView` data (STYLE.md
§5). URLs carry the round id and the round's 评审编号, never an entry id, entry code or
sequence number; images are served by opaque token and only to a juror with an active
assignment in a live round (anything else is a 404, the same as a missing page).
"""

from __future__ import annotations

from flask import (Blueprint, abort, flash, jsonify, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user

from contest import judging
from contest.assignment import declare_conflict
from contest.db import get_session
from contest.errors import ContestError, InvalidScore, NotAssigned
from contest.judge.forms import ConflictForm, SubmitSheetForm, build_score_form
from contest.messages import message_for
from contest.roles import require_roles
from contest.storage import get_storage
from contest.timeutil import format_local, utcnow

bp = Blueprint("judge", __name__)
bp.before_request(require_roles("juror"))

IMAGE_MAX_AGE_S = 3600  # private cache only; a rebuilt image gets a new token anyway


def _image_url(token: str) -> str:
    return url_for("judge.image", token=token)


def _round_or_404(round_id: int):  # noqa: ANN202
    try:
        return judging.juror_round(get_session(), current_user, round_id)
    except NotAssigned:
        abort(404)


def _view_or_404(round_, anon_code: str) -> judging.JurorEntryView:  # noqa: ANN001
    try:
        return judging.juror_entry(get_session(), current_user, round_, anon_code, _image_url)
    except NotAssigned:
        abort(404)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" \
        or request.headers.get("X-Requested-With") == "fetch"


def _counts(queue: list[judging.JurorEntryView]) -> tuple[int, int]:
    return sum(v.is_complete for v in queue), len(queue)


@bp.route("/")
def home():  # noqa: ANN201
    rounds = judging.juror_rounds(get_session(), current_user)
    return render_template("judge/home.html", rounds=rounds)


@bp.route("/r/<int:round_id>/")
def queue(round_id: int):  # noqa: ANN201
    session = get_session()
    round_ = _round_or_404(round_id)
    views = judging.juror_queue(session, current_user, round_, _image_url)
    scored, assigned = _counts(views)
    summary = next((r for r in judging.juror_rounds(session, current_user)
                    if r.round_id == round_.id), None)
    first_open = next((v for v in views if not v.is_complete), views[0] if views else None)
    return render_template("judge/queue.html", round_summary=summary, views=views,
                           scored=scored, assigned=assigned, first_open=first_open,
                           submit_form=SubmitSheetForm(), round_id=round_.id)


def _render_score(round_, view, form, conflict_form, status=200):  # noqa: ANN001, ANN202
    session = get_session()
    scored, assigned = _counts(judging.juror_queue(session, current_user, round_, _image_url))
    summary = next((r for r in judging.juror_rounds(session, current_user)
                    if r.round_id == round_.id), None)
    return render_template("judge/score.html", view=view, form=form,
                           conflict_form=conflict_form, round_summary=summary,
                           scored=scored, assigned=assigned), status


@bp.route("/r/<int:round_id>/<anon_code>", methods=["GET", "POST"])
def score(round_id: int, anon_code: str):  # noqa: ANN201
    """The scoring page. POST saves the sheet of this entry: a plain form post redirects
    (to the next entry with 保存并下一件); a fetch post (X-Requested-With: fetch) gets JSON
    {ok, total, complete, scored, assigned, saved_at} or {ok: false, errors, message}."""
    session = get_session()
    round_ = _round_or_404(round_id)
    view = _view_or_404(round_, anon_code)
    form = build_score_form(view.criteria, comment=view.comment)
    if request.method == "GET":
        return _render_score(round_, view, form, ConflictForm())
    if form.validate_on_submit():
        try:
            judging.save_scores(session, current_user, round_, anon_code, form.points(),
                                form.comment.data or "")
            session.commit()
        except InvalidScore as err:
            session.rollback()
            form.comment.errors = [message_for(err)] if err.code == "comment_too_long" else []
            return _score_failed(round_, view, form, message_for(err))
        except NotAssigned:
            session.rollback()
            abort(404)
        except ContestError as err:
            session.rollback()
            return _score_failed(round_, view, form, message_for(err), status=409)
        view = _view_or_404(round_, anon_code)
        queue_views = judging.juror_queue(session, current_user, round_, _image_url)
        scored, assigned = _counts(queue_views)
        if _wants_json():
            return jsonify(ok=True, total=view.points_total, complete=view.is_complete,
                           scored=scored, assigned=assigned,
                           saved_at=format_local(utcnow())[-5:])
        if form.save_next.data:
            if view.next_code:
                return redirect(url_for(".score", round_id=round_id, anon_code=view.next_code))
            flash("已保存。这是最后一件作品，请检查后提交本轮评分。", "success")
            return redirect(url_for(".queue", round_id=round_id))
        flash(f"已保存 {view.anon_code} 的评分", "success")
        return redirect(url_for(".score", round_id=round_id, anon_code=anon_code))
    return _score_failed(round_, view, form, "评分未保存，请按提示修改")


def _score_failed(round_, view, form, message: str, status: int = 422):  # noqa: ANN001, ANN202
    if _wants_json():
        errors = {name: list(field.errors) for name, field in form._fields.items()
                  if field.errors}
        return jsonify(ok=False, message=message, errors=errors), status
    flash(message, "error")
    return _render_score(round_, view, form, ConflictForm(), status=status)


@bp.route("/r/<int:round_id>/<anon_code>/conflict", methods=["POST"])
def conflict(round_id: int, anon_code: str):  # noqa: ANN201
    """Declare a conflict of interest (回避) on this entry; it is reassigned automatically."""
    session = get_session()
    round_ = _round_or_404(round_id)
    view = _view_or_404(round_, anon_code)
    form = ConflictForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".score", round_id=round_id, anon_code=anon_code))
    try:
        entry = judging.resolve_entry(session, current_user, round_, anon_code)
        declare_conflict(session, current_user, round_, entry, form.reason.data)
        session.commit()
    except NotAssigned:
        session.rollback()
        abort(404)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".score", round_id=round_id, anon_code=anon_code))
    # whether another juror took it over is editors' business, not the juror's
    flash(f"已对作品 {view.anon_code} 回避，该作品将由其他评委评审。", "success")
    if view.next_code:
        return redirect(url_for(".score", round_id=round_id, anon_code=view.next_code))
    return redirect(url_for(".queue", round_id=round_id))


@bp.route("/r/<int:round_id>/submit", methods=["POST"])
def submit_round(round_id: int):  # noqa: ANN201
    """Submit (lock) the juror's score sheet of the round."""
    session = get_session()
    round_ = _round_or_404(round_id)
    form = SubmitSheetForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".queue", round_id=round_id))
    try:
        judging.submit_sheet(session, current_user, round_)
        session.commit()
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".queue", round_id=round_id))
    flash("本轮评分已提交，评分表已锁定。感谢您的评审！如需修改请联系编辑解锁。", "success")
    return redirect(url_for(".queue", round_id=round_id))


@bp.route("/img/<token>")
def image(token: str):  # noqa: ANN201
    """A juror image by opaque token; 404 unless the juror has an active assignment for
    its entry in a live round. Private cache; no file name, no entry reference."""
    f = judging.image_for_juror(get_session(), current_user, token)
    if f is None:
        abort(404)
    try:
        fh = get_storage().open(f.storage_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(fh, mimetype="image/jpeg", etag=f.sha256[:32], conditional=True,
                         max_age=None, last_modified=None)
    response.headers["Cache-Control"] = f"private, max-age={IMAGE_MAX_AGE_S}"
    response.headers.pop("Content-Disposition", None)
    return response
