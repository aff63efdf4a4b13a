"""Editors: 查重审核. Child blueprint of `admin` (role guard inherited).

- `queue`: the open duplicate flags of the current contest, grouped into clusters (connected
  components over flagged pairs), with counts per class, and the latest decisions.
- `pair`: one flagged pair side by side at one scale, B aligned onto A, a difference image
  (and, with JavaScript, a slider and a blink comparison), class and scores, both entries'
  units, tracks, codes and submission times; the decision form ("不是重复" or "取消作品 X
  的参赛资格", reason required), logged with who and when. Decided pairs never come back.
- `references`: the reference library (往届作品库) by label, with upload.

Services: `contest.dedup.service` (flags, clusters, decisions, reference import) and
`contest.dedup.pair_view` (the comparison images).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import current_user
from flask_wtf.file import MultipleFileField
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from contest import imaging
from contest.db import get_session
from contest.dedup import pair_view, service
from contest.entries import current_contest
from contest.errors import ContestError
from contest.forms import BaseForm
from contest.messages import message_for
from contest.models import (AuditEvent, DedupKind, DuplicateFlag, Entry, EntryFile, FileKind,
                            FlagStatus, ReferenceImage)
from contest.storage import get_storage, receive_upload

bp = Blueprint("dedup", __name__)

_RENDERS = pair_view.RenderCache(size=24)
REFERENCES_PER_PAGE = 120
# The reference upload takes several posters at once; the app-wide request cap is sized for
# one poster (MAX_UPLOAD_MB).
REFERENCE_UPLOAD_MAX_BYTES = 200 * 1024 * 1024
PREVIEW_DRAFT_PX = (1600, 1600)


# ----------------------------------------------------------------------------- forms

class DecisionForm(BaseForm):
    """An editor's decision on one flagged pair; choices are set per pair."""

    decision = RadioField("处理结果", choices=[],
                          validators=[InputRequired(message="请选择处理结果")])
    reason = TextAreaField("原因（必填，会记入操作日志；取消参赛资格时参赛单位会看到）",
                           validators=[DataRequired(message="请填写原因"),
                                       Length(max=service.REASON_MAX_CHARS,
                                              message="原因不超过%(max)d字")])


class ReferenceUploadForm(BaseForm):
    """Upload posters to the reference library under a label."""

    label = StringField("标签", validators=[DataRequired(message="请填写标签，例如“2023 获奖作品”"),
                                          Length(max=100, message="标签不超过%(max)d字")])
    files = MultipleFileField("图片（JPG 或 PNG，可多选）")


# ----------------------------------------------------------------------------- helpers

@dataclass
class Side:
    """One side of a flagged pair for the templates: an entry (with the original that was
    compared) or a reference image."""

    letter: str
    entry: Entry | None = None
    original: EntryFile | None = None
    reference: ReferenceImage | None = None

    @property
    def name(self) -> str:
        if self.reference is not None:
            return f"往届作品库 · {self.reference.label}"
        return self.entry.code or f"暂存作品 #{self.entry.id}"

    @property
    def is_replaced(self) -> bool:
        """The compared image is no longer the entry's current image."""
        return self.original is not None and not self.original.is_current


def _derivative(entry: Entry | None, original: EntryFile | None,
                kind: FileKind) -> EntryFile | None:
    """The preview/thumb made from `original`: intake adds them right after it, so it is
    the first file of `kind` with a higher id; the entry's current one as a fallback."""
    if entry is None:
        return None
    if original is not None:
        later = [f for f in entry.files if f.kind == kind and f.id > original.id]
        if later:
            return min(later, key=lambda f: f.id)
    return entry.current_file(kind)


def _sides(flag: DuplicateFlag) -> tuple[Side, Side]:
    a = Side("A", entry=flag.entry_a,
             original=flag.file_a or flag.entry_a.current_file(FileKind.original))
    if flag.reference_image is not None:
        return a, Side("B", reference=flag.reference_image)
    return a, Side("B", entry=flag.entry_b,
                   original=flag.file_b or flag.entry_b.current_file(FileKind.original))


def _load_side(side: Side) -> tuple[str, Image.Image]:
    """(cache key, normalised RGB image) of a side: its stored preview (sRGB, orientation
    applied), or the original decoded like intake when the preview is missing."""
    storage = get_storage()
    if side.reference is not None:
        preview_key, original_key = side.reference.preview_key, side.reference.storage_key
    else:
        preview = _derivative(side.entry, side.original, FileKind.preview)
        preview_key = preview.storage_key if preview is not None else None
        original_key = side.original.storage_key if side.original is not None else None
    if preview_key and storage.exists(preview_key):
        with storage.open(preview_key) as fh, Image.open(fh) as im:
            return preview_key, im.convert("RGB")
    if original_key and storage.exists(original_key):
        return original_key, imaging.load_normalised(storage.path(original_key),
                                                     draft_size=PREVIEW_DRAFT_PX)
    abort(404)


def _render(flag: DuplicateFlag) -> pair_view.PairImages:
    """The comparison images of `flag` (rendered once per pair of stored images)."""
    a, b = _sides(flag)
    return _RENDERS.get((_side_key(a), _side_key(b)),
                        lambda: pair_view.render_pair(_load_side(a)[1], _load_side(b)[1]))


def _side_key(side: Side) -> tuple[str, int]:
    if side.reference is not None:
        return ("reference", side.reference.id)
    return ("file", side.original.id if side.original is not None else -side.entry.id)


def _flag_or_404(flag_id: int) -> DuplicateFlag:
    flag = get_session().get(DuplicateFlag, flag_id)
    if flag is None:
        abort(404)
    return flag


def _decision_choices(flag: DuplicateFlag) -> list[SelectChoice]:
    choices = [SelectChoice("not_duplicate", "不是重复（两件不同的作品，保留）")]
    for key, entry in (("disqualify_a", flag.entry_a), ("disqualify_b", flag.entry_b)):
        if entry is not None:
            name = entry.code or f"#{entry.id}"
            choices.append(SelectChoice(key, f"取消作品 {name}（{entry.unit.name}）的参赛资格"))
    return choices


def _cluster_of(flag: DuplicateFlag, flags: list[DuplicateFlag]) -> service.Cluster | None:
    for cluster in service.clusters(flags):
        if any(f.id == flag.id for f in cluster.flags):
            return cluster
    return None


# ----------------------------------------------------------------------------- queue

@bp.route("/")
def queue():  # noqa: ANN201
    """The duplicate queue: open flags in clusters, strongest first; `?kind=` filters by
    class (exact / duplicate / similar)."""
    session = get_session()
    contest = current_contest(session)
    if contest is None:
        return render_template("admin/dedup/queue.html", contest=None)
    kind = request.args.get("kind")
    if kind not in {k.value for k in DedupKind}:
        kind = None
    flags = service.open_flags(session, contest.id)
    shown = [f for f in flags if kind is None or f.kind == kind]
    groups = service.clusters(shown)
    reference_count = session.scalar(select(func.count(ReferenceImage.id)))
    return render_template(
        "admin/dedup/queue.html", contest=contest, kind=kind, groups=groups,
        counts=service.kind_counts(flags), open_total=len(flags),
        decided=service.decided_flags(session, contest.id, limit=30),
        reference_count=reference_count, sides=_sides)


# ----------------------------------------------------------------------------- pair

def _pair_page(flag: DuplicateFlag, form: DecisionForm, status: int = 200):  # noqa: ANN202
    session = get_session()
    a, b = _sides(flag)
    images = _render(flag)
    cluster = None
    if flag.status == FlagStatus.open:
        cluster = _cluster_of(flag, service.open_flags(session, flag.contest_id))
    history = list(session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == DuplicateFlag.__tablename__,
                                 AuditEvent.object_id == flag.id)
        .order_by(AuditEvent.at, AuditEvent.id)))
    # both at one scale: B's render covers b_scale A-render px per px
    a_px, b_px = images.width, images.b_width * images.b_scale
    widest = max(a_px, b_px)
    widths = (round(100 * a_px / widest, 1), round(100 * b_px / widest, 1))
    return render_template("admin/dedup/pair.html", flag=flag, a=a, b=b, images=images,
                           widths=widths, b_relative=b_px / a_px, form=form, cluster=cluster,
                           history=history, sides=_sides,
                           visible=service.visible(flag)), status


@bp.route("/pairs/<int:flag_id>")
def pair(flag_id: int):  # noqa: ANN201
    """One flagged pair: comparison, scores, both entries, and the decision form."""
    flag = _flag_or_404(flag_id)
    form = DecisionForm()
    form.decision.choices = _decision_choices(flag)
    return _pair_page(flag, form)


@bp.route("/pairs/<int:flag_id>/decide", methods=["POST"])
def decide(flag_id: int):  # noqa: ANN201
    """Record the decision on an open pair (reason required), then go to the next open pair
    of the same cluster, or back to the queue."""
    session = get_session()
    flag = _flag_or_404(flag_id)
    form = DecisionForm()
    form.decision.choices = _decision_choices(flag)
    if not form.validate_on_submit():
        return _pair_page(flag, form, 422)
    choice = form.decision.data
    target = {"disqualify_a": flag.entry_a_id, "disqualify_b": flag.entry_b_id}.get(choice)
    cluster = _cluster_of(flag, service.open_flags(session, flag.contest_id))
    try:
        service.decide_flag(session, flag, actor=current_user._get_current_object(),
                            decision="not_duplicate" if target is None else "disqualify",
                            reason=form.reason.data, disqualify_entry_id=target)
        session.commit()
    except ContestError as err:
        session.rollback()
        flag = _flag_or_404(flag_id)
        form.decision.choices = _decision_choices(flag)
        if err.code in ("reason_required", "too_long"):
            form.reason.errors = [message_for(err)]
        else:
            flash(message_for(err), "error")
        return _pair_page(flag, form, 409 if err.code == "dedup_already_decided" else 422)
    except OperationalError:
        session.rollback()
        flash("系统繁忙，请稍后重试（填写的原因未保存）", "error")
        return redirect(url_for(".pair", flag_id=flag_id))
    if target is None:
        flash("已记录：不是重复。该配对不会再出现在待处理列表中。", "success")
    else:
        entry = session.get(Entry, target)
        flash(f"已取消作品 {entry.code or entry.id} 的参赛资格，参赛单位将看到原因。", "success")
    if cluster is not None:
        for other in cluster.flags:
            if other.id != flag_id and session.get(DuplicateFlag, other.id).status == "open":
                return redirect(url_for(".pair", flag_id=other.id))
    return redirect(url_for(".queue"))


@bp.route("/pairs/<int:flag_id>/<any(a, b, aligned, diff):image>.jpg")
def pair_image(flag_id: int, image: str) -> Response:
    """A rendered comparison image of a pair (JPEG, no metadata): A, B, B aligned onto A,
    or the difference image."""
    images = _render(_flag_or_404(flag_id))
    response = Response(getattr(images, image), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


# ----------------------------------------------------------------------------- references

@bp.route("/references", methods=["GET", "POST"])
def references():  # noqa: ANN201
    """The reference library by label, with thumbnails and counts; editors upload more
    posters under a label (checked by content like intake; the same bytes twice is a
    no-op)."""
    session = get_session()
    if request.method == "POST":
        request.max_content_length = REFERENCE_UPLOAD_MAX_BYTES
    form = ReferenceUploadForm()
    if form.validate_on_submit():
        files = [f for f in form.files.data or []
                 if isinstance(f, FileStorage) and (f.filename or f.content_length)]
        if not files:
            form.files.errors = ["请选择至少一张图片"]
        else:
            results = _import_uploads(files, form.label.data)
            added = sum(r.status == "added" for r in results)
            exists = sum(r.status == "exists" for r in results)
            if added or exists:
                flash(f"往届作品库「{form.label.data.strip()}」：新增 {added} 张，"
                      f"已存在 {exists} 张。", "success")
            for r in results:
                if r.status == "refused":
                    flash(f"{r.path}：{message_for(r.error)}", "error")
            return redirect(url_for(".references", label=" ".join(form.label.data.split())))
    label_counts = service.reference_labels(session)
    label = request.args.get("label") or (label_counts[0][0] if label_counts else None)
    page = max(1, request.args.get("page", 1, type=int))
    refs = []
    total = 0
    if label is not None:
        query = select(ReferenceImage).where(ReferenceImage.label == label)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        refs = list(session.scalars(query.order_by(ReferenceImage.id)
                                    .offset((page - 1) * REFERENCES_PER_PAGE)
                                    .limit(REFERENCES_PER_PAGE)))
    if label and not form.label.data:
        form.label.data = label
    status = 422 if request.method == "POST" else 200
    return render_template("admin/dedup/references.html", form=form, label_counts=label_counts,
                           label=label, refs=refs, total=total, page=page,
                           pages=max(1, -(-total // REFERENCES_PER_PAGE)),
                           max_upload_bytes=REFERENCE_UPLOAD_MAX_BYTES), status


def _import_uploads(files: list[FileStorage], label: str) -> list[service.ReferenceResult]:
    """Stream each upload to a temporary file and add it to the library, one commit per
    file (image work happens before each write)."""
    session = get_session()
    cfg = current_app.config
    storage = get_storage()
    results = []
    incoming = Path(cfg["UPLOAD_DIR"]) / "incoming"
    for upload in files:
        path, _size, _sha = receive_upload(upload.stream, incoming)
        name = (upload.filename or "").strip() or "未命名"
        try:
            result = service.add_reference(
                session, path, label=label, original_filename=name, storage=storage,
                max_pixels=int(cfg["MAX_IMAGE_PIXELS"]),
                preview_long_edge_px=int(cfg["PREVIEW_LONG_EDGE_PX"]),
                thumb_long_edge_px=int(cfg["THUMB_LONG_EDGE_PX"]),
                actor=current_user._get_current_object())
            session.commit()
        except OperationalError:
            session.rollback()
            result = service.ReferenceResult(name, "refused", error=ContestError("busy"))
        finally:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        results.append(service.ReferenceResult(name, result.status, result.reference,
                                               result.error))
    return results


@bp.route("/references/<int:ref_id>/<any(thumb, preview):variant>.jpg")
def reference_image(ref_id: int, variant: str) -> Response:
    """A reference image's thumbnail or preview (normalised JPEG without metadata)."""
    ref = get_session().get(ReferenceImage, ref_id)
    key = (ref.thumb_key if variant == "thumb" else ref.preview_key) if ref else None
    storage = get_storage()
    if not key or not storage.exists(key):
        abort(404)
    with storage.open(key) as fh:
        data = fh.read()
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


