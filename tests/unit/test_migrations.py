"""The Alembic migrations build exactly the schema the models describe, on SQLite and (when
DATABASE_URL points at PostgreSQL) on a scratch PostgreSQL database; and downgrade cleanly."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from contest import create_app, db
from tests.conftest import PG_URL, make_test_config


def _assert_matches_models(url: str) -> None:
    from contest import models  # noqa: F401

    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, db.Base.metadata)
    finally:
        engine.dispose()
    assert diffs == [], f"models and migrations differ: {diffs}"


def test_sqlite_migrations_match_models(tmp_path):
    app = create_app(make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path/'m.db'}"))
    with app.app_context():
        db.upgrade_schema(app)
        _assert_matches_models(app.config["DATABASE_URL"])
        command.downgrade(db.alembic_config(app), "base")
        command.upgrade(db.alembic_config(app), "head")


@pytest.mark.skipif(not PG_URL, reason="runs in the PostgreSQL pass (DATABASE_URL set)")
def test_postgresql_migrations_match_models(tmp_path):
    name = f"migtest_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        app = create_app(make_test_config(tmp_path, DATABASE_URL=url))
        with app.app_context():
            db.upgrade_schema(app)
            _assert_matches_models(url)
            command.downgrade(db.alembic_config(app), "base")
        db.get_engine(app).dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_contest_rules_default_to_the_notice_and_none_switches_a_rule_off(session):
    from datetime import datetime, timezone

    from contest.models import MIB, Contest

    close = datetime(2024, 5, 12, 15, 59, tzinfo=timezone.utc)
    default = Contest(name="a", year=2024, submissions_close_at=close)
    off = Contest(name="b", year=2024, submissions_close_at=close, min_width_px=None,
                  min_size_bytes=None, max_size_bytes=None)
    session.add_all([default, off])
    session.commit()
    session.expire_all()
    assert (default.min_width_px, default.min_size_bytes, default.max_size_bytes) == (
        2000, 2 * MIB, 10 * MIB)
    assert (off.min_width_px, off.min_size_bytes, off.max_size_bytes) == (None, None, None)
