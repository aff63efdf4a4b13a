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
    from contest.imaging import check_and_load
    from contest.messages import MESSAGES, message_for

    rules = _validate_rules(content_only)
    all_ok = True
    for path in _expand_paths(paths):
        try:
            info, image = check_and_load(path, rules)  # the decode the web form stores from
            image.close()
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


# --- import-entries (entries received by e-mail; logic in contest/entry_import.py) -------

def _import_reasons(errors) -> list[str]:  # noqa: ANN001
    from contest.errors import ImportRowError
    from contest.messages import message_for

    return [str(e.params.get("detail")) if isinstance(e, ImportRowError) else message_for(e)
            for e in errors]


def _import_one(session, storage, row, *, contest, editor,  # noqa: ANN001, ANN202, PLR0913
                base_dir: Path, has_ai_use_column: bool, allow_late: bool, source_name: str):
    """Import one CSV row in its own transaction; returns its `RowResult`. A refused row
    leaves no database row and no stored file (PITFALLS.md #13: image work runs before the
    write transaction)."""
    from flask import current_app
    from sqlalchemy.exc import OperationalError

    from contest import entries
    from contest.entry_import import (RowResult, already_imported, file_sha256, import_row,
                                      resolve_row)
    from contest.errors import ContestError, InvalidImage, PhaseClosed, RulesBroken

    cfg = current_app.config
    values = row.values
    result = RowResult(row=row.row, status="refused",
                       unit_name=entries.clean_text(values.get("unit")),
                       title=entries.clean_text(values.get("title")))
    resolved, data, problems = resolve_row(session, row, contest=contest, base_dir=base_dir,
                                           editor=editor, has_ai_use_column=has_ai_use_column)
    if resolved is not None:
        result.unit_name = resolved.unit.name
        earlier = already_imported(session, resolved, file_sha256(resolved.image_path))
        if earlier is not None:
            session.rollback()
            result.status, result.code = "skipped", earlier.code or ""
            return result
    # every problem at once, as the web form shows them
    problems += entries.storage_problems(data, contest)
    seen = {(p.code, p.params.get("field")) for p in problems}
    problems += [p for p in entries.rule_problems(data, contest, has_image=True)
                 if (p.code, p.params.get("field")) not in seen]
    if not allow_late and not entries.is_open(contest):
        problems.insert(0, PhaseClosed(deadline=contest.submissions_close_at, action="提交"))
    if resolved is not None:
        limit = contest.max_entries_per_unit_per_track
        count = entries.count_submitted(session, resolved.unit.id, resolved.track.id)
        if count >= limit:
            problems.append(ContestError("quota", track=resolved.track.name, max=limit,
                                         count=count))
    session.commit()  # end the read transaction before the image work
    prepared = None
    if resolved is not None:
        try:
            prepared = entries.prepare_image(
                resolved.image_path,
                rules=entries.intake_rules(contest, cfg["MAX_IMAGE_PIXELS"]), storage=storage,
                original_filename=resolved.image_path.name,
                preview_long_edge_px=cfg["PREVIEW_LONG_EDGE_PX"],
                thumb_long_edge_px=cfg["THUMB_LONG_EDGE_PX"])
        except RulesBroken as err:
            problems = err.errors + problems
        except InvalidImage as err:
            problems.insert(0, err)
    if problems:
        entries.discard_prepared(session, storage, prepared)
        result.reasons = _import_reasons(problems)
        return result
    try:
        entry = import_row(session, resolved, prepared, contest=contest, editor=editor,
                           source_name=source_name, enforce_deadline=not allow_late)
        session.commit()
    except (ContestError, OperationalError) as err:
        session.rollback()
        entries.discard_prepared(session, storage, prepared)
        errors = err.errors if isinstance(err, RulesBroken) else (
            [err] if isinstance(err, ContestError) else [ContestError("busy")])
        result.reasons = _import_reasons(errors)
        return result
    entries.confirm_stored(storage, prepared)
    result.status, result.code = "imported", entry.code or ""
    return result


def _write_import_report(path: Path, results) -> None:  # noqa: ANN001
    """The import report as CSV, UTF-8 with BOM (Excel on Chinese Windows)."""
    import csv

    labels = {"imported": "已导入", "skipped": "已导入过，跳过", "refused": "未导入"}
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(("行号", "结果", "作品编号", "参赛单位", "作品名称", "原因"))
        for r in results:
            writer.writerow((r.row, labels[r.status], r.code, r.unit_name, r.title,
                             "；".join(r.reasons)))


@click.command("import-entries")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--editor", "editor_login", required=True,
              help="Login of the editor importing; recorded as confirming, for every row, "
                   "the unit's content review and originality pledge sent with the e-mail.")
@click.option("--year", type=int, default=None,
              help="Contest year (default: the current contest).")
@click.option("--allow-late", is_flag=True,
              help="Import after the submission deadline (entries that arrived in time).")
@click.option("--report", "report_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report to this CSV (UTF-8 with BOM, opens in Excel).")
@with_appcontext
def import_entries_command(file: Path, editor_login: str, year: int | None, allow_late: bool,
                           report_path: Path | None) -> None:
    """Import entries received by e-mail from FILE.csv (columns unit, track, title, authors,
    adviser, statement, caption_time, caption_place, caption_people, caption_event, image;
    optional ai_use; image paths relative to FILE's folder). Every row passes the web
    form's rules and becomes a submitted entry (source 'import').

    Each row is imported whole or not at all (its own transaction; a refused row leaves no
    data and no file). Rows imported by an earlier run are skipped, so after fixing the
    refused rows run the same file again. Prints one line per row, tab-separated; exit
    status 0 when no row was refused, 1 otherwise."""
    from sqlalchemy import select

    from contest import db, entries
    from contest.entry_import import EntryImportFailed, read_entry_csv
    from contest.models import Contest, Role, User
    from contest.storage import get_storage

    session = db.new_session()
    try:
        editor = session.scalar(select(User).where(User.login == editor_login))
        if editor is None or editor.role not in (Role.editor, Role.admin):
            raise click.ClickException(f"编辑账号不存在：{editor_login}（须为编辑或管理员账号）")
        if year is None:
            contest = entries.current_contest(session)
        else:
            contest = session.scalar(select(Contest).where(Contest.year == year)
                                     .order_by(Contest.id.desc()).limit(1))
        if contest is None:
            raise click.ClickException("没有找到比赛（请先创建比赛，或用 --year 指定年份）")
        try:
            rows, has_ai_use_column = read_entry_csv(file)
        except EntryImportFailed as err:
            detail = err.params.get("detail")
            reason = {"unreadable": f"无法读取文件（{detail}）",
                      "columns": f"缺少列：{detail}",
                      "empty": "文件中没有数据行"}[err.params["reason"]]
            raise click.ClickException(f"{reason}；未导入任何作品") from err
        storage = get_storage()
        results = []
        for row in rows:
            results.append(_import_one(session, storage, row, contest=contest, editor=editor,
                                       base_dir=file.resolve().parent,
                                       has_ai_use_column=has_ai_use_column,
                                       allow_late=allow_late, source_name=file.name))
    finally:
        session.close()
    for r in results:
        if r.status == "refused":
            click.echo(f"第{r.row}行\t未导入\t{r.unit_name}\t{r.title}\t" + "；".join(r.reasons))
        else:
            what = "已导入" if r.status == "imported" else "已导入过，跳过"
            click.echo(f"第{r.row}行\t{what}\t{r.code}\t{r.unit_name}\t{r.title}")
    imported = sum(r.status == "imported" for r in results)
    skipped = sum(r.status == "skipped" for r in results)
    refused = sum(r.status == "refused" for r in results)
    click.echo(f"共{len(results)}行：导入{imported}件，跳过{skipped}件（此前已导入），"
               f"未导入{refused}件。")
    if refused:
        click.echo("未导入的行没有留下任何数据或文件；改正后重新导入同一文件即可，已导入的行会自动跳过。")
    if report_path is not None:
        _write_import_report(report_path, results)
        click.echo(f"导入报告已写入：{report_path}")
    raise SystemExit(1 if refused else 0)


commands: list = [validate_command, import_units_command, import_entries_command]
