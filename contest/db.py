"""Engine, per-request session and schema helpers.

`init_app(app)` builds one engine per app from `DATABASE_URL`; `get_session()` returns the
session cached on `flask.g` for the current request / app context and closes it at teardown
(flaskr `db.py` with SQLAlchemy in place of sqlite3). Services never commit; views and CLI
commands own the transaction.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names match on SQLite and
    PostgreSQL and Alembic can alter them by name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_BUSY_TIMEOUT_MS = 10_000  # PITFALLS.md #13: uploads near the deadline contend for the lock


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`. SQLite gets WAL, a busy timeout and foreign keys on."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                           "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def init_app(app: Flask) -> None:
    """Attach an engine and sessionmaker to `app` and close the request session on teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["contest_db"] = {
        "engine": engine,
        "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
    }
    app.teardown_appcontext(close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["contest_db"]["engine"]


def new_session(app: Flask | None = None) -> Session:
    """A fresh session not tied to the request (CLI, background work, tests)."""
    return (app or current_app).extensions["contest_db"]["sessionmaker"]()


def get_session() -> Session:
    """The session of the current app context, created on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def create_schema(app: Flask | None = None) -> None:
    """Create every table directly from the models (tests; `init-db --no-migrations`)."""
    from contest import models  # noqa: F401  (registers the tables)

    Base.metadata.create_all(get_engine(app))


def upgrade_schema(app: Flask | None = None, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision` on the app's database."""
    from alembic import command

    command.upgrade(alembic_config(app), revision)


def alembic_config(app: Flask | None = None):  # noqa: ANN201
    """Alembic `Config` for the app's database, pointing at the repository's migrations/."""
    from pathlib import Path

    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    cfg = Config()
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("sqlalchemy.url",
                        (app or current_app).config["DATABASE_URL"].replace("%", "%%"))
    return cfg
