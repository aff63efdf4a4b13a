from __future__ import annotations

from flask import Blueprint, render_template

from contest.roles import require_roles

bp = Blueprint("submit", __name__)
bp.before_request(require_roles("entrant"))


@bp.route("/")
def dashboard():  # noqa: ANN201
    return render_template("submit/dashboard.html")
