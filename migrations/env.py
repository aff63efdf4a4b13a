"""Alembic environment: the URL comes from the app's Config (contest/db.py alembic_config)
or, on the command line, from DATABASE_URL / the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context

from contest import models  # noqa: F401  (registers every table)
from contest.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    root = Path(__file__).resolve().parent.parent
    return f"sqlite:///{root / 'instance' / 'contest.sqlite3'}"


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
