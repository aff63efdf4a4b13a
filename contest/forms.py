"""`BaseForm`: every form subclasses it; WTForms' own messages come from its zh catalog."""

from __future__ import annotations

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        locales = ["zh"]
