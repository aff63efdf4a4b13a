"""CLI commands for the results area (see contest/cli.py): export-results."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from contest import db


@click.command("export-results")
@click.option("--round", "round_id", type=int, required=True, help="Round id.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .csv (UTF-8 with BOM) or .xlsx, chosen by the extension.")
@with_appcontext
def export_results_command(round_id: int, out: Path) -> None:
    """Export a round's results (ranking, aggregates, per-juror scores by alias) to FILE."""
    from contest.export import EXPORT_FORMATS, export_results
    from contest.models import Round

    if out.suffix.lower() not in EXPORT_FORMATS:
        raise click.ClickException(f"输出文件须以 .csv 或 .xlsx 结尾（当前：{out.name}）")
    if not out.parent.is_dir():
        raise click.ClickException(f"输出目录不存在：{out.parent}")
    session = db.new_session()
    try:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"评审轮次不存在：{round_id}")
        size = export_results(session, round_, out, actor=None)
        session.commit()
        click.echo(f"已导出：{out}（{round_.track.name} · {round_.name}，"
                   f"{len(round_.round_entries)}件作品，{size}字节）")
    finally:
        session.close()


commands: list = [export_results_command]
