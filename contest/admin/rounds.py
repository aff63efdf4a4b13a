"""Editors: 评审轮次. Child blueprint of `admin` (role guard inherited)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("rounds", __name__)


@bp.route("/")
def list_rounds():  # noqa: ANN201
    return render_template("admin/rounds/list_rounds.html")
