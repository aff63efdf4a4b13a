"""Forms of the editors' 评审结果 pages: the aggregate method, the award plan, overrides,
finalisation, the 优秀组织奖 rule and decisions, and the public-notice settings. Choices that
come from the database (rounds of a track) are filled in by the view before validation."""

from __future__ import annotations

from wtforms import (BooleanField, DateField, FloatField, HiddenField, IntegerField, RadioField,
                     SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from contest.forms import BaseForm
from contest.messages import AGGREGATE_METHOD_LABELS, AWARD_LABELS, QUOTA_MODE_LABELS
from contest.models.results import TIER_ORDER

METHOD_CHOICES = [SelectChoice(k, v) for k, v in AGGREGATE_METHOD_LABELS.items()]
TIER_CHOICES = [SelectChoice(t.value, AWARD_LABELS[t.value]) for t in TIER_ORDER]
REASON_MAX = 300


class MethodForm(BaseForm):
    """The round's ranking method and its two settings."""

    method = RadioField("排名依据", choices=METHOD_CHOICES,
                        validators=[InputRequired(message="请选择排名依据")])
    trimmed_min_scores = IntegerField(
        "去掉最高最低分的最少评分人数", default=5,
        validators=[InputRequired(message="请填写人数"),
                    NumberRange(min=3, max=99, message="人数应在3～99之间")])
    top_n = IntegerField("对比前 N 名", default=10,
                         validators=[InputRequired(message="请填写 N"),
                                     NumberRange(min=1, max=9999, message="N 应为正整数")])


def _quota(label: str) -> FloatField:
    return FloatField(label, default=0, validators=[
        InputRequired(message=f"请填写{label}名额"),
        NumberRange(min=0, max=10000, message=f"{label}名额不能为负数")])


class PlanForm(BaseForm):
    """A track's award plan. `round_id` 0 means the track's latest round."""

    round_id = SelectField("评定依据的轮次", coerce=int, choices=[])
    quota_mode = RadioField("名额方式", choices=[SelectChoice(k, v)
                                              for k, v in QUOTA_MODE_LABELS.items()],
                            validators=[InputRequired(message="请选择名额方式")])
    first_quota = _quota("一等奖")
    second_quota = _quota("二等奖")
    third_quota = _quota("三等奖")
    merit_quota = _quota("优秀奖")
    first_vacant = BooleanField("一等奖空缺")
    second_vacant = BooleanField("二等奖空缺")
    third_vacant = BooleanField("三等奖空缺")
    merit_vacant = BooleanField("优秀奖空缺")

    def quota_fields(self) -> list[tuple[str, FloatField, BooleanField]]:
        """[(tier value, quota field, vacant field)] in award order, for the template."""
        return [(t.value, self[f"{t.value}_quota"], self[f"{t.value}_vacant"])
                for t in TIER_ORDER]


class ConfirmActionForm(BaseForm):
    """A button-only POST (generate the provisional list, propose organisation awards)."""


class OverrideForm(BaseForm):
    """Set one entry's award by hand, with a reason."""

    entry_id = HiddenField(validators=[DataRequired()])
    tier = SelectField("调整为", choices=[SelectChoice("", "不获奖"), *TIER_CHOICES],
                       validate_choice=True)
    reason = StringField("原因", validators=[
        DataRequired(message="调整获奖等次须填写原因"),
        Length(max=REASON_MAX, message=f"原因不超过{REASON_MAX}字")])


class ClearOverrideForm(BaseForm):
    entry_id = HiddenField(validators=[DataRequired()])


class FinaliseForm(BaseForm):
    confirm = BooleanField("我已核对拟获奖名单；确认发布后将显示单位和作者，结果不可再修改",
                           validators=[DataRequired(message="请先勾选确认")])


class ReopenForm(BaseForm):
    reason = TextAreaField("撤销原因", validators=[
        DataRequired(message="撤销确认发布须填写原因"),
        Length(max=REASON_MAX, message=f"原因不超过{REASON_MAX}字")])


def _count(label: str, low: int = 0) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(message=f"请填写{label}"),
                                           NumberRange(min=low, max=10000,
                                                       message=f"{label}应为不小于{low}的整数")])


def _points(label: str) -> FloatField:
    return FloatField(label, validators=[InputRequired(message=f"请填写{label}"),
                                         NumberRange(min=0, max=1000,
                                                     message=f"{label}应在0～1000之间")])


class RulesForm(BaseForm):
    """The 优秀组织奖 / 优秀指导教师奖 rule."""

    org_min_entries = _count("有效作品不少于（件）")
    org_min_awards = _count("获奖作品不少于（件）")
    org_max_units = _count("最多推荐单位数（0为不限）")
    points_first = _points("一等奖积分")
    points_second = _points("二等奖积分")
    points_third = _points("三等奖积分")
    points_merit = _points("优秀奖积分")
    adviser_award_enabled = BooleanField("评选优秀指导教师奖")
    adviser_min_tier = SelectField("指导作品获奖等次不低于", choices=TIER_CHOICES)


class OrgDecisionForm(BaseForm):
    award_id = HiddenField(validators=[DataRequired()])
    is_awarded = SelectField("决定", choices=[SelectChoice("1", "授予"),
                                            SelectChoice("0", "不授予")])
    reason = StringField("原因", validators=[
        DataRequired(message="调整须填写原因"),
        Length(max=REASON_MAX, message=f"原因不超过{REASON_MAX}字")])


class NoticeForm(BaseForm):
    """The public notice's settings. Dates are calendar days in China Standard Time."""

    title = StringField("公示标题", validators=[DataRequired(message="请填写公示标题"),
                                             Length(max=200, message="标题不超过200字")])
    issuer = StringField("发布单位", validators=[DataRequired(message="请填写发布单位"),
                                              Length(max=100, message="发布单位不超过100字")])
    starts_on = DateField("公示开始日期", validators=[Optional()],
                          render_kw={"placeholder": "2024-05-20"})
    working_days = IntegerField("公示期（工作日）", default=5, validators=[
        InputRequired(message="请填写公示期天数"),
        NumberRange(min=1, max=60, message="公示期应为1～60个工作日")])
    ends_on = DateField("公示结束日期（可选，遇节假日时手动指定）", validators=[Optional()])
    contact = StringField("异议受理联系人及电话", validators=[
        Length(max=300, message="联系方式不超过300字")])
    objection_text = TextAreaField("异议说明", validators=[
        DataRequired(message="请填写如何提出异议"),
        Length(max=2000, message="异议说明不超过2000字")])
