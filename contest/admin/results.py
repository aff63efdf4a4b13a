"""Editors: 评审结果. Child blueprint of `admin` (role guard inherited).

Per round: the three aggregates side by side, the ranking method, the sensitivity line, juror
agreement and the exports. Per track: the award plan, placement, overrides, the provisional
list (拟获奖名单) and finalisation. Per contest: 优秀组织奖 / 优秀指导教师奖 and the printable
public notice (公示).

Views stay thin (STYLE.md §2): load and check (404/403), validate a form, call one service,
commit, flash, redirect. Service errors become Chinese flash messages.
"""

from __future__ import annotations


from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from contest import awards, export, notice, scoring
from contest.admin.results_forms import (ClearOverrideForm, ConfirmActionForm, FinaliseForm,
                                         MethodForm, NoticeForm, OrgDecisionForm, OverrideForm,
                                         PlanForm, ReopenForm, RulesForm)
from contest.admin.results_support import (awards_view, notice_view, round_results_view,
                                           track_summaries)
from contest.db import get_session
from contest.downloads import content_disposition
from contest.entries import current_contest
from contest.errors import ContestError
from contest.messages import ROUND_KIND_LABELS, message_for
from contest.models import Entry, OrganisationAward, Round, Track
from contest.models.results import TIER_ORDER

bp = Blueprint("results", __name__)


def _get(session: Session, model: type, object_id: int):  # noqa: ANN202
    obj = session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _flash_form_errors(form) -> None:  # noqa: ANN001
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


def _contest_or_404(session: Session):  # noqa: ANN202
    contest = current_contest(session)
    if contest is None:
        abort(404)
    return contest


@bp.route("/")
def index():  # noqa: ANN201
    session = get_session()
    contest = current_contest(session)
    tracks = track_summaries(session, contest) if contest is not None else []
    session.commit()  # default settings rows created on first view
    return render_template("admin/results/index.html", contest=contest, tracks=tracks)


# --------------------------------------------------------------------------- round results


@bp.route("/rounds/<int:round_id>")
def round_results(round_id: int):  # noqa: ANN201
    session = get_session()
    round_ = _get(session, Round, round_id)
    view = round_results_view(session, round_)
    session.commit()
    form = MethodForm(data={"method": str(view.settings.method),
                            "trimmed_min_scores": view.settings.trimmed_min_scores,
                            "top_n": view.settings.top_n})
    return render_template("admin/results/round_results.html", view=view, form=form,
                           flag_rho=scoring.AGREEMENT_FLAG_RHO,
                           flag_min=scoring.AGREEMENT_MIN_ENTRIES)


@bp.route("/rounds/<int:round_id>/method", methods=["POST"])
def set_method(round_id: int):  # noqa: ANN201
    session = get_session()
    round_ = _get(session, Round, round_id)
    form = MethodForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for(".round_results", round_id=round_id))
    try:
        scoring.set_method(session, round_, current_user, method=form.method.data,
                           trimmed_min_scores=form.trimmed_min_scores.data,
                           top_n=form.top_n.data)
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return redirect(url_for(".round_results", round_id=round_id))
    session.commit()
    flash("排名依据已保存", "success")
    return redirect(url_for(".round_results", round_id=round_id))


@bp.route("/rounds/<int:round_id>/export.<fmt>")
def export_round(round_id: int, fmt: str):  # noqa: ANN201
    session = get_session()
    round_ = _get(session, Round, round_id)
    suffix = f".{fmt}"
    if suffix not in export.EXPORT_FORMATS:
        abort(404)
    mimetype, build = export.EXPORT_FORMATS[suffix]
    data = build(session, round_, current_user)
    session.commit()
    name = export.export_filename(round_, suffix)
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(name, f"results{suffix}")
    return response


# --------------------------------------------------------------------------- awards per track


def _plan_form(session: Session, track: Track, plan, formdata=None) -> PlanForm:  # noqa: ANN001
    data = {"round_id": plan.round_id or 0, "quota_mode": str(plan.quota_mode)}
    for tier in TIER_ORDER:
        quota = plan.quota(tier)
        data[f"{tier.value}_quota"] = int(quota) if quota == int(quota) else quota
        data[f"{tier.value}_vacant"] = plan.is_vacant(tier)
    form = PlanForm(formdata=formdata, data=data) if formdata is not None else PlanForm(data=data)
    rounds = session.scalars(select(Round).where(Round.track_id == track.id)
                             .order_by(Round.id)).all()
    form.round_id.choices = [SelectChoice(0, "最新一轮（默认）")] + [
        SelectChoice(r.id, f"{r.name}（{ROUND_KIND_LABELS[str(r.kind)]}）") for r in rounds]
    return form


@bp.route("/tracks/<int:track_id>")
def track_awards(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    view = awards_view(session, track)
    session.commit()
    return render_template(
        "admin/results/track_awards.html", view=view,
        plan_form=_plan_form(session, track, view.plan), action_form=ConfirmActionForm(),
        override_form=OverrideForm(), clear_form=ClearOverrideForm(),
        finalise_form=FinaliseForm(), reopen_form=ReopenForm(),
        can_reopen=awards.can_reopen(current_user))


def _after(track_id: int, anchor: str = ""):  # noqa: ANN202
    return redirect(url_for(".track_awards", track_id=track_id) + anchor)


def _run(session: Session, action, success: str) -> bool:  # noqa: ANN001
    """Call `action()`; commit and flash `success`, or roll back and flash the error."""
    try:
        action()
    except ContestError as err:
        session.rollback()
        flash(message_for(err), "error")
        return False
    session.commit()
    flash(success, "success")
    return True


@bp.route("/tracks/<int:track_id>/plan", methods=["POST"])
def update_plan(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    plan = awards.get_plan(session, track)
    form = _plan_form(session, track, plan, formdata=request.form)
    if not form.validate():
        _flash_form_errors(form)
        return _after(track_id, "#plan")

    def action() -> None:
        awards.update_plan(
            session, track, current_user, quota_mode=form.quota_mode.data,
            quotas={t: form[f"{t.value}_quota"].data for t in TIER_ORDER},
            vacant=[t for t in TIER_ORDER if form[f"{t.value}_vacant"].data],
            round_id=form.round_id.data or None)
        if plan.placed_at is not None:  # keep the provisional list in step with the plan
            awards.apply_placement(session, track, current_user)

    _run(session, action, "获奖方案已保存" + ("，拟获奖名单已按新方案更新"
                                        if plan.placed_at is not None else ""))
    return _after(track_id, "#plan")


@bp.route("/tracks/<int:track_id>/place", methods=["POST"])
def apply_placement(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    if ConfirmActionForm().validate():
        _run(session, lambda: awards.apply_placement(session, track, current_user),
             "已按获奖方案生成拟获奖名单")
    return _after(track_id, "#provisional")


def _track_entry(session: Session, track: Track, raw: str | None) -> Entry:
    try:
        entry = session.get(Entry, int(raw or 0))
    except ValueError:
        abort(400)
    if entry is None or entry.track_id != track.id:
        abort(404)
    return entry


@bp.route("/tracks/<int:track_id>/override", methods=["POST"])
def override_award(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    form = OverrideForm()
    if not form.validate():
        _flash_form_errors(form)
        return _after(track_id, "#placement")
    entry = _track_entry(session, track, form.entry_id.data)
    _run(session, lambda: awards.override_award(session, track, entry, form.tier.data or None,
                                                form.reason.data, current_user),
         f"已调整 {entry.code} 的获奖等次（已记录原因）")
    return _after(track_id, "#placement")


@bp.route("/tracks/<int:track_id>/override/clear", methods=["POST"])
def clear_override(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    form = ClearOverrideForm()
    if not form.validate():
        abort(400)
    entry = _track_entry(session, track, form.entry_id.data)
    _run(session, lambda: awards.clear_override(session, track, entry, current_user),
         f"{entry.code} 已恢复按方案评定")
    return _after(track_id, "#placement")


@bp.route("/tracks/<int:track_id>/finalise", methods=["POST"])
def finalise(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    form = FinaliseForm()
    if not form.validate():
        _flash_form_errors(form)
        return _after(track_id, "#finalise")
    _run(session, lambda: awards.finalise(session, track, current_user),
         f"{track.name}评审结果已确认发布，单位和作者信息已显示，结果不可再修改")
    return _after(track_id)


@bp.route("/tracks/<int:track_id>/reopen", methods=["POST"])
def reopen(track_id: int):  # noqa: ANN201
    session = get_session()
    track = _get(session, Track, track_id)
    if not awards.can_reopen(current_user):
        abort(403)
    form = ReopenForm()
    if not form.validate():
        _flash_form_errors(form)
        return _after(track_id, "#finalise")
    _run(session, lambda: awards.reopen(session, track, current_user, form.reason.data),
         "已撤销确认发布，结果可再次修改（已记录原因）")
    return _after(track_id)


# --------------------------------------------------------------------------- organisation


def _rules_form(rules, formdata=None) -> RulesForm:  # noqa: ANN001
    data = {k: getattr(rules, k) for k in awards.RULE_FIELDS}
    for key, value in data.items():  # 5.0 → 5 in the number inputs
        if isinstance(value, float) and value == int(value):
            data[key] = int(value)
    data["adviser_min_tier"] = str(rules.adviser_min_tier)
    return RulesForm(formdata=formdata, data=data) if formdata is not None else RulesForm(
        data=data)


@bp.route("/organisation")
def organisation_awards():  # noqa: ANN201
    session = get_session()
    contest = _contest_or_404(session)
    rules = awards.get_rules(session, contest)
    rows = awards.organisation_awards(session, contest)
    advisers = awards.propose_adviser_awards(session, contest)
    locked = awards.contest_finalised(session, contest)
    session.commit()
    return render_template("admin/results/organisation_awards.html", contest=contest,
                           rules=rules, rows=rows, advisers=advisers, locked=locked,
                           rules_form=_rules_form(rules), action_form=ConfirmActionForm(),
                           decision_form=OrgDecisionForm())


@bp.route("/organisation/rules", methods=["POST"])
def update_rules():  # noqa: ANN201
    session = get_session()
    contest = _contest_or_404(session)
    form = _rules_form(awards.get_rules(session, contest), formdata=request.form)
    if not form.validate():
        _flash_form_errors(form)
    else:
        _run(session, lambda: awards.update_rules(
            session, contest, current_user,
            **{k: form[k].data for k in awards.RULE_FIELDS}), "评选规则已保存")
    return redirect(url_for(".organisation_awards"))


@bp.route("/organisation/propose", methods=["POST"])
def propose_organisation():  # noqa: ANN201
    session = get_session()
    contest = _contest_or_404(session)
    if ConfirmActionForm().validate():
        _run(session, lambda: awards.propose_organisation_awards(session, contest, current_user),
             "已按规则生成优秀组织奖建议名单")
    return redirect(url_for(".organisation_awards"))


@bp.route("/organisation/decide", methods=["POST"])
def decide_organisation():  # noqa: ANN201
    session = get_session()
    contest = _contest_or_404(session)
    form = OrgDecisionForm()
    if not form.validate():
        _flash_form_errors(form)
        return redirect(url_for(".organisation_awards"))
    try:
        award = session.get(OrganisationAward, int(form.award_id.data))
    except ValueError:
        abort(400)
    if award is None or award.contest_id != contest.id:
        abort(404)
    _run(session, lambda: awards.decide_organisation_award(
        session, award, form.is_awarded.data == "1", form.reason.data, current_user),
        f"已调整 {award.unit.name} 的优秀组织奖（已记录原因）")
    return redirect(url_for(".organisation_awards"))


# --------------------------------------------------------------------------- public notice


@bp.route("/notice", methods=["GET", "POST"])
def public_notice():  # noqa: ANN201
    session = get_session()
    contest = _contest_or_404(session)
    n = notice.get_notice(session, contest)
    form = NoticeForm(obj=n)
    if request.method == "POST":
        if form.validate():
            ok = _run(session, lambda: notice.update_notice(
                session, contest, current_user, title=form.title.data, issuer=form.issuer.data,
                starts_on=form.starts_on.data, working_days=form.working_days.data,
                ends_on=form.ends_on.data, contact=form.contact.data or "",
                objection_text=form.objection_text.data), "公示设置已保存")
            if ok:
                return redirect(url_for(".public_notice"))
        else:
            _flash_form_errors(form)
        status = 400
    else:
        status = 200
    view = notice_view(session, contest)
    session.commit()
    return render_template("admin/results/public_notice.html", view=view, form=form), status
