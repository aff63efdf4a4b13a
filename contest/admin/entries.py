"""Editors: 作品管理. Child blueprint of `admin` (role guard inherited)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("entries", __name__)


@bp.route("/")
def list_entries():  # noqa: ANN201
    return render_template("admin/entries/list_entries.html")
