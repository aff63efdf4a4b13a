"""Login, logout and password change for every role."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from contest.auth.forms import ChangePasswordForm, LoginForm
from contest.auth.throttle import failures_since, record_attempt
from contest.db import get_session
from contest.models import User
from contest.web import home_endpoint

bp = Blueprint("auth", __name__)


def init_login_manager(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "请先登录"
    manager.login_message_category = "info"

    @manager.user_loader
    def _load(token: str) -> User | None:
        user = get_session().scalar(select(User).where(User.session_token == token))
        return user if user is not None and user.is_active else None

    manager.init_app(app)


def _safe_next(target: str | None) -> str | None:
    """Only a local path ('/submit/…'), never another host or scheme."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        session = get_session()
        login_name = form.login.data.strip()
        address = request.remote_addr or "unknown"
        cfg = current_app.config
        if failures_since(session, login=login_name, address=address,
                          minutes=cfg["LOGIN_LOCK_MINUTES"]) >= cfg["LOGIN_MAX_FAILURES"]:
            flash(f"登录失败次数过多，请{cfg['LOGIN_LOCK_MINUTES']}分钟后再试；"
                  "忘记密码请联系大赛编辑重置。", "error")
            return render_template("auth/login.html", form=form), 429
        user = session.scalar(select(User).where(User.login == login_name))
        if user is None or not user.is_active or not user.check_password(form.password.data):
            record_attempt(session, login=login_name, address=address, succeeded=False)
            session.commit()
            flash("账号或密码不正确", "error")
            return render_template("auth/login.html", form=form), 200
        record_attempt(session, login=login_name, address=address, succeeded=True)
        session.commit()
        login_user(user, remember=bool(form.remember.data))
        if user.must_change_password:
            flash("首次登录，请先修改初始密码", "info")
            return redirect(url_for("auth.change_password"))
        return redirect(_safe_next(request.args.get("next")) or url_for(home_endpoint(user)))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # noqa: ANN201
    # Rotating the token makes every remembered login of this account stop working:
    # shared school computers are the normal case.
    session = get_session()
    user = session.get(User, current_user.id)
    user.rotate_session_token()
    session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():  # noqa: ANN201
    form = ChangePasswordForm()
    if form.validate_on_submit():
        session = get_session()
        user = session.get(User, current_user.id)
        if not user.check_password(form.current.data):
            form.current.errors.append("当前密码不正确")
        else:
            user.set_password(form.new.data)
            user.must_change_password = False
            session.commit()
            login_user(user)  # the token rotated; keep this browser logged in
            flash("密码已修改", "success")
            return redirect(url_for(home_endpoint(user)))
    return render_template("auth/change_password.html", form=form)
