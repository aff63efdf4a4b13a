"""CLI commands for the intake area (see contest/cli.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


# --- validate (image intake rules without the web; logic in contest/imaging.py) -----------

def _validate_rules(content_only: bool):  # noqa: ANN202
    """IntakeRules for `validate`: content-only, else the newest contest's rules, else the
    notice's defaults (also when the database is missing or not initialised)."""
    from flask import current_app
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from contest.imaging import IntakeRules

    max_pixels = int(current_app.config["MAX_IMAGE_PIXELS"])
    if content_only:
        return IntakeRules.content_only(max_pixels)
    contest = None
    try:
        from contest import db
        from contest.models import Contest

        session = db.new_session()
        try:
            contest = session.scalar(select(Contest).order_by(Contest.created_at.desc(),
                                                              Contest.id.desc()).limit(1))
            rules = IntakeRules.from_contest(contest, max_pixels)
        finally:
            session.close()
    except SQLAlchemyError:  # no database yet: the notice's defaults
        rules = IntakeRules.notice_defaults(max_pixels)
    return rules


def _expand_paths(paths: tuple[Path, ...]) -> list[Path]:
    """Files named on the command line; folders are walked (sorted, recursively)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


@click.command("validate")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--content-only", is_flag=True,
              help="Check content only (format, integrity, frames, pixel cap); width and "
                   "file-size rules off.")
@with_appcontext
def validate_command(paths: tuple[Path, ...], content_only: bool) -> None:
    """Check image files with the web form's validator. One line per file, tab-separated:
    path, ok|rejected, reason (format, width, size_small, size_large, corrupt, bomb; empty
    when ok), Chinese message. Exit status 0 when all are ok, 1 otherwise."""
    from contest.errors import InvalidImage
    from contest.imaging import check_image, load_normalised
    from contest.messages import MESSAGES, message_for

    rules = _validate_rules(content_only)
    all_ok = True
    for path in _expand_paths(paths):
        try:
            info = check_image(path, rules)
            load_normalised(path).close()  # the same decode the web form stores from
        except InvalidImage as err:
            all_ok = False
            click.echo(f"{path}\trejected\t{err.reason}\t{message_for(err)}")
            continue
        note = MESSAGES["image_ok"]({"format": info.format, "width": info.width_px,
                                     "height": info.height_px, "size": info.size_bytes})
        click.echo(f"{path}\tok\t\t{note}")
    raise SystemExit(0 if all_ok else 1)


# --- import-units (editor side of intake; logic in contest/units.py) ---------------------

_PASSWORD_FILE_HEADER = ("单位名称", "市", "单位类型", "登录名", "初始密码", "说明")


def _write_password_file(path, report) -> int:  # noqa: ANN001
    """Write the rows of `report` (contest.units.UnitImportReport) that got a new password
    to `path`: CSV, UTF-8 with BOM so Excel shows Chinese (STYLE.md §4), mode 0600, written
    to a temporary file, fsynced and renamed. Returns the number of rows. Raises OSError."""
    import csv
    import io
    import os
    import secrets

    from contest.messages import UNIT_TYPE_LABELS

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(_PASSWORD_FILE_HEADER)
    for c in report.passwords:
        note = "新账号" if c.account_created else "密码已重置"
        writer.writerow((c.unit_name, c.city_name, UNIT_TYPE_LABELS[c.unit_type.value],
                         c.login, c.password, note + "，首次登录后须修改密码"))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # passwords: owner only
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(report.passwords)


@click.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passwords-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV of new initial passwords (default: <FILE>-初始密码-<time>.csv "
                   "next to FILE).")
@click.option("--reset-passwords", is_flag=True,
              help="Also give existing accounts a new password (must be changed at login).")
@with_appcontext
def import_units_command(file: Path, passwords_out: Path | None, reset_passwords: bool) -> None:
    """Create or update entrant units and accounts from FILE (CSV or XLSX with columns
    name, city, unit_type, login). All rows are checked first; any bad row changes nothing."""
    from contest import db
    from contest.messages import UNIT_TYPE_LABELS, message_for
    from contest.timeutil import to_local, utcnow
    from contest.units import UnitImportFailed, import_units, read_unit_file

    session = db.new_session()
    try:
        report = import_units(session, read_unit_file(file), reset_passwords=reset_passwords)
    except UnitImportFailed as err:
        session.rollback()
        click.echo(message_for(err), err=True)
        raise click.ClickException("导入失败，未做任何修改。请改正以上问题后重新导入。") from err
    if passwords_out is None:
        stamp = f"{to_local(utcnow()):%Y%m%d-%H%M%S}"
        passwords_out = file.with_name(f"{file.stem}-初始密码-{stamp}.csv")
    written = 0
    if report.passwords:  # the file is written before the commit: no account without its password
        try:
            written = _write_password_file(passwords_out, report)
        except OSError as exc:
            session.rollback()
            raise click.ClickException(f"无法写入密码文件 {passwords_out}：{exc.strerror or exc}；"
                                       "未做任何修改") from exc
    try:
        session.commit()
    except Exception:
        session.rollback()
        if written:
            passwords_out.unlink(missing_ok=True)
        raise
    finally:
        session.close()
    field_names = {"name": "名称", "city": "市", "unit_type": "类型"}
    for c in report.changes:
        what = {"created": "新建", "updated": "更新", "unchanged": "无变化"}[c.action]
        if c.changed:
            what += "（" + "、".join(field_names[f] for f in c.changed) + "）"
        if c.account_created:
            what += "；新建账号"
        elif c.password:
            what += "；密码已重置"
        click.echo(f"第{c.row}行\t{c.login}\t{c.unit_name}\t{c.city_name}\t"
                   f"{UNIT_TYPE_LABELS[c.unit_type.value]}\t{what}")
    click.echo(f"共{len(report.changes)}个单位：新建{report.count('created')}个，"
               f"更新{report.count('updated')}个，无变化{report.count('unchanged')}个。")
    if written:
        click.echo(f"{written}个账号的初始密码已写入：{passwords_out}（请妥善保管并分发给各单位）")
    else:
        click.echo("没有新的密码（已有账号的密码保持不变；如需重置请加 --reset-passwords）")


commands: list = [validate_command, import_units_command]
