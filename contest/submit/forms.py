"""Entrant forms. Labels follow GLOSSARY.md. The rules themselves live in the entries
service (the web form and `import-entries` share them); `apply_errors` puts the service's
messages on the fields they belong to, so every broken rule shows at once."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Optional

from contest.errors import ContestError, InvalidImage
from contest.forms import BaseForm, as_choices
from contest.messages import AI_USE_LABELS, message_for

IMAGE_ACCEPT = "image/jpeg,image/png,.jpg,.jpeg,.png"


class ImageForm(BaseForm):
    """Replace the image of an entry."""

    image = FileField("海报图片", validators=[Optional()])

    def apply_errors(self, errors: list[ContestError]) -> list[ContestError]:
        """Attach each error's message to its field; return the errors of no field."""
        return _apply_errors(self, errors)


class EntryForm(BaseForm):
    """New entry / edit entry: the image and every field of the entry. The buttons are
    plain `<button name="action" value="draft|submit">` in the template."""

    title = StringField("作品名称")
    authors = StringField("作者")
    adviser = StringField("指导教师")
    statement = TextAreaField("设计说明")
    caption_time = StringField("时间")
    caption_place = StringField("地点")
    caption_people = StringField("人物")
    caption_event = StringField("事件")
    # no default on purpose: the entrant must choose (GLOSSARY.md: 是否使用AI生成/辅助);
    # the service reports a missing choice, so the field itself never refuses a draft
    ai_use = RadioField("是否使用AI生成/辅助", choices=as_choices(AI_USE_LABELS.items()),
                        validate_choice=False, default=None)
    content_review_confirmed = BooleanField("本作品已经过本单位宣传部门意识形态审核")
    content_reviewer = StringField("审核人姓名")
    originality_confirmed = BooleanField(
        "原创承诺：本作品为本单位原创，引用的素材已注明出处，不侵犯他人著作权、肖像权等权利")
    image = FileField("海报图片", validators=[Optional()])

    def apply_errors(self, errors: list[ContestError]) -> list[ContestError]:
        """Attach each error's message to its field; return the errors of no field."""
        return _apply_errors(self, errors)


class WithdrawForm(BaseForm):
    """Withdraw an entry (POST with an explicit confirmation)."""

    confirm = BooleanField("我确认撤回该作品")


def field_of(error: ContestError) -> str:
    """The form field an error belongs to ('' when none): image errors → 'image'."""
    if isinstance(error, InvalidImage) or error.code == "duplicate_refused":
        return "image"
    return str(error.params.get("field") or "")


def _apply_errors(form: BaseForm, errors: list[ContestError]) -> list[ContestError]:
    general = []
    for error in errors:
        field = getattr(form, field_of(error), None) if field_of(error) else None
        if field is None:
            general.append(error)
            continue
        field.errors = [*field.errors, message_for(error)]
    return general
