"""海报大赛评审系统: poster contest intake, duplicate detection, anonymous judging and results."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: defaults, then environment variables, then `config` (tests).

    Raises `RuntimeError` when CONTEST_ENV=production and SECRET_KEY is unset.
    """
    instance_path = Path(os.environ.get("CONTEST_INSTANCE_PATH") or ROOT / "instance")
    if config and config.get("INSTANCE_PATH"):
        instance_path = Path(config["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=str(instance_path),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))

    from contest.config import load_config

    env = dict(os.environ)
    if config:  # a mapping passed in wins over the environment for settings it names
        env.update({k: str(v) for k, v in config.items()
                    if isinstance(v, (str, int)) and not isinstance(v, bool)})
    app.config.update(load_config(env, instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_I18N_ENABLED=False,
        JSON_AS_ASCII=False,
    )
    if config:
        app.config.update(config)
        if "MAX_UPLOAD_MB" in config:
            app.config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_MB"]) * 1024 * 1024
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    from contest import db

    db.init_app(app)

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)

    from contest.auth.views import init_login_manager

    init_login_manager(app)

    from contest.web import register_web

    register_web(app)

    from contest.auth import bp as auth_bp
    from contest.admin import bp as admin_bp
    from contest.judge import bp as judge_bp
    from contest.submit import bp as submit_bp

    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(submit_bp, url_prefix="/submit")
    app.register_blueprint(judge_bp, url_prefix="/judge")
    app.register_blueprint(admin_bp, url_prefix="/admin")

    from contest.cli import register_commands

    register_commands(app)
    return app
