"""CLI commands for the demo area (see contest/cli.py)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from contest import db
from contest.demo import (DEMO_ACCOUNTS, DEMO_PASSWORD, STAGES, DemoError, find_demo_contest,
                          seed_demo)
from contest.messages import ROLE_LABELS, message_for
from contest.timeutil import format_local


@click.command("seed-demo")
@click.option("--stage", type=click.Choice(STAGES), default="entry", show_default=True,
              help="How far the demo contest goes: entry (submissions open), judging, results.")
@click.option("--skip-if-present", is_flag=True,
              help="Do nothing (exit 0) when the demo contest already exists.")
@click.option("--entries", "entry_count", type=click.IntRange(0), default=None,
              help="Only the first N demo entries (faster; default: all).")
@click.option("--samples-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with the sample photos (default: SAMPLES_DIR or static/img/samples).")
@with_appcontext
def seed_demo_command(stage: str, skip_if_present: bool, entry_count: int | None,
                      samples_dir: Path | None) -> None:
    """Load the demo contest: both tracks, the 11 cities, ~20 units, one account per role
    and about a dozen poster entries composed from the sample photos."""
    from contest.storage import get_storage

    session = db.new_session()
    try:
        existing = find_demo_contest(session)
        if existing is not None and skip_if_present:
            click.echo(f"演示比赛已存在（{existing.name}），跳过载入。")
            _echo_accounts([(a, DEMO_PASSWORD) for a in DEMO_ACCOUNTS])
            return
        cfg = current_app.config
        folder = samples_dir or (Path(cfg["SAMPLES_DIR"]) if cfg.get("SAMPLES_DIR") else None)
        click.echo(f"==> 载入演示比赛（阶段：{stage}），正在生成海报……")
        started = time.perf_counter()
        try:
            report = seed_demo(session, stage, folder, config=cfg, storage=get_storage(),
                               entries=entry_count, progress=lambda line: click.echo("    " + line))
        except DemoError as err:
            session.rollback()
            if err.params.get("reason") == "exists":
                raise click.ClickException(
                    f"演示比赛已存在（{err.params['name']}）。如需重新载入，请删除数据库后重试；"
                    "或加 --skip-if-present 跳过。") from err
            raise click.ClickException(
                f"缺少示例照片：{'、'.join(err.params['missing'])}（目录 {err.params['folder']}）"
            ) from err
        except Exception as err:
            session.rollback()
            from contest.errors import ContestError

            if isinstance(err, ContestError):
                raise click.ClickException(f"演示数据载入失败：{message_for(err)}") from err
            raise
        session.commit()
        elapsed = time.perf_counter() - started
        contest = report.contest
        click.echo(f"比赛：{contest.name}")
        click.echo(f"截止时间：{format_local(contest.submissions_close_at)}（北京时间）")
        click.echo(f"作品：{len(report.entries)}件（海报合成平均 {report.seconds_per_poster:.1f} 秒/张，"
                   f"共用时 {elapsed:.0f} 秒）")
        if not report.cjk_font:
            click.echo("提示：未找到中文字体（Debian：apt-get install fonts-noto-cjk），"
                       "演示海报上的标题改用英文。")
        for note in report.notes:
            click.echo(f"说明：{note}")
        _echo_accounts(report.accounts)
    finally:
        session.close()


def _echo_accounts(accounts) -> None:  # noqa: ANN001
    click.echo("演示账号（登录名 / 密码 / 角色）：")
    for account, password in accounts:
        extra = f"  {account.note}" if account.note else ""
        click.echo(f"    {account.login:<13} {password:<10} {ROLE_LABELS[account.role]}{extra}")


commands: list = [seed_demo_command]
