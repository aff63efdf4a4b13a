"""The WeChat preview's settings form (GET: the preview and the download read the same query
string, so the page works without JS and a preview URL can be shared between editors)."""

from __future__ import annotations

from wtforms import FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from contest.forms import BaseForm
from contest.wechat import DEFAULT_FOCUS


def _focus(label: str, default: float) -> FloatField:
    # empty (a first visit, or a cleared input) means the default focus
    return FloatField(label, default=default, validators=[
        Optional(), NumberRange(min=0, max=1, message=f"{label}须在0到1之间")])


class WechatOptionsForm(BaseForm):
    """Cover winner, focus point (fractions of the cover image: 0 = left/top, 1 =
    right/bottom), title and digest. Their limits (32 / 120 characters) are checked by
    `contest.wechat.check_title` / `check_digest`; the view puts those errors on the fields.
    `cover` choices (the track's winners) are filled in by the view."""

    class Meta:
        csrf = False  # a GET form: reading a preview changes nothing

    cover = SelectField("封面取自", coerce=int, validators=[Optional()], validate_choice=True)
    fx = _focus("焦点横向位置", DEFAULT_FOCUS[0])
    fy = _focus("焦点纵向位置", DEFAULT_FOCUS[1])
    title = StringField("标题", validators=[Optional()])
    digest = TextAreaField("摘要", validators=[Optional()])
