"""Entrants (参赛单位): dashboard, new / edit entry, image, submit, withdraw, own files.

Every entry page loads the entry through `entries.entry_of_unit`: another unit's entry is
a 404, never a 403, so its existence does not leak. Image work runs before the write
transaction (PITFALLS.md #13); a refused upload leaves no file behind.

Uploads posted by `static/js/upload.js` (header X-Requested-With: XMLHttpRequest) get JSON
`{"redirect": url}` on success, so the flashed message survives for the next page; on a
refused form they get the same HTML page as without JavaScript (status 422).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, send_file, url_for)
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage

from contest import entries
from contest.db import get_session
from contest.downloads import send_original, stored_path
from contest.errors import ContestError, InvalidImage, RulesBroken
from contest.messages import message_for
from contest.models import Contest, Entry, EntryStatus, FileKind, Track, TrackKind
from contest.roles import require_roles
from contest.storage import get_storage, receive_upload
from contest.submit.forms import IMAGE_ACCEPT, EntryForm, ImageForm, WithdrawForm, field_of
from contest.timeutil import utcnow

T = TypeVar("T")

log = logging.getLogger(__name__)
bp = Blueprint("submit", __name__)
bp.before_request(require_roles("entrant"))

STATUS_BADGES = {EntryStatus.draft: "warn", EntryStatus.submitted: "ok",
                 EntryStatus.withdrawn: "", EntryStatus.disqualified: "err"}
IMAGE_KINDS = {"preview": FileKind.preview, "thumb": FileKind.thumb}


# ------------------------------------------------------------------------------- helpers


def _own_entry(entry_id: int) -> Entry:
    entry = entries.entry_of_unit(get_session(), entry_id, current_user.unit_id)
    if entry is None:
        abort(404)
    return entry


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _done(url: str):  # noqa: ANN202
    """Success: a redirect, or JSON naming it for the XHR upload."""
    return jsonify(redirect=url) if _wants_json() else redirect(url)


def image_limits(contest: Contest) -> dict[str, Any]:
    """The contest's image rules for the template and upload.js data attributes
    (px, bytes; None = rule off)."""
    cfg = current_app.config
    return {"formats": ",".join(sorted(contest.formats)), "min_width_px": contest.min_width_px,
            "min_size_bytes": contest.min_size_bytes, "max_size_bytes": contest.max_size_bytes,
            "max_pixels": cfg["MAX_IMAGE_PIXELS"], "max_request_bytes": cfg["MAX_CONTENT_LENGTH"],
            "max_statement_chars": contest.max_statement_chars}


def _chosen_file(field: Any) -> FileStorage | None:
    data = field.data
    if isinstance(data, FileStorage) and (data.filename or data.content_length):
        return data
    return None


class _Upload:
    """One received file: streamed to a temporary file, validated and stored by
    `entries.prepare_image`; `close()` removes the temporary file."""

    def __init__(self, contest: Contest, file: FileStorage | None) -> None:
        self.file = file
        self.contest = contest
        self.path: Path | None = None
        self.prepared: entries.PreparedImage | None = None
        self.errors: list[ContestError] = []

    def prepare(self) -> None:
        if self.file is None:
            return
        cfg = current_app.config
        self.path, _size, _sha = receive_upload(self.file.stream,
                                                Path(cfg["UPLOAD_DIR"]) / "incoming")
        try:
            self.prepared = entries.prepare_image(
                self.path, rules=entries.intake_rules(self.contest, cfg["MAX_IMAGE_PIXELS"]),
                storage=get_storage(), original_filename=self.file.filename,
                preview_long_edge_px=cfg["PREVIEW_LONG_EDGE_PX"],
                thumb_long_edge_px=cfg["THUMB_LONG_EDGE_PX"])
        except RulesBroken as err:
            self.errors += err.errors
        except InvalidImage as err:
            self.errors.append(err)

    def discard(self) -> None:
        entries.discard_prepared(get_session(), get_storage(), self.prepared)
        self.prepared = None

    def confirm(self) -> None:
        entries.confirm_stored(get_storage(), self.prepared)

    def close(self) -> None:
        if self.path is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


def _end_read_transaction() -> None:
    """Close the read transaction before slow image work: on SQLite a read snapshot held
    across it could not be upgraded to a write later (PITFALLS.md #13)."""
    get_session().commit()


def _write(work: Callable[[], T], attempts: int = 3) -> T:
    """Run `work()` and commit. SQLite refuses a write whose transaction began before
    another writer's commit ("database is locked", PITFALLS.md #13, schools uploading
    near the deadline); then everything is rolled back and `work` runs again on fresh
    data, up to `attempts` times. ContestErrors propagate (the caller rolls back)."""
    session = get_session()
    for attempt in range(attempts):
        try:
            result = work()
            session.commit()
            return result
        except OperationalError as err:
            session.rollback()
            if attempt == attempts - 1 or "locked" not in str(err).lower():
                raise
            time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
    raise AssertionError("unreachable")


def _busy_error() -> ContestError:
    return ContestError("busy")


def _prebuild_juror_images(entry_id: int) -> None:
    """Render a submitted entry's anonymised juror images now (~0.3 s per A4 poster), after
    the entrant's change is committed, so that opening a round later has (almost) nothing
    left to render: at 600 entries that was minutes inside the editor's request. A failure
    here never affects the submission; opening the round builds whatever is missing."""
    from contest import anonymise

    session = get_session()
    entry = session.get(Entry, entry_id)
    if entry is None or entry.status != EntryStatus.submitted:
        return
    try:
        anonymise.ensure_juror_images(session, entry)
        session.commit()
    except (ContestError, OperationalError, OSError, ValueError):
        session.rollback()
        log.warning("juror images for entry %s not prebuilt", entry_id, exc_info=True)


FIELD_ORDER = ("", "track", "image", "title", "authors", "adviser", "statement",
               "caption_time", "caption_place", "caption_people", "caption_event", "ai_use",
               "content_review_confirmed", "content_reviewer", "originality_confirmed")


def _in_form_order(errors: list[ContestError]) -> list[ContestError]:
    rank = {name: i for i, name in enumerate(FIELD_ORDER)}
    return sorted(errors, key=lambda e: rank.get(field_of(e), len(rank)))


def _error_rows(errors: list[ContestError]) -> list[dict[str, str]]:
    """Errors for the summary box, in form order: message, rule code, field and the
    six-code reason (data-reason; the corpus test reads it)."""
    return [{"message": message_for(e), "code": e.code, "field": field_of(e),
             "reason": getattr(e, "reason", e.code)} for e in _in_form_order(errors)]


# ----------------------------------------------------------------------------- dashboard


@bp.before_request
def _require_unit():  # noqa: ANN202
    """An entrant account without a unit (a data error) sees the dashboard's notice only."""
    if current_user.is_authenticated and current_user.unit_id is None \
            and request.endpoint != "submit.dashboard":
        abort(404)


@bp.route("/")
def dashboard():  # noqa: ANN201
    session = get_session()
    contest = entries.current_contest(session) if current_user.unit_id else None
    tracks = []
    if contest is not None:
        mine = entries.unit_entries(session, current_user.unit, contest)
        is_open = entries.is_open(contest)
        for track in contest.tracks:
            rows = [e for e in mine if e.track_id == track.id]
            submitted = sum(1 for e in rows if e.status == EntryStatus.submitted)
            limit = contest.max_entries_per_unit_per_track
            tracks.append({"track": track, "entries": rows, "submitted": submitted,
                           "limit": limit, "remaining": max(0, limit - submitted),
                           "can_create": is_open})
    return render_template("submit/dashboard.html", contest=contest, tracks=tracks,
                           is_open=contest is not None and entries.is_open(contest),
                           limits=image_limits(contest) if contest else None,
                           badges=STATUS_BADGES, now=utcnow())


# ------------------------------------------------------------------------ entry form


def _render_form(form: EntryForm, *, contest: Contest, track: Track, entry: Entry | None,
                 errors: list[ContestError] | None = None, status: int = 200):  # noqa: ANN202
    errors = errors or []
    general = form.apply_errors(errors)
    action = (url_for("submit.edit_entry", entry_id=entry.id) if entry is not None
              else url_for("submit.new_entry", track=track.kind.value))
    quota_full = (entry is None or entry.status != EntryStatus.submitted) and \
        entries.remaining_quota(get_session(), current_user.unit, track) == 0
    page = render_template("submit/entry_form.html", form=form, contest=contest, track=track,
                           entry=entry, form_action=action, error_rows=_error_rows(errors),
                           quota_full=quota_full,
                           general_errors=[message_for(e) for e in general],
                           limits=image_limits(contest), accept=IMAGE_ACCEPT,
                           current_image=entry.current_file(FileKind.thumb) if entry else None)
    return page, status


def _save_entry_form(form: EntryForm, *, contest: Contest, track: Track,
                     entry: Entry | None):  # noqa: ANN202
    """POST of the entry form: validate the upload, save the fields (and image), then
    submit if asked ("提交"). Every problem is shown at once; nothing typed is lost: a
    refused form comes back filled in, and when only the submission rules fail (a caption
    missing...) the draft and its image are kept."""
    session = get_session()
    action = "submit" if request.form.get("action") == "submit" else "draft"
    data = entries.EntryData.from_mapping(form.data)
    existing_id = entry.id if entry is not None else None
    was_submitted = entry is not None and entry.status == EntryStatus.submitted
    upload = _Upload(contest, _chosen_file(form.image))
    try:
        _end_read_transaction()
        upload.prepare()
        problems: list[ContestError] = list(upload.errors)
        problems += entries.storage_problems(data, contest)
        if problems:
            # nothing is saved; for 提交 also say what else would stop the submission
            if action == "submit" or was_submitted:
                has_image = upload.prepared is not None or (
                    entry is not None and entry.current_file(FileKind.original) is not None)
                seen = {(p.code, str(p.params.get("field"))) for p in problems}
                problems += [p for p in entries.rule_problems(data, contest, has_image=has_image)
                             if (p.code, str(p.params.get("field"))) not in seen
                             and not (upload.errors and p.code == "image_missing")]
            upload.discard()
            return _render_form(form, contest=contest, track=track, entry=entry,
                                errors=problems, status=422)

        def write() -> tuple[Entry, list[ContestError]]:
            if existing_id is None:
                saved = entries.create_draft(session, contest=contest, track=track,
                                             unit=current_user.unit, data=data,
                                             created_by=current_user)
            else:
                saved = session.get(Entry, existing_id)
                entries.update_entry(session, saved, data, actor=current_user)
            if upload.prepared is not None:
                entries.attach_image(session, saved, upload.prepared, actor=current_user)
            if action == "submit" and saved.status != EntryStatus.submitted:
                try:
                    entries.submit_entry(session, saved, actor=current_user, data=data)
                except RulesBroken as err:
                    return saved, err.errors  # the draft is kept; the submission waits
            return saved, []

        try:
            entry, submit_errors = _write(write)
        except (ContestError, OperationalError) as err:
            session.rollback()
            upload.discard()
            errs = err.errors if isinstance(err, RulesBroken) else (
                [err] if isinstance(err, ContestError) else [_busy_error()])
            entry = session.get(Entry, existing_id) if existing_id else None
            return _render_form(form, contest=contest, track=track, entry=entry, errors=errs,
                                status=422)
        upload.confirm()
        _prebuild_juror_images(entry.id)
        if submit_errors:
            # the draft (and its image) is kept: only the submission waits
            flash("作品已暂存，但还不能提交：请按下面的提示修改后再点“提交”。", "warning")
            return _render_form(form, contest=contest, track=track, entry=entry,
                                errors=submit_errors, status=422)
        if entry.status == EntryStatus.submitted and not was_submitted:
            flash(f"作品已提交，作品编号 {entry.code}。截止时间前仍可修改或撤回。", "success")
        elif entry.status == EntryStatus.submitted:
            flash("修改已保存。", "success")
        else:
            flash("作品已暂存（尚未提交）。信息齐全后请点“提交”。", "success")
        return _done(url_for("submit.show_entry", entry_id=entry.id))
    finally:
        upload.close()


def _track_or_404(contest: Contest, kind: str | None) -> Track:
    try:
        track = contest.track(TrackKind(kind or ""))
    except ValueError:
        track = None
    if track is None:
        abort(404)
    return track


@bp.route("/entries/new", methods=["GET", "POST"])
def new_entry():  # noqa: ANN201
    session = get_session()
    contest = entries.current_contest(session)
    if contest is None:
        abort(404)
    track = _track_or_404(contest, request.args.get("track"))
    if not entries.is_open(contest):
        flash(message_for(ContestError("phase_closed", deadline=contest.submissions_close_at,
                                       action="新建作品")), "error")
        return redirect(url_for("submit.dashboard"))
    form = EntryForm()
    if form.validate_on_submit():
        return _save_entry_form(form, contest=contest, track=track, entry=None)
    return _render_form(form, contest=contest, track=track, entry=None,
                        status=400 if request.method == "POST" else 200)


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
def edit_entry(entry_id: int):  # noqa: ANN201
    entry = _own_entry(entry_id)
    if not entries.can_edit(entry):
        flash(_closed_message(entry, "修改"), "error")
        return redirect(url_for("submit.show_entry", entry_id=entry.id))
    form = EntryForm(obj=entry) if request.method == "GET" else EntryForm()
    if request.method == "GET":
        declared = entries.EntryData.from_entry(entry).ai_use
        form.ai_use.data = declared.value if declared else None
    if form.validate_on_submit():
        return _save_entry_form(form, contest=entry.contest, track=entry.track, entry=entry)
    return _render_form(form, contest=entry.contest, track=entry.track, entry=entry,
                        status=400 if request.method == "POST" else 200)


def _closed_message(entry: Entry, action: str) -> str:
    if entry.status not in entries.EDITABLE_STATUSES:
        return message_for(ContestError("not_editable", status=str(entry.status)))
    if entries.in_judging(entry):
        return message_for(ContestError("in_judging", action=action))
    return message_for(ContestError("phase_closed", deadline=entry.contest.submissions_close_at,
                                    action=action))


# ----------------------------------------------------------------------- entry detail


@bp.route("/entries/<int:entry_id>")
def show_entry(entry_id: int):  # noqa: ANN201
    session = get_session()
    entry = _own_entry(entry_id)
    can_edit = entries.can_edit(entry)
    problems = []
    if can_edit and entry.status != EntryStatus.submitted:
        problems = entries.submission_problems(session, entry)
    return render_template(
        "submit/show_entry.html", entry=entry, contest=entry.contest, can_edit=can_edit,
        can_withdraw=can_edit and entry.status in (EntryStatus.draft, EntryStatus.submitted),
        can_submit=can_edit and entry.status != EntryStatus.submitted,
        problems=[message_for(p) for p in problems], badges=STATUS_BADGES,
        original=entry.current_file(FileKind.original),
        preview=entry.current_file(FileKind.preview))


@bp.route("/entries/<int:entry_id>/submit", methods=["POST"])
def submit_entry(entry_id: int):  # noqa: ANN201
    session = get_session()
    entry = _own_entry(entry_id)
    try:
        _write(lambda: entries.submit_entry(session, session.get(Entry, entry_id),
                                            actor=current_user))
    except RulesBroken as err:
        session.rollback()
        for e in err.errors:
            flash(message_for(e), "error")
        return redirect(url_for("submit.show_entry", entry_id=entry_id))
    except (ContestError, OperationalError) as err:
        session.rollback()
        flash(message_for(err if isinstance(err, ContestError) else _busy_error()), "error")
        return redirect(url_for("submit.show_entry", entry_id=entry_id))
    _prebuild_juror_images(entry_id)
    flash(f"作品已提交，作品编号 {entry.code}。截止时间前仍可修改或撤回。", "success")
    return redirect(url_for("submit.show_entry", entry_id=entry_id))


@bp.route("/entries/<int:entry_id>/image", methods=["GET", "POST"])
def replace_image(entry_id: int):  # noqa: ANN201
    session = get_session()
    entry = _own_entry(entry_id)
    if not entries.can_edit(entry):
        flash(_closed_message(entry, "替换图片"), "error")
        return redirect(url_for("submit.show_entry", entry_id=entry.id))
    form = ImageForm()
    errors: list[ContestError] = []
    status = 200
    if form.validate_on_submit():
        upload = _Upload(entry.contest, _chosen_file(form.image))
        try:
            if upload.file is None:
                errors = [ContestError("image_missing", field="image")]
            else:
                _end_read_transaction()
                upload.prepare()
                errors = list(upload.errors)
            if not errors:
                try:
                    _write(lambda: entries.attach_image(session, session.get(Entry, entry_id),
                                                        upload.prepared, actor=current_user))
                except (ContestError, OperationalError) as err:
                    session.rollback()
                    upload.discard()
                    errors = [err if isinstance(err, ContestError) else _busy_error()]
                else:
                    upload.confirm()
                    _prebuild_juror_images(entry_id)
                    flash("图片已更换。", "success")
                    return _done(url_for("submit.show_entry", entry_id=entry.id))
            upload.discard()
        finally:
            upload.close()
        status = 422
    elif request.method == "POST":
        status = 400
    general = form.apply_errors(errors)
    return render_template("submit/replace_image.html", form=form, entry=entry,
                           contest=entry.contest, limits=image_limits(entry.contest),
                           accept=IMAGE_ACCEPT, error_rows=_error_rows(errors),
                           general_errors=[message_for(e) for e in general],
                           current_image=entry.current_file(FileKind.thumb)), status


@bp.route("/entries/<int:entry_id>/withdraw", methods=["GET", "POST"])
def withdraw_entry(entry_id: int):  # noqa: ANN201
    session = get_session()
    entry = _own_entry(entry_id)
    form = WithdrawForm()
    if request.method == "POST" and form.validate_on_submit():
        if not form.confirm.data:
            flash("请勾选“我确认撤回该作品”后再点“撤回”。", "error")
        else:
            try:
                _write(lambda: entries.withdraw_entry(session, session.get(Entry, entry_id),
                                                      actor=current_user))
            except (ContestError, OperationalError) as err:
                session.rollback()
                flash(message_for(err if isinstance(err, ContestError) else _busy_error()),
                      "error")
                return redirect(url_for("submit.show_entry", entry_id=entry.id))
            flash("作品已撤回。截止时间前可以重新提交。", "success")
            return redirect(url_for("submit.show_entry", entry_id=entry.id))
    if not entries.can_edit(entry) or entry.status not in (EntryStatus.draft,
                                                           EntryStatus.submitted):
        flash(_closed_message(entry, "撤回") if not entries.can_edit(entry)
              else "该作品已撤回。", "error")
        return redirect(url_for("submit.show_entry", entry_id=entry.id))
    return render_template("submit/withdraw_entry.html", entry=entry, form=form)


# ----------------------------------------------------------------------------- files


@bp.route("/entries/<int:entry_id>/files/<kind>")
def entry_image(entry_id: int, kind: str):  # noqa: ANN201
    """The entrant's own preview or thumbnail (derived JPEG, no metadata)."""
    entry = _own_entry(entry_id)
    if kind not in IMAGE_KINDS:
        abort(404)
    file = entry.current_file(IMAGE_KINDS[kind])
    if file is None:
        abort(404)
    return send_file(stored_path(file), mimetype="image/jpeg", max_age=0)


@bp.route("/entries/<int:entry_id>/original")
def download_original(entry_id: int):  # noqa: ANN201
    """The unit's own original file, unchanged, named '单位-作品名称.jpg' (werkzeug adds
    an ASCII fallback and RFC 5987 `filename*`)."""
    entry = _own_entry(entry_id)
    file = entry.current_file(FileKind.original)
    if file is None:
        abort(404)
    return send_original(entry, file)


__all__ = ["bp"]
