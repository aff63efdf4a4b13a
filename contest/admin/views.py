"""Editors' area. `bp` guards every route for editors and admins; each area of the editors'
work is a child blueprint in its own module (entries, dedup, rounds, results, wechat),
registered here, so endpoints read `admin.<area>.<verb_noun>`."""

from __future__ import annotations

from flask import Blueprint, render_template

from contest.admin.dedup import bp as dedup_bp
from contest.admin.entries import bp as entries_bp
from contest.admin.results import bp as results_bp
from contest.admin.rounds import bp as rounds_bp
from contest.admin.wechat import bp as wechat_bp
from contest.roles import require_roles

bp = Blueprint("admin", __name__)
bp.before_request(require_roles("editor", "admin"))
bp.register_blueprint(entries_bp, url_prefix="/entries")
bp.register_blueprint(dedup_bp, url_prefix="/dedup")
bp.register_blueprint(rounds_bp, url_prefix="/rounds")
bp.register_blueprint(results_bp, url_prefix="/results")
bp.register_blueprint(wechat_bp, url_prefix="/wechat")


@bp.route("/")
def home():  # noqa: ANN201
    """Editors' dashboard: the current contest's deadline, entries per track and status,
    participating units, and a link to each area."""
    from contest import participation
    from contest.db import get_session
    from contest.entries import current_contest, is_open

    session = get_session()
    contest = current_contest(session)
    if contest is None:
        return render_template("admin/home.html", contest=None)
    return render_template("admin/home.html", contest=contest, is_open=is_open(contest),
                           status_counts=participation.status_counts(session, contest),
                           stats=participation.participation_stats(session, contest))
