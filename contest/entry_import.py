"""Importing entries the magazine received by e-mail (`flask --app contest import-entries`).

The file is a CSV, one entry a row, with the columns `unit` (name or entrant login),
`track` (`vet_week` / `lifelong_week`, or the Chinese track name), `title`, `authors`,
`adviser`, `statement`, `caption_time`, `caption_place`, `caption_people`, `caption_event`,
`image` (a path relative to the CSV's folder), and optionally `ai_use` (否/辅助/主要 or
none/assisted/generated; when the column is absent every row is recorded as 否). Chinese
headers (参赛单位, 赛道, 作品名称, ...) are accepted too. Encodings: UTF-8 with or without
BOM, else GB18030 (Excel on Chinese Windows saves GBK).

Every row goes through the entries service, so it meets exactly the web form's rules, and is
imported as a submitted entry with `source='import'`; the importing editor confirms the
unit's content review and originality pledge that came with the e-mail (recorded as the
reviewer "<editor>（编辑导入确认）" and in the audit log, action `entry.import`).

Nothing half-imported: each row is one transaction (entry, files, code) that commits whole
or not at all, and a refused row leaves no row and no file behind. Rows already imported
(same unit, track, title and image bytes) are skipped, so after fixing the refused rows the
editor runs the same file again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.entries import (EntryData, PreparedImage, attach_image, clean_text, create_draft,
                             is_open, parse_ai_use, submit_entry)
from contest.errors import ContestError, ImportRowError
from contest.models import (AIUse, Contest, Entry, EntryFile, EntryStatus, FileKind, Role,
                            Track, TrackKind, Unit, User, log_event)

COLUMNS = ("unit", "track", "title", "authors", "adviser", "statement", "caption_time",
           "caption_place", "caption_people", "caption_event", "image")
OPTIONAL_COLUMNS = ("ai_use",)
HEADER_ALIASES = {
    "unit": ("unit", "参赛单位", "单位", "单位名称"),
    "track": ("track", "赛道"),
    "title": ("title", "作品名称"),
    "authors": ("authors", "作者"),
    "adviser": ("adviser", "指导教师"),
    "statement": ("statement", "设计说明"),
    "caption_time": ("caption_time", "时间", "图片说明时间"),
    "caption_place": ("caption_place", "地点", "图片说明地点"),
    "caption_people": ("caption_people", "人物", "图片说明人物"),
    "caption_event": ("caption_event", "事件", "图片说明事件"),
    "image": ("image", "图片", "图片文件", "海报图片"),
    "ai_use": ("ai_use", "是否使用ai生成/辅助", "ai使用", "是否使用ai"),
}
REVIEWER_SUFFIX = "（编辑导入确认）"


class EntryImportFailed(ContestError):
    """The file cannot be read at all; nothing was imported. params: reason ('unreadable',
    'columns', 'empty'), detail (missing columns or the reader's error)."""

    code = "entry_import"


@dataclass
class ImportRow:
    """One data row. `row`: its row number as Excel shows it (the header is row 1)."""

    row: int
    values: dict[str, str]


@dataclass
class ResolvedRow:
    """A row whose unit, track and image file were found."""

    row: int
    unit: Unit
    track: Track
    data: EntryData
    image_path: Path


@dataclass
class RowResult:
    """What happened to a row: status 'imported', 'skipped' (imported before) or 'refused'
    with the Chinese `reasons`."""

    row: int
    status: str
    unit_name: str = ""
    title: str = ""
    code: str = ""
    reasons: list[str] = field(default_factory=list)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise EntryImportFailed(reason="unreadable", detail="编码无法识别（请另存为 UTF-8 或 GBK 的 CSV）")


def _header_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold().replace(" ", "")


def read_entry_csv(path: Path) -> tuple[list[ImportRow], bool]:
    """Read the CSV at `path`. Returns (rows, has_ai_use_column); blank lines are skipped.
    The delimiter (comma, semicolon or tab) is taken from the header line.

    Raises EntryImportFailed: 'unreadable' (cannot read or decode), 'columns' (required
    columns missing; detail names them), 'empty' (no data rows)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise EntryImportFailed(reason="unreadable", detail=exc.strerror or str(exc)) from exc
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not table:
        raise EntryImportFailed(reason="empty", detail="")
    aliases = {_header_key(a): col for col, names in HEADER_ALIASES.items() for a in names}
    index: dict[str, int] = {}
    for i, cell in enumerate(table[0]):
        col = aliases.get(_header_key(cell))
        if col and col not in index:
            index[col] = i
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        raise EntryImportFailed(reason="columns", detail="、".join(missing))
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        rows.append(ImportRow(row=number, values={
            col: (cells[i] if i < len(cells) else "") for col, i in index.items()}))
    if not rows:
        raise EntryImportFailed(reason="empty", detail="")
    return rows, "ai_use" in index


def _row_error(row: int, column: str, detail: str) -> ImportRowError:
    return ImportRowError(row=row, column=column, detail=detail)


def find_unit(session: Session, text: str) -> Unit | None:
    """A unit by its exact name, or by the login of one of its entrant accounts."""
    name = clean_text(text)
    if not name:
        return None
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is not None:
        return unit
    user = session.scalar(select(User).where(User.login == name, User.role == Role.entrant))
    return user.unit if user is not None else None


def parse_track(contest: Contest, text: str) -> Track | None:
    """`vet_week` / `lifelong_week` or the Chinese track name → the contest's Track."""
    value = clean_text(text)
    for track in contest.tracks:
        if value.casefold() == str(track.kind) or value == track.name:
            return track
    try:
        return contest.track(TrackKind(value.casefold()))
    except ValueError:
        return None


def resolve_row(session: Session, row: ImportRow, *, contest: Contest, base_dir: Path,
                editor: User, has_ai_use_column: bool) -> tuple[ResolvedRow | None,
                                                                EntryData,
                                                                list[ContestError]]:
    """Look up the row's unit, track and image file and build its EntryData (declarations
    confirmed by `editor`). Returns (resolved or None, the row's EntryData, problems found
    so far: unknown unit or track, missing image file). An empty or unknown ai_use cell
    leaves `ai_use` None, which the entry rules report."""
    v = row.values
    problems: list[ContestError] = []
    unit = find_unit(session, v.get("unit", ""))
    if unit is None:
        problems.append(_row_error(row.row, "unit", f"参赛单位不存在：“{clean_text(v.get('unit'))}”"
                                   "（请填写单位名称或登录名）"))
    track = parse_track(contest, v.get("track", ""))
    if track is None:
        problems.append(_row_error(row.row, "track", f"赛道应为 vet_week（职业教育活动周）或 "
                                   f"lifelong_week（全民终身学习活动周）（当前：“{clean_text(v.get('track'))}”）"))
    image_text = clean_text(v.get("image"))
    image_path = (base_dir / image_text) if image_text else None
    if image_path is None:
        problems.append(_row_error(row.row, "image", "未填写图片文件路径"))
    elif not image_path.is_file():
        problems.append(_row_error(row.row, "image", f"图片文件不存在：{image_text}"))
    ai_use: AIUse | None = AIUse.none
    if has_ai_use_column:
        ai_use = parse_ai_use(v.get("ai_use"))  # empty or unknown → the rule's message
    reviewer = f"{editor.display_name or editor.login}{REVIEWER_SUFFIX}"[:50]
    data = EntryData(title=v.get("title", ""), authors=v.get("authors", ""),
                     adviser=v.get("adviser", ""), statement=v.get("statement", ""),
                     caption_time=v.get("caption_time", ""),
                     caption_place=v.get("caption_place", ""),
                     caption_people=v.get("caption_people", ""),
                     caption_event=v.get("caption_event", ""), ai_use=ai_use,
                     content_review_confirmed=True, content_reviewer=reviewer,
                     originality_confirmed=True)
    if problems:
        return None, data, problems
    return ResolvedRow(row=row.row, unit=unit, track=track, data=data,
                       image_path=image_path), data, []


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def already_imported(session: Session, resolved: ResolvedRow, sha256: str) -> Entry | None:
    """An entry of the same unit and track with the same title whose original has the same
    bytes (a row imported by an earlier run of the same file), else None."""
    title = clean_text(resolved.data.title)
    return session.scalar(
        select(Entry).join(EntryFile, EntryFile.entry_id == Entry.id)
        .where(Entry.unit_id == resolved.unit.id, Entry.track_id == resolved.track.id,
               Entry.title == title, Entry.status != EntryStatus.withdrawn,
               EntryFile.kind == FileKind.original, EntryFile.sha256 == sha256)
        .limit(1))


def import_row(session: Session, resolved: ResolvedRow, prepared: PreparedImage, *,
               contest: Contest, editor: User, source_name: str, now: datetime | None = None,
               enforce_deadline: bool = True) -> Entry:
    """Create the row's entry as the web form would, but in one go: draft with the fields,
    the prepared image (duplicate detection runs), submission (every rule, quota, code),
    `source='import'`, `created_by=editor`, and an `entry.import` audit event naming the
    file and row. Flushes; the caller commits, or rolls back and calls
    `entries.discard_prepared`.

    `enforce_deadline=False` (command option --allow-late): e-mail that arrived in time is
    imported after the deadline; the audit event records it.
    Raises RulesBroken / PhaseClosed / DuplicateRefused / ContestError.
    """
    entry = create_draft(session, contest=contest, track=resolved.track, unit=resolved.unit,
                         data=resolved.data, created_by=editor, source="import", now=now,
                         enforce_deadline=enforce_deadline)
    attach_image(session, entry, prepared, actor=editor, now=now,
                 enforce_deadline=enforce_deadline)
    submit_entry(session, entry, actor=editor, data=resolved.data, now=now,
                 enforce_deadline=enforce_deadline)
    log_event(session, editor, "entry.import", entry,
              new={"code": entry.code, "file": source_name, "row": resolved.row,
                   "content_reviewer": entry.content_reviewer,
                   "late": not is_open(contest, now)},
              reason=f"{source_name} 第{resolved.row}行：编辑导入，确认已附宣传部门审核与原创承诺")
    return entry


__all__ = ["COLUMNS", "EntryImportFailed", "ImportRow", "OPTIONAL_COLUMNS", "ResolvedRow",
           "RowResult", "already_imported", "file_sha256", "find_unit", "import_row",
           "parse_track", "read_entry_csv", "resolve_row"]
