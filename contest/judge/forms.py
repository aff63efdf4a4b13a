"""Juror forms. The score form is built from the round's `Criterion` rows (STYLE.md §5,
indico `build_review_form`); points are checked by the same rule as the service
(`contest.judging.parse_points`), so the page and the service never disagree."""

from __future__ import annotations

from collections.abc import Sequence

from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from contest.errors import InvalidScore
from contest.forms import BaseForm
from contest.judging import COMMENT_MAX_CHARS, CriterionView, parse_points
from contest.messages import message_for

CONFLICT_REASON_MAX_CHARS = 500


class _Points:
    """Validator: empty, or 0..max in half points (message from contest.messages)."""

    def __init__(self, name: str, max_points: float) -> None:
        self.name, self.max_points = name, max_points

    def __call__(self, form: BaseForm, field: StringField) -> None:
        try:
            parse_points(field.data, self.name, self.max_points)
        except InvalidScore as err:
            raise ValidationError(message_for(err)) from None


class ScoreFormBase(BaseForm):
    comment = TextAreaField("评语（选填）", validators=[Length(
        max=COMMENT_MAX_CHARS, message=f"评语不超过{COMMENT_MAX_CHARS}字")])
    save = SubmitField("保存")
    save_next = SubmitField("保存并下一件")

    criterion_fields: list[tuple[CriterionView, str]]

    def points(self) -> dict[int, str | None]:
        """{criterion id: submitted text ('' clears)} for `judging.save_scores`."""
        return {c.id: (getattr(self, name).data or "") for c, name in self.criterion_fields}


def build_score_form(criteria: Sequence[CriterionView], *, comment: str = "") -> ScoreFormBase:
    """A score form with one text field per criterion (`c<criterion id>`), pre-filled with
    the juror's current points and comment; on a POST the submitted values win
    (Flask-WTF binds `request.form`)."""

    class ScoreForm(ScoreFormBase):
        pass

    names = []
    for c in criteria:
        name = f"c{c.id}"
        setattr(ScoreForm, name, StringField(c.name, validators=[_Points(c.name, c.max_points)]))
        names.append((c, name))
    data = {name: ("" if c.points is None else f"{c.points:g}") for c, name in names}
    data["comment"] = comment
    form = ScoreForm(data=data)
    form.criterion_fields = names
    return form


class ConflictForm(BaseForm):
    reason = TextAreaField("回避原因", validators=[
        DataRequired(message="请填写回避原因"),
        Length(max=CONFLICT_REASON_MAX_CHARS,
               message=f"回避原因不超过{CONFLICT_REASON_MAX_CHARS}字")])
    declare = SubmitField("确认回避")


class SubmitSheetForm(BaseForm):
    confirm = BooleanField("我已完成本轮全部作品的评分，确认提交；提交后评分表将锁定，不能再修改",
                           validators=[DataRequired(message="请勾选确认后再提交")])
    submit_sheet = SubmitField("提交本轮评分")
