"""Editors: 评审轮次. Child blueprint of `admin` (role guard inherited).

Rounds per track, creating a round (rubric, jurors, later rounds from a previewed shortlist),
a round's detail (open / close / re-run assignment, progress per juror and per entry, unlock a
sheet). Redaction, conflicts of interest and the audit log live in their own modules and are
routed here, so every endpoint reads `admin.rounds.<verb_noun>`.

Views stay thin (STYLE.md §2): load and check, validate a form, call one service, commit,
flash, redirect. Times are typed and shown in China Standard Time and stored in UTC.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from contest import accounts, assignment, judging, messages
from contest import rounds as round_service
from contest.admin import audit_log as audit_views
from contest.admin import conflicts as conflict_views
from contest.admin import redaction as redaction_views
from contest.admin.rounds_forms import ConfirmForm, RoundForm, UnlockSheetForm, as_choices
from contest.admin.rounds_support import (current_contest, entry_admin_url, juror_choices,
                                          round_detail_view, round_summaries, shortlist_preview,
                                          unit_choices)
from contest.db import get_session
from contest.errors import ContestError
from contest.messages import message_for
from contest.models import (Contest, Round, RoundJuror, RoundKind, RoundStatus, Track, Unit,
                            User)

bp = Blueprint("rounds", __name__)

# Redaction, conflicts and the audit log: own modules, same blueprint (explicit URL table).
for rule, endpoint, view, methods in (
    ("/entries/<int:entry_id>/redact", "redact_entry", redaction_views.redact_entry,
     ["GET", "POST"]),
    ("/entries/<int:entry_id>/redactions", "save_redactions", redaction_views.save_redactions,
     ["POST"]),
    ("/entries/<int:entry_id>/redactions/<int:redaction_id>/delete", "delete_redaction",
     redaction_views.delete_redaction, ["POST"]),
    ("/entries/<int:entry_id>/image/<kind>", "entry_image", redaction_views.entry_image,
     ["GET"]),
    ("/conflicts", "list_conflicts", conflict_views.list_conflicts, ["GET", "POST"]),
    ("/audit", "audit_log", audit_views.audit_log, ["GET"]),
):
    bp.add_url_rule(rule, endpoint, view, methods=methods)


def _load_round(session: Session, round_id: int) -> Round:
    round_ = session.get(Round, round_id)
    if round_ is None:
        abort(404)
    return round_


@bp.route("/")
def list_rounds():  # noqa: ANN201
    """Rounds of the current contest per track, with status, window and progress."""
    session = get_session()
    contest = current_contest(session)
    tracks = contest.tracks if contest is not None else []
    return render_template("admin/rounds/list_rounds.html", contest=contest,
                           tracks=round_summaries(session, tracks))


def _fill_choices(session: Session, form: RoundForm, contest: Contest) -> None:
    form.track.choices = as_choices([(t.id, t.name) for t in contest.tracks])
    form.jurors.choices = juror_choices(session)
    form.new_juror_unit.choices = [SelectChoice(0, "（不填）")] + unit_choices(session)
    rounds = session.scalars(select(Round).where(Round.track_id.in_([t.id for t in
                                                                      contest.tracks]))
                             .order_by(Round.id)).all()
    form.previous_round.choices = [SelectChoice(0, "（不选）")] + [
        SelectChoice(r.id, f"{r.name}（{messages.ROUND_STATUS_LABELS[r.status]}）",
                     optgroup=r.track.name) for r in rounds]


@bp.route("/new", methods=["GET", "POST"])
def create_round():  # noqa: ANN201
    """GET: the form with the default rubric. POST buttons: 新建评委账号 (create a juror
    account, come back with it ticked), 预览入围作品 (later rounds), 创建评审轮次
    (`rounds.create_round`; a later round only with the shortlist just previewed)."""
    session = get_session()
    contest = current_contest(session)
    if contest is None:
        flash("还没有创建比赛，无法设置评审轮次", "error")
        return redirect(url_for(".list_rounds"))
    form = RoundForm()
    _fill_choices(session, form, contest)
    ctx: dict = {"contest": contest, "preview": None, "new_account": None}

    def show(status: int = 200):  # noqa: ANN202
        form.add_blank_rows()
        return render_template("admin/rounds/create_round.html", form=form, **ctx), status

    if request.method == "GET":
        track_id = request.args.get("track", type=int)
        track_ids = [t.id for t in contest.tracks]
        form.track.data = track_id if track_id in track_ids else track_ids[0]
        kind = request.args.get("kind", RoundKind.preliminary.value)
        form.kind.data = kind if kind in RoundKind.__members__ else RoundKind.preliminary.value
        form.name.data = messages.ROUND_KIND_LABELS[form.kind.data]
        prev = request.args.get("previous", type=int)
        if prev and any(c.value == prev for c in form.previous_round.choices):
            form.previous_round.data = prev
        form.fill_default_rubric()
        return show()

    if form.add_juror.data:
        existing = set(session.scalars(select(User.login)))
        if not form.validate_new_juror(existing):
            return show(400)
        unit_id = form.new_juror_unit.data or None
        try:
            user, password = accounts.create_juror(
                session, login=form.new_juror_login.data, display_name=form.new_juror_name.data,
                unit=session.get(Unit, unit_id) if unit_id else None,
                actor=current_user)
        except ContestError as err:
            form.new_juror_login.errors = [message_for(err)]
            return show(400)
        session.commit()
        form.jurors.choices = juror_choices(session)
        form.jurors.data = list(form.jurors.data or []) + [user.id]
        form.new_juror_login.data = form.new_juror_name.data = ""
        form.new_juror_unit.data = 0
        ctx["new_account"] = (user, password)
        return show()

    if not form.validate():
        return show(400)
    track = session.get(Track, form.track.data)
    if track is None or track.contest_id != contest.id:
        abort(404)
    previous = None
    entry_ids = None
    if form.takes_shortlist:
        previous = session.get(Round, form.previous_round.data)
        if previous is None or previous.track_id != track.id:
            form.previous_round.errors = ["上一轮须与本轮属于同一赛道"]
            return show(400)
        preview = shortlist_preview(session, previous, form.shortlist_rule.data,
                                    top_n=form.top_n.data, threshold=form.threshold.data)
        ctx["preview"] = preview
        ids = ",".join(str(i) for i in preview.entry_ids)
        if form.preview.data or form.previewed_ids.data != ids:
            if form.create.data:
                flash("入围名单与预览时不同（规则或分数已变化），请确认后再创建", "warning")
            form.previewed_ids.data = ids
            return show()
        if previous.status != RoundStatus.closed:
            flash(f"上一轮“{previous.name}”尚未结束，请先结束上一轮再按其结果创建新一轮", "error")
            return show(400)
        if not preview.entry_ids:
            flash("按此规则没有作品入围，请调整入围名额或分数线", "error")
            return show(400)
        entry_ids = preview.entry_ids
    jurors = list(session.scalars(select(User).where(User.id.in_(form.jurors.data))))
    try:
        round_ = round_service.create_round(
            session, track, kind=form.kind.data, name=form.name.data, jurors=jurors,
            jurors_per_entry=form.jurors_per_entry.data, criteria=form.rubric(),
            previous_round=previous, entry_ids=entry_ids,
            opens_at=form.opens_at.data, closes_at=form.closes_at.data,
            show_title=form.show_title.data, show_statement=form.show_statement.data,
            actor=current_user)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return show(400)
    session.commit()
    flash(f"已创建评审轮次“{round_.name}”（{len(round_.round_entries)}件作品，"
          f"{len(round_.jurors)}位评委）。检查无误后请开启本轮。", "success")
    return redirect(url_for(".round_detail", round_id=round_.id))


@bp.route("/<int:round_id>")
def round_detail(round_id: int):  # noqa: ANN201
    """One round: settings, actions, progress per juror and per entry, reminder text."""
    session = get_session()
    round_ = _load_round(session, round_id)
    return render_template("admin/rounds/round_detail.html", round_=round_,
                           detail=round_detail_view(session, round_),
                           confirm_form=ConfirmForm(), unlock_form=UnlockSheetForm(),
                           entry_admin_url=entry_admin_url)


@bp.route("/<int:round_id>/open", methods=["POST"])
def open_round(round_id: int):  # noqa: ANN201
    """POST: open the round (`rounds.open_round`: assignment and juror images)."""
    session = get_session()
    round_ = _load_round(session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        report = round_service.open_round(session, round_, current_user)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".round_detail", round_id=round_id))
    session.commit()
    flash(f"已开启“{round_.name}”：分配{report.total_active}份评审任务", "success")
    if report.shortfalls:
        flash(f"有{len(report.shortfalls)}件作品的评委人数不足{round_.jurors_per_entry}人"
              "（评委不够或存在回避），请增加评委后重新分配", "warning")
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.route("/<int:round_id>/close", methods=["POST"])
def close_round(round_id: int):  # noqa: ANN201
    """POST: close the round (`rounds.close_round`)."""
    session = get_session()
    round_ = _load_round(session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        round_service.close_round(session, round_, current_user)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".round_detail", round_id=round_id))
    session.commit()
    flash(f"已结束“{round_.name}”，评委不能再查看或修改本轮评分", "success")
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.route("/<int:round_id>/assign", methods=["POST"])
def rerun_assignment(round_id: int):  # noqa: ANN201
    """POST: run `assignment.assign` again: fills gaps, drops conflicts, keeps scores."""
    session = get_session()
    round_ = _load_round(session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        report = assignment.assign(session, round_, actor=current_user)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".round_detail", round_id=round_id))
    session.commit()
    flash(f"已重新分配：共{report.total_active}份评审任务，已有评分全部保留", "success")
    if report.shortfalls:
        flash(f"有{len(report.shortfalls)}件作品的评委人数不足{round_.jurors_per_entry}人", "warning")
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.route("/<int:round_id>/jurors/<int:round_juror_id>/unlock", methods=["POST"])
def unlock_sheet(round_id: int, round_juror_id: int):  # noqa: ANN201
    """POST: unlock one juror's submitted sheet with a reason (`judging.unlock_sheet`)."""
    session = get_session()
    round_ = _load_round(session, round_id)
    round_juror = session.get(RoundJuror, round_juror_id)
    if round_juror is None or round_juror.round_id != round_.id:
        abort(404)
    form = UnlockSheetForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(e, "error")
        return redirect(url_for(".round_detail", round_id=round_id) + "#jurors")
    try:
        judging.unlock_sheet(session, round_juror, current_user, form.reason.data.strip())
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".round_detail", round_id=round_id) + "#jurors")
    session.commit()
    name = round_juror.juror.display_name or round_juror.juror.login
    flash(f"已解锁{name}的评分表，原因已记入操作日志", "success")
    return redirect(url_for(".round_detail", round_id=round_id) + "#jurors")

