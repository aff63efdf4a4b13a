from __future__ import annotations

from flask import Blueprint, render_template

from contest.roles import require_roles

bp = Blueprint("judge", __name__)
bp.before_request(require_roles("juror"))


@bp.route("/")
def home():  # noqa: ANN201
    return render_template("judge/home.html")
