"""Editors: 评审结果. Child blueprint of `admin` (role guard inherited)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("results", __name__)


@bp.route("/")
def index():  # noqa: ANN201
    return render_template("admin/results/index.html")
