"""Database and account commands: init-db, create-user."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from contest import db
from contest.models import Role, Unit, User
from contest.reference_data import ensure_cities


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database to the newest schema (Alembic), and load the cities."""
    db.upgrade_schema()
    session = db.new_session()
    ensure_cities(session)
    session.commit()
    click.echo("数据库已就绪（已升级到最新结构）")


@click.command("create-user")
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_name", default=None, help="Unit name (entrants; optional for jurors).")
@click.option("--password", default=None, help="Initial password; random when omitted.")
@click.option("--name", "display_name", default="", help="Display name.")
@with_appcontext
def create_user(login: str, role: str, unit_name: str | None, password: str | None,
                display_name: str) -> None:
    """Create LOGIN with ROLE (or reset its password and role if it exists)."""
    session = db.new_session()
    unit = None
    if unit_name:
        unit = session.scalar(select(Unit).where(Unit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"参赛单位不存在：{unit_name}（请先用 import-units 导入）")
    if role == Role.entrant and unit is None:
        raise click.ClickException("参赛单位账号必须用 --unit 指定所属单位")
    generated = password is None
    password = password or secrets.token_urlsafe(9)
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        user = User(login=login, role=Role(role))
        session.add(user)
    user.role = Role(role)
    user.unit = unit
    user.display_name = display_name or user.display_name or login
    user.set_password(password)
    user.must_change_password = generated
    session.commit()
    click.echo(f"{login}\t{role}\t{password if generated else '(password as given)'}")


commands = [init_db, create_user]
