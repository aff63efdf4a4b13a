"""CLI commands for the results area (see contest/cli.py): export-results, export-wechat."""

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


@click.command("export-wechat")
@click.option("--track", "track_name", required=True,
              help="Track: vet_week | lifelong_week (or its Chinese name / ZJ / ZS).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output ZIP file (the WeChat package, 公众号图文).")
@click.option("--cover", "cover_code", default=None,
              help="Entry code of the winner the covers are cut from (default: the first).")
@click.option("--focus", default=None,
              help="Cover focus point as fractions of the image, 'x,y' (default 0.5,0.4).")
@click.option("--title", default=None, help="Article title, at most 32 characters.")
@click.option("--digest", default=None, help="Article digest, at most 120 characters.")
@click.option("--contest", "contest_id", type=int, default=None,
              help="Contest id (default: the newest contest).")
@with_appcontext
def export_wechat_command(track_name: str, out: Path, cover_code: str | None,
                          focus: str | None, title: str | None, digest: str | None,
                          contest_id: int | None) -> None:
    """Write the WeChat package of a track's winners to FILE.zip (contest/wechat.py);
    refuses a track without winners; before finalisation the package is marked 拟获奖."""
    from sqlalchemy import select

    from contest import wechat
    from contest.commands.judging import _find_track
    from contest.errors import ContestError
    from contest.messages import message_for
    from contest.models import Entry
    from contest.storage import get_storage

    if out.suffix.lower() != ".zip":
        raise click.ClickException(f"输出文件须以 .zip 结尾（当前：{out.name}）")
    if not out.parent.is_dir():
        raise click.ClickException(f"输出目录不存在：{out.parent}")
    session = db.new_session()
    try:
        track = _find_track(session, track_name, contest_id)
        cover = None
        if cover_code:
            cover = session.scalar(select(Entry).where(Entry.code == cover_code.strip()))
            if cover is None:
                raise click.ClickException(f"作品编号不存在：{cover_code}")
        try:
            data = wechat.build_package(
                session, track, cover_entry=cover,
                focus=wechat.parse_focus(focus) if focus else None, title=title,
                digest=digest, storage=get_storage(), actor=None)
        except ContestError as exc:
            raise click.ClickException(message_for(exc)) from None
        out.write_bytes(data)
        session.commit()
        final = wechat.awards.is_finalised(session, track)
        click.echo(f"已导出：{out}（{track.name}，{len(wechat.awards.winners(session, track))}件"
                   f"{'获奖' if final else '拟获奖'}作品，{len(data)}字节）")
        if not final:
            click.echo("注意：评审结果尚未确认发布，图文包标为“拟获奖”，仅供内部审核。", err=True)
    finally:
        session.close()


commands: list = [export_results_command, export_wechat_command]
