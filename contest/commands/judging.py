"""CLI commands for the judging area (see contest/cli.py): create-round."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from contest import db
from contest.errors import ContestError
from contest.messages import message_for
from contest.models import Contest, RoundKind, Track, TrackKind, User


def _find_track(session, track: str, contest_id: int | None) -> Track:  # noqa: ANN001
    """TRACK is a track kind (vet_week / lifelong_week), its Chinese name or its code
    prefix (ZJ / ZS), in the newest contest (or --contest)."""
    contest = (session.get(Contest, contest_id) if contest_id else
               session.scalar(select(Contest).where(Contest.is_archived.is_(False))
                              .order_by(Contest.id.desc())))
    if contest is None:
        raise click.ClickException("没有找到比赛，请先创建比赛")
    for t in contest.tracks:
        if track in (str(t.kind), t.name, t.code_prefix):
            return t
    kinds = "、".join(f"{k.value}" for k in TrackKind)
    raise click.ClickException(f"赛道不存在：{track}（可用：{kinds}，或赛道名称）")


@click.command("create-round")
@click.option("--track", "track_name", required=True,
              help="Track: vet_week | lifelong_week (or its Chinese name / ZJ / ZS).")
@click.option("--name", required=True, help="Round name, e.g. 初评.")
@click.option("--kind", type=click.Choice([k.value for k in RoundKind]), default="preliminary",
              show_default=True)
@click.option("--jurors-per-entry", "k", type=click.IntRange(min=1), default=None,
              help="Jurors per entry (default 3; final round: all jurors).")
@click.option("--juror", "logins", multiple=True, required=True, help="Juror login (repeat).")
@click.option("--seed", type=int, default=None, help="Assignment seed (default random).")
@click.option("--contest", "contest_id", type=int, default=None,
              help="Contest id (default: the newest contest).")
@with_appcontext
def create_round_command(track_name: str, name: str, kind: str, k: int | None,
                         logins: tuple[str, ...], seed: int | None,
                         contest_id: int | None) -> None:
    """Create a round over the track's eligible entries, open it and assign jurors; prints
    the round's id."""
    from contest.rounds import create_round, open_round

    session = db.new_session()
    try:
        track = _find_track(session, track_name, contest_id)
        jurors = []
        for login in logins:
            user = session.scalar(select(User).where(User.login == login))
            if user is None:
                raise click.ClickException(f"评委账号不存在：{login}")
            jurors.append(user)
        try:
            round_ = create_round(session, track, kind=kind, name=name, jurors=jurors,
                                  jurors_per_entry=k, seed=seed)
            report = open_round(session, round_, actor=None)
        except ContestError as exc:
            raise click.ClickException(message_for(exc)) from None
        session.commit()
        for s in report.shortfalls:
            click.echo(f"注意：作品 {s.anon_code} 只有{s.assigned}位评委可评（需要{s.wanted}位）",
                       err=True)
        click.echo(round_.id)
    finally:
        session.close()


commands = [create_round_command]
