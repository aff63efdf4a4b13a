"""Fixtures (flaskr `tests/conftest.py` style).

SQLite (default): a fresh database file per test. PostgreSQL (DATABASE_URL set, as in CI's
second run): the schema is created once per session and every table is emptied between
tests, so every test runs on both engines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from contest import create_app, db
from contest.models import Role
from tests import factories

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
PG_URL = os.environ.get("DATABASE_URL", "")
if PG_URL and not PG_URL.startswith("postgresql"):
    PG_URL = ""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: Playwright tests against Debian chromium")
    config.addinivalue_line("markers", "slow: slower tests (still run by default)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (read-only material: corpus, bench, samples). Tests that need it skip
    only when the folder is genuinely absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def _pg_schema():
    """Create the schema on PostgreSQL once per session (drop first: a clean start)."""
    if not PG_URL:
        yield None
        return
    from contest import models  # noqa: F401

    engine = db.make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate(engine) -> None:  # noqa: ANN001
    names = ", ".join(f'"{t.name}"' for t in db.Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_test_config(tmp_path: Path, **overrides) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": PG_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "WTF_CSRF_ENABLED": False,
    }
    cfg.update(overrides)
    return cfg


@pytest.fixture
def app_config(tmp_path: Path) -> dict:
    """Config overrides for the `app` fixture; a test may change it before `app` is built."""
    return make_test_config(tmp_path)


def _own_context_per_request(application):  # noqa: ANN001, ANN202
    """Serve each test-client request in an empty `contextvars.Context`, as a real server
    thread does. Otherwise a request made while the `session` fixture holds an app context
    reuses that context: `g` (Flask-Login's current user, the request's database session)
    would leak from one request into the next, and teardown would never close it."""
    import contextvars

    inner = application.wsgi_app

    def wsgi_app(environ, start_response):  # noqa: ANN001, ANN202
        return contextvars.Context().run(inner, environ, start_response)

    application.wsgi_app = wsgi_app


@pytest.fixture
def app(app_config: dict, _pg_schema):  # noqa: ANN001, ANN201
    application = create_app(app_config)
    _own_context_per_request(application)
    if _pg_schema is not None:
        _truncate(_pg_schema)
    else:
        db.create_schema(application)
    yield application
    db.get_engine(application).dispose()


@pytest.fixture
def session(app):  # noqa: ANN001, ANN201
    """A session for arranging data; commit before using the client."""
    with app.app_context():
        s = db.new_session(app)
        yield s
        s.close()


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture
def runner(app):  # noqa: ANN001, ANN201
    return app.test_cli_runner()


@pytest.fixture
def contest(session):  # noqa: ANN001, ANN201
    c = factories.make_contest(session)
    session.commit()
    return c


@pytest.fixture
def entrant(session, contest):  # noqa: ANN001, ANN201
    u = factories.make_user(session, Role.entrant, login="school1",
                            display_name="测试职业技术学院联系人")
    session.commit()
    return u


@pytest.fixture
def juror(session, contest):  # noqa: ANN001, ANN201
    u = factories.make_user(session, Role.juror, login="juror1", display_name="评委一")
    session.commit()
    return u


@pytest.fixture
def editor(session, contest):  # noqa: ANN001, ANN201
    u = factories.make_user(session, Role.editor, login="editor1", display_name="编辑一")
    session.commit()
    return u


@pytest.fixture
def admin(session, contest):  # noqa: ANN001, ANN201
    u = factories.make_user(session, Role.admin, login="admin1")
    session.commit()
    return u


def login_client(app, user):  # noqa: ANN001, ANN201
    """A test client logged in as `user` via Flask-Login's session key."""
    c = app.test_client()
    with c.session_transaction() as sess:
        sess["_user_id"] = user.session_token
        sess["_fresh"] = True
    return c


@pytest.fixture
def entrant_client(app, entrant):  # noqa: ANN001, ANN201
    return login_client(app, entrant)


@pytest.fixture
def juror_client(app, juror):  # noqa: ANN001, ANN201
    return login_client(app, juror)


@pytest.fixture
def editor_client(app, editor):  # noqa: ANN001, ANN201
    return login_client(app, editor)
