"""Editors' exports of a round's results: CSV (UTF-8 with BOM, so Excel on Chinese Windows
shows the Chinese) and XLSX (openpyxl: results, per-juror scores and comments, notes).

One function per artefact (CTFd `utils/exports`). Editor-only; every export is logged as an
`AuditEvent` ('export.results'). Jurors appear only as 评委A, 评委B …. Unit, authors and
adviser are filled in only once the track's results are final (finalising reveals names);
before that those columns are present and empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contest import awards, scoring
from contest.messages import (AGGREGATE_METHOD_LABELS, AWARD_LABELS, ENTRY_STATUS_LABELS,
                              ROUND_KIND_LABELS)
from contest.models import AwardDecision, Entry, Round, RoundEntry, User, log_event
from contest.timeutil import format_local, utcnow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formula injection


@dataclass
class Table:
    """A header row and data rows (cells: str, int, float or None)."""

    headers: list[str]
    rows: list[list[object]]


def _safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula ('=HYPERLINK(…)' in a title) gets a
    leading apostrophe; numbers pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _num(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def results_table(session: Session, round_: Round) -> Table:
    """The round's results ranked under its chosen method: rank, 评审编号, entry code,
    title, unit/authors/adviser (after finalisation), status, n, the three aggregates,
    median, first-criterion score, the award in force, then each juror's total by alias."""
    results = scoring.compute_results(session, round_)
    aliases = scoring.juror_aliases(round_)
    alias_order = sorted(set(aliases.values()), key=lambda a: (len(a), a))
    by_alias = {a: j for j, a in aliases.items()}
    revealed = awards.is_finalised(session, round_.track)
    entries = {e.id: e for e in session.scalars(
        select(Entry).where(Entry.id.in_([r.entry_id for r in results])))}
    tiers = {d.entry_id: d.tier for d in session.scalars(
        select(AwardDecision).where(AwardDecision.track_id == round_.track_id))}
    first = round_.criteria[0].name if round_.criteria else "第一项"
    headers = ["排名", "评审编号", "作品编号", "作品名称", "参赛单位", "作者", "指导教师",
               "作品状态", "评分人数", "平均分", "去掉最高最低分后平均", "标准分（0–100）",
               "中位数", f"首项得分（{first}）", "排名依据", "获奖等次", *alias_order]
    rows = []
    for r in results:
        entry = entries[r.entry_id]
        tier = tiers.get(r.entry_id)
        rows.append([
            r.rank, r.anon_code, r.entry_code, _safe(r.title),
            _safe(entry.unit.name) if revealed else None,
            _safe(entry.authors) if revealed else None,
            _safe(entry.adviser) if revealed else None,
            ENTRY_STATUS_LABELS.get(str(entry.status), str(entry.status)),
            r.n_scores, _num(r.mean), _num(r.trimmed_mean), _num(r.zscore), _num(r.median),
            _num(r.first_criterion), AGGREGATE_METHOD_LABELS[str(r.method)],
            AWARD_LABELS.get(str(tier), "") if tier else "",
            *[_num(r.juror_totals.get(by_alias[a])) for a in alias_order],
        ])
    return Table(headers=headers, rows=rows)


def juror_scores_table(session: Session, round_: Round) -> Table:
    """Every counted score sheet of the round: 评审编号, entry code, title, juror alias,
    points per criterion (header names the maximum), total and comment; by 评审编号 then
    alias."""
    rows_by = scoring.load_score_rows(session, round_)
    aliases = scoring.juror_aliases(round_)
    entries = {re.entry_id: re for re in session.scalars(
        select(RoundEntry).where(RoundEntry.round_id == round_.id)
        .options(selectinload(RoundEntry.entry)))}
    headers = ["评审编号", "作品编号", "作品名称", "评委",
               *[f"{c.name}（满分{c.max_points:g}）" for c in round_.criteria], "总分", "评语"]
    rows = []
    for row in rows_by:
        re = entries.get(row.entry_id)
        if re is None:
            continue
        rows.append([re.anon_code, re.entry.code or "", _safe(re.entry.title),
                     aliases.get(row.juror_id, ""), *[_num(p) for p in row.points],
                     _num(row.total), _safe(row.comment)])
    rows.sort(key=lambda r: (str(r[0]), len(str(r[3])), str(r[3])))
    return Table(headers=headers, rows=rows)


def notes_table(session: Session, round_: Round) -> Table:
    """How the results were computed, for the XLSX 说明 sheet."""
    settings = scoring.get_settings(session, round_)
    pending = scoring.pending_jurors(round_)
    return Table(headers=["项目", "内容"], rows=[
        ["赛道", round_.track.name],
        ["轮次", f"{round_.name}（{ROUND_KIND_LABELS.get(str(round_.kind), '')}）"],
        ["排名依据", AGGREGATE_METHOD_LABELS[str(settings.method)]],
        ["同分处理", "依次比较：所选汇总分、评委总分中位数、首项评分项得分；仍相同则并列"],
        ["去掉最高最低分", f"评分人数不少于{settings.trimmed_min_scores}人时去掉一个最高分和"
                      "一个最低分后取平均，否则取平均分"],
        ["标准分", "每位评委的总分先按本人所评作品标准化（Z分数），作品取各评委Z分数的平均，"
                "再换算到本轮全部评分的平均分与标准差上（0–100）"],
        ["未计入", "、".join(pending) + " 尚未提交评分表" if pending else "无"],
        ["结果状态", "已确认发布" if awards.is_finalised(session, round_.track)
         else "拟定（未确认发布，单位与作者信息暂不显示）"],
        ["导出时间", format_local(utcnow())],
    ])


def write_csv(table: Table) -> bytes:
    """`table` as CSV, UTF-8 with BOM (utf-8-sig), CRLF line ends (Excel's defaults)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _sheet(wb: Workbook, title: str, table: Table, widths: Sequence[int] = ()) -> None:
    ws = wb.create_sheet(title)
    ws.append(table.headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F2F4")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in table.rows:
        ws.append(row)
    for col in range(1, len(table.headers) + 1):
        width = widths[col - 1] if col - 1 < len(widths) else 12
        ws.column_dimensions[get_column_letter(col)].width = width
        for cell in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            if isinstance(cell[0].value, float):
                cell[0].number_format = "0.00"
    ws.freeze_panes = "A2"


def write_xlsx(sheets: Sequence[tuple[str, Table, Sequence[int]]]) -> bytes:
    """An XLSX workbook with one sheet per (title, table, column widths)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, table, widths in sheets:
        _sheet(wb, title, table, widths)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def results_csv(session: Session, round_: Round, actor: User | None) -> bytes:
    """The round's results (`results_table`) as CSV bytes (UTF-8 with BOM); logged
    'export.results'."""
    data = write_csv(results_table(session, round_))
    log_event(session, actor, "export.results", round_, new={"format": "csv"})
    return data


def results_xlsx(session: Session, round_: Round, actor: User | None) -> bytes:
    """The round's results as XLSX bytes: sheets 评审结果 (`results_table`), 评委评分
    (`juror_scores_table`: per-juror scores and comments, aliases only) and 说明
    (`notes_table`); logged 'export.results'."""
    data = write_xlsx([
        ("评审结果", results_table(session, round_), (6, 10, 14, 24, 22, 14, 12, 10, 8)),
        ("评委评分", juror_scores_table(session, round_), (10, 14, 24, 8)),
        ("说明", notes_table(session, round_), (16, 80)),
    ])
    log_event(session, actor, "export.results", round_, new={"format": "xlsx"})
    return data


EXPORT_FORMATS = {".csv": ("text/csv; charset=utf-8", results_csv),
                  ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            results_xlsx)}


def export_filename(round_: Round, suffix: str) -> str:
    """Download name from the track and round ('职业教育活动周_终评_评审结果.xlsx'); never
    from user uploads."""
    return f"{round_.track.name}_{round_.name}_评审结果{suffix}".replace("/", "_")


def export_results(session: Session, round_: Round, path: Path, actor: User | None) -> int:
    """Write the round's results to `path`, CSV or XLSX by its extension; returns the bytes
    written. Raises ValueError for another extension."""
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(path.suffix)
    data = fmt[1](session, round_, actor)
    path.write_bytes(data)
    return len(data)
