"""Editors: 查重审核. Child blueprint of `admin` (role guard inherited)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dedup", __name__)


@bp.route("/")
def queue():  # noqa: ANN201
    return render_template("admin/dedup/queue.html")
