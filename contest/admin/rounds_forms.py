"""Forms of the editors' 评审轮次 pages: create a round (rubric rows, jurors, shortlist rule),
add a juror account, unlock a sheet, record a conflict, draw a redaction without JS.

Choices that come from the database (tracks, jurors, units, rounds) are filled in by the view
before validation; every message is Chinese and names the rule and the actual value
(GLOSSARY.md "How messages are written").
"""

from __future__ import annotations

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, FieldList, Form, FormField,
                     HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField, widgets)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from contest.forms import BaseForm, as_choices
from contest.models import DEFAULT_RUBRIC, RoundKind

BLANK_CRITERION_ROWS = 3  # empty rubric rows offered without JS (clear a row's name to drop it)
MAX_RUBRIC_TOTAL = 100  # STYLE.md §4: totals are 0–100
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y-%m-%d %H:%M:%S"]


KIND_CHOICES = as_choices([(RoundKind.preliminary.value, "初评"),
                           (RoundKind.second.value, "复评"), (RoundKind.final.value, "终评")])
RULE_CHOICES = as_choices([("top_n", "按名次：前 N 名入围"), ("threshold", "按分数：得分不低于分数线")])


def _display_tz() -> ZoneInfo:
    """Times are typed in China Standard Time (RULES.md) and stored in UTC."""
    return ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE", "Asia/Shanghai"))


def _points(value: Decimal | float | None) -> str:
    """30 → '30', 12.5 → '12.5' (for messages)."""
    if value is None:
        return ""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (works without JS)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CriterionRowForm(Form):
    """One rubric row. A row whose name and max points are both empty is ignored; that is how
    the blank rows work without JS and how a row is removed."""

    class Meta:
        locales = ["zh"]

    name = StringField("评分项", validators=[Optional(), Length(max=50, message="评分项名称不超过50字")])
    description = StringField("说明", validators=[Optional(), Length(max=500,
                                                                    message="说明不超过500字")])
    max_points = DecimalField("满分", places=None, validators=[Optional()])

    @property
    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and self.max_points.data is None \
            and not (self.description.data or "").strip()


class RoundForm(BaseForm):
    """Create a round. Buttons: `add_juror` (create a juror account and come back to this form),
    `preview` (show the shortlist a later round would take), `create`."""

    track = SelectField("赛道", coerce=int)
    kind = RadioField("轮次", choices=KIND_CHOICES, default=RoundKind.preliminary.value)
    name = StringField("轮次名称", validators=[DataRequired(message="请填写轮次名称"),
                                            Length(max=100, message="轮次名称不超过100字")])
    opens_at = DateTimeLocalField("开始时间（北京时间）", format=DATETIME_FORMATS, tz=_display_tz,
                                  validators=[Optional()],
                                  invalid_value_message="开始时间格式不正确，应为 2024-05-12 09:00")
    closes_at = DateTimeLocalField("截止时间（北京时间）", format=DATETIME_FORMATS, tz=_display_tz,
                                   validators=[Optional()],
                                   invalid_value_message="截止时间格式不正确，应为 2024-05-20 23:59")
    jurors = MultiCheckboxField("参加本轮的评委", coerce=int)
    jurors_per_entry = IntegerField(
        "每件作品评委人数", default=3,
        validators=[Optional(), NumberRange(min=1, message="每件作品评委人数至少为1")])
    show_title = BooleanField("向评委显示作品名称", default=True)
    show_statement = BooleanField("向评委显示设计说明", default=True)
    criteria = FieldList(FormField(CriterionRowForm), min_entries=0)

    previous_round = SelectField("上一轮", coerce=int, default=0)
    shortlist_rule = RadioField("入围规则", choices=RULE_CHOICES, default="top_n")
    top_n = IntegerField("入围名额 N", validators=[Optional(), NumberRange(
        min=1, message="入围名额至少为1")])
    threshold = DecimalField("分数线", places=None, validators=[Optional(), NumberRange(
        min=0, message="分数线不能为负数")])
    previewed_ids = HiddenField()

    new_juror_login = StringField("账号", validators=[Optional(), Length(max=64)])
    new_juror_name = StringField("姓名", validators=[Optional(), Length(max=100)])
    new_juror_unit = SelectField("所在单位（可不填）", coerce=int, default=0)

    add_juror = SubmitField("新建评委账号")
    preview = SubmitField("预览入围作品")
    create = SubmitField("创建评审轮次")

    def fill_default_rubric(self) -> None:
        """Rows for the default rubric (issue #4) plus blank rows, on a fresh form."""
        while len(self.criteria.entries):
            self.criteria.pop_entry()
        for name, description, points in DEFAULT_RUBRIC:
            self.criteria.append_entry({"name": name, "description": description,
                                        "max_points": Decimal(points)})
        self.add_blank_rows()

    def add_blank_rows(self) -> None:
        blank = sum(1 for row in self.criteria if row.form.is_blank)
        for _ in range(max(0, BLANK_CRITERION_ROWS - blank)):
            self.criteria.append_entry()

    @property
    def takes_shortlist(self) -> bool:
        """A 复评, or a 终评 with a previous round chosen: its entries are the previous
        round's shortlist. A 终评 without a previous round takes all eligible entries."""
        if self.kind.data == RoundKind.second.value:
            return True
        return self.kind.data == RoundKind.final.value and bool(self.previous_round.data)

    def rubric(self) -> list[tuple[str, str, float]]:
        """The filled rubric rows as (name, description, max points), in order."""
        return [((row.form.name.data or "").strip(), (row.form.description.data or "").strip(),
                 float(row.form.max_points.data))
                for row in self.criteria if not row.form.is_blank]

    def validate_criteria(self, field: FieldList) -> None:
        rows = [row for row in field if not row.form.is_blank]
        if not rows:
            raise ValidationError("请至少填写一个评分项")
        seen: set[str] = set()
        total = Decimal(0)
        for number, row in enumerate(field, start=1):
            sub = row.form
            if sub.is_blank:
                continue
            name = (sub.name.data or "").strip()
            points = sub.max_points.data
            if not name:
                sub.name.errors.append(f"第{number}行：请填写评分项名称")
            elif name in seen:
                sub.name.errors.append(f"第{number}行：评分项“{name}”重复")
            seen.add(name)
            if points is None:
                if not sub.max_points.errors:
                    sub.max_points.errors.append(f"第{number}行：请填写满分")
                continue
            if points <= 0:
                sub.max_points.errors.append(
                    f"第{number}行：满分须大于0（当前：{_points(points)}分）")
            elif (points * 2) % 1:
                sub.max_points.errors.append(
                    f"第{number}行：满分须为0.5的整数倍（当前：{_points(points)}分）")
            else:
                total += points
        if any(row.form.errors for row in field):
            raise ValidationError("评分标准有误，请按提示修改")
        if total > MAX_RUBRIC_TOTAL:
            raise ValidationError(f"各评分项满分合计不超过{MAX_RUBRIC_TOTAL}分（当前：{_points(total)}分）")

    def validate_jurors(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("请至少选择一位评委")

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        ok = super().validate(extra_validators)
        # Optional() lets a blank k through (a 终评 means every juror); other rounds need it
        if self.jurors_per_entry.data is None and not self.jurors_per_entry.errors \
                and self.kind.data != RoundKind.final.value:
            self.jurors_per_entry.errors = ["请填写每件作品评委人数（终评可留空，表示全部评委）"]
            ok = False
        return ok

    def validate_jurors_per_entry(self, field: IntegerField) -> None:
        chosen = len(self.jurors.data or [])
        if chosen and field.data is not None and field.data > chosen:
            raise ValidationError(f"每件作品评委人数不能超过所选评委人数（当前：所选评委{chosen}人，"
                             f"每件作品{field.data}人）")

    def validate_closes_at(self, field: DateTimeLocalField) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError("截止时间须晚于开始时间")

    def validate_previous_round(self, field: SelectField) -> None:
        if self.kind.data == RoundKind.second.value and not field.data:
            raise ValidationError("复评须选择上一轮，入围作品从上一轮产生")

    def validate_top_n(self, field: IntegerField) -> None:
        if self.takes_shortlist and self.shortlist_rule.data == "top_n" and field.data is None:
            raise ValidationError("请填写入围名额 N")

    def validate_threshold(self, field: DecimalField) -> None:
        if self.takes_shortlist and self.shortlist_rule.data == "threshold" and field.data is None:
            raise ValidationError("请填写分数线")

    def validate_new_juror(self, existing_logins: set[str]) -> bool:
        """Validate only the new-juror fields (the 新建评委账号 button)."""
        ok = True
        login = (self.new_juror_login.data or "").strip()
        if not login:
            self.new_juror_login.errors = ["请填写评委账号"]
            ok = False
        elif not LOGIN_RE.match(login):
            self.new_juror_login.errors = [
                f"账号为3到64位字母、数字、点、下划线或连字符（当前：{login}）"]
            ok = False
        elif login in existing_logins:
            self.new_juror_login.errors = [f"账号已存在：{login}"]
            ok = False
        if not (self.new_juror_name.data or "").strip():
            self.new_juror_name.errors = ["请填写评委姓名"]
            ok = False
        return ok


class UnlockSheetForm(BaseForm):
    """Unlock one juror's submitted score sheet; the reason goes into the audit log."""

    reason = StringField("解锁原因", validators=[
        DataRequired(message="请填写解锁原因（将记入操作日志）"),
        Length(max=500, message="解锁原因不超过500字")])
    submit = SubmitField("解锁评分表")


class ConfirmForm(BaseForm):
    """A bare POST (open / close / re-run assignment): CSRF only."""

    submit = SubmitField("确定")


class ConflictForm(BaseForm):
    """Record a 回避: juror × unit or juror × entry (by entry code), with a reason."""

    juror = SelectField("评委", coerce=int, validators=[InputRequired(message="请选择评委")])
    target = RadioField("回避对象", choices=as_choices([("unit", "某个参赛单位的全部作品"),
                                                     ("entry", "某一件作品")]), default="unit")
    unit = SelectField("参赛单位", coerce=int, default=0)
    entry_code = StringField("作品编号", validators=[Length(max=20)])
    reason = TextAreaField("回避原因", validators=[
        DataRequired(message="请填写回避原因"), Length(max=500, message="回避原因不超过500字")])
    submit = SubmitField("记录回避")

    def validate_juror(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError("请选择评委")

    def validate_unit(self, field: SelectField) -> None:
        if self.target.data == "unit" and not field.data:
            raise ValidationError("请选择参赛单位")

    def validate_entry_code(self, field: StringField) -> None:
        if self.target.data == "entry" and not (field.data or "").strip():
            raise ValidationError("请填写作品编号，例如 ZJ2024-0001")


class RedactionForm(BaseForm):
    """A rectangle in percent of the displayed poster (the form used without JS)."""

    x = DecimalField("左边距 %", places=None, validators=[
        InputRequired(message="请填写左边距"), NumberRange(min=0, max=100,
                                                          message="左边距须在0到100之间")])
    y = DecimalField("上边距 %", places=None, validators=[
        InputRequired(message="请填写上边距"), NumberRange(min=0, max=100,
                                                          message="上边距须在0到100之间")])
    w = DecimalField("宽度 %", places=None, validators=[
        InputRequired(message="请填写宽度"), NumberRange(min=Decimal("0.1"), max=100,
                                                        message="宽度须在0.1到100之间")])
    h = DecimalField("高度 %", places=None, validators=[
        InputRequired(message="请填写高度"), NumberRange(min=Decimal("0.1"), max=100,
                                                        message="高度须在0.1到100之间")])
    submit = SubmitField("遮挡此区域")

    def validate_w(self, field: DecimalField) -> None:
        if field.data is not None and self.x.data is not None and self.x.data + field.data > 100:
            raise ValidationError(f"左边距与宽度之和不能超过100%（当前：{_points(self.x.data + field.data)}%）")

    def validate_h(self, field: DecimalField) -> None:
        if field.data is not None and self.y.data is not None and self.y.data + field.data > 100:
            raise ValidationError(f"上边距与高度之和不能超过100%（当前：{_points(self.y.data + field.data)}%）")


class AuditFilterForm(BaseForm):
    """GET filters of the audit log (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField("操作", default="")
    round = SelectField("评审轮次", coerce=int, default=0)


MAX_RECTS_PER_SAVE = 50


def parse_rect_payload(payload: object) -> list[tuple[float, float, float, float]]:
    """Read the redaction boxes a browser sends: `{"rects": [{"x":…, "y":…, "w":…, "h":…}]}`
    with fractions 0..1 of the displayed poster (top-left origin). Returns (x, y, w, h)
    tuples; the service checks and clips each box. Raises `ValueError` with a Chinese
    message for a malformed body, no box, more than MAX_RECTS_PER_SAVE boxes or a value
    that is not a finite number."""
    import math

    rects = payload.get("rects") if isinstance(payload, dict) else None
    if not isinstance(rects, list) or not rects:
        raise ValidationError("没有收到遮挡区域，请先在图片上框选")
    if len(rects) > MAX_RECTS_PER_SAVE:
        raise ValidationError(f"一次最多保存{MAX_RECTS_PER_SAVE}个遮挡区域（当前：{len(rects)}个）")
    out = []
    for number, rect in enumerate(rects, start=1):
        try:
            values = tuple(float(rect[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            raise ValidationError(f"第{number}个遮挡区域的数据不完整，请刷新页面后重新框选") from None
        if not all(math.isfinite(v) for v in values):
            raise ValidationError(f"第{number}个遮挡区域的数据不完整，请刷新页面后重新框选")
        out.append(values)
    return out
