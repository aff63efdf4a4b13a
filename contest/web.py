"""App-wide web glue: home redirect by role, error pages, Jinja filters, security headers."""

from __future__ import annotations

from flask import Flask, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from contest import messages
from contest.timeutil import format_local, format_remaining

HOME_BY_ROLE = {"entrant": "submit.dashboard", "juror": "judge.home",
                "editor": "admin.home", "admin": "admin.home"}


def home_endpoint(user) -> str:  # noqa: ANN001
    """Landing endpoint for `user`'s role."""
    return HOME_BY_ROLE.get(str(user.role), "auth.login")


def register_web(app: Flask) -> None:
    """Register the home route, error handlers, filters and response headers on `app`."""
    tz = app.config["DISPLAY_TIMEZONE"]

    @app.route("/")
    def index():  # noqa: ANN202
        if current_user.is_authenticated:
            return redirect(url_for(home_endpoint(current_user)))
        return redirect(url_for("auth.login"))

    @app.template_filter("local")
    def _local(value, with_time=True):  # noqa: ANN001, ANN202
        return format_local(value, tz, with_time)

    @app.template_filter("remaining")
    def _remaining(value):  # noqa: ANN001, ANN202
        return format_remaining(value) if value else ""

    @app.template_filter("mb")
    def _mb(value):  # noqa: ANN001, ANN202
        return messages.format_mb(int(value or 0))

    @app.context_processor
    def _labels():  # noqa: ANN202
        return {"labels": messages, "home_endpoint": home_endpoint}

    def _error(status: int, title: str, detail: str):  # noqa: ANN202
        return render_template("errors/error.html", status=status, title=title,
                               detail=detail), status

    @app.errorhandler(400)
    def _400(e):  # noqa: ANN001, ANN202
        return _error(400, "请求有误", getattr(e, "description", "") or "请返回后重试。")

    @app.errorhandler(CSRFError)
    def _csrf(e):  # noqa: ANN001, ANN202
        return _error(400, "页面已过期", "表单的安全令牌缺失或已过期，请刷新页面后重新提交。"
                      "已保存的内容不会丢失。")

    @app.errorhandler(403)
    def _403(e):  # noqa: ANN001, ANN202
        return _error(403, "无权访问", "您的账号没有访问此页面的权限。")

    @app.errorhandler(404)
    def _404(e):  # noqa: ANN001, ANN202
        return _error(404, "页面不存在", "您访问的页面不存在，或您无权查看。")

    @app.errorhandler(405)
    def _405(e):  # noqa: ANN001, ANN202
        return _error(405, "请求方式不支持", "请通过页面上的按钮操作。")

    @app.errorhandler(413)
    def _413(e):  # noqa: ANN001, ANN202
        limit = app.config["MAX_CONTENT_LENGTH"]
        return _error(413, "文件过大", f"上传的内容超过 {messages.format_mb(limit)} 的上限。"
                      "单张图片不高于10MB，请压缩后重新上传。已保存的内容不会丢失。")

    @app.errorhandler(500)
    def _500(e):  # noqa: ANN001, ANN202
        return _error(500, "系统出错", "服务器处理时出错，已记录。请稍后重试；已保存的内容不会丢失。")

    @app.after_request
    def _headers(response):  # noqa: ANN001, ANN202
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint and not request.endpoint.startswith("static"):
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response
