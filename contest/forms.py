"""`BaseForm`: every form subclasses it; WTForms' own messages come from its zh catalog."""

from __future__ import annotations

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh"]


def as_choices(pairs) -> list:  # noqa: ANN001
    """(value, label) pairs → WTForms `SelectChoice`s (plain tuples are deprecated in 3.3)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
