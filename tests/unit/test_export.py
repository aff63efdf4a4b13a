"""Results exports: CSV bytes (BOM, columns), XLSX sheets, and the export-results command."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from contest import awards, export
from contest.models import AuditEvent, Role, TrackKind
from tests import factories

RUBRIC = [("思想性与主题", "", 50), ("艺术表现", "", 50)]


@pytest.fixture
def scored(session, contest):
    jurors = [factories.make_user(session, Role.juror, display_name=f"真名评委{i}")
              for i in range(3)]
    unit = factories.make_unit(session, "大同市职业技术学院")
    e1 = factories.make_entry(session, unit, title="技能成就梦想", authors="张三",
                              adviser="王老师")
    e2 = factories.make_entry(session, unit, title="=HYPERLINK(\"http://x\")", authors="李四")
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors, criteria=RUBRIC,
                                          kind="final", name="终评")
    for entry, base in ((e1, 40), (e2, 30)):
        for i, juror in enumerate(jurors):
            factories.make_review(session, round_, entry, juror, [base + i, base - i],
                                  comment=f"评语{i}：色彩协调")
    session.commit()
    return round_, (e1, e2), jurors


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_a_bom_chinese_headers_and_juror_aliases(session, scored, editor):
    round_, (e1, e2), jurors = scored
    data = export.results_csv(session, round_, editor)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert rows[0][:8] == ["排名", "评审编号", "作品编号", "作品名称", "参赛单位", "作者",
                           "指导教师", "作品状态"]
    assert rows[0][-3:] == ["评委A", "评委B", "评委C"]
    assert "首项得分（思想性与主题）" in rows[0]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["排名"] == "1" and first["作品编号"] == e1.code
    assert first["平均分"] == "80.0" and first["评委A"] == "80.0"
    assert first["排名依据"] == "平均分"
    assert first["参赛单位"] == "" and first["作者"] == ""  # not final: names withheld
    text = data.decode("utf-8-sig")
    assert "真名评委" not in text and jurors[0].login not in text
    assert b"\r\n" in data


def test_csv_neutralises_formulas_and_shows_names_once_final(session, scored, editor):
    round_, (e1, e2), _ = scored
    track = round_.track
    awards.apply_placement(session, track, editor)
    awards.finalise(session, track, editor)
    rows = read_csv(export.results_csv(session, round_, editor))
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["作品名称"] == "'=HYPERLINK(\"http://x\")"
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["参赛单位"], first["作者"], first["指导教师"]) == ("大同市职业技术学院", "张三",
                                                                "王老师")
    assert first["获奖等次"] == "一等奖"


def test_xlsx_opens_with_results_per_juror_scores_and_notes(session, scored, editor):
    round_, (e1, e2), _ = scored
    data = export.results_xlsx(session, round_, editor)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["评审结果", "评委评分", "说明"]
    results = list(wb["评审结果"].values)
    assert results[0][1] == "评审编号" and results[1][2] == e1.code
    assert results[1][9] == pytest.approx(80.0)
    scores = list(wb["评委评分"].values)
    assert list(scores[0]) == ["评审编号", "作品编号", "作品名称", "评委",
                               "思想性与主题（满分50）", "艺术表现（满分50）", "总分", "评语"]
    assert len(scores) == 1 + 6
    e1_rows = [r for r in scores[1:] if r[1] == e1.code]
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in e1_rows] == [
        ("评委A", 40, 40, 80, "评语0：色彩协调"), ("评委B", 41, 39, 80, "评语1：色彩协调"),
        ("评委C", 42, 38, 80, "评语2：色彩协调")]
    notes = dict(list(wb["说明"].values)[1:])
    assert notes["排名依据"] == "平均分" and notes["轮次"] == "终评（终评）"
    assert "真名评委" not in str(results) + str(scores)


def test_exports_are_logged(session, scored, editor):
    round_, _, _ = scored
    export.results_csv(session, round_, editor)
    export.results_xlsx(session, round_, editor)
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.results")
                             ).all()
    assert [(e.new["format"], e.actor_id, e.object_id) for e in events] == [
        ("csv", editor.id, round_.id), ("xlsx", editor.id, round_.id)]


def test_export_results_command_writes_csv_and_xlsx(runner, session, scored, tmp_path):
    round_, (e1, _), _ = scored
    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    result = runner.invoke(args=["export-results", "--round", str(round_.id), "--out",
                                 str(out_csv)])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_csv(out_csv.read_bytes())[1][2] == e1.code
    result = runner.invoke(args=["export-results", "--round", str(round_.id), "--out",
                                 str(out_xlsx)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out_xlsx).sheetnames == ["评审结果", "评委评分", "说明"]
    session.expire_all()
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "export.results")
                           ).all()[0].actor_id is None


@pytest.mark.parametrize(("args", "message"), [
    (["--round", "999", "--out", "{tmp}/x.csv"], "评审轮次不存在：999"),
    (["--round", "1", "--out", "{tmp}/x.pdf"], "须以 .csv 或 .xlsx 结尾"),
    (["--round", "1", "--out", "{tmp}/missing/x.csv"], "输出目录不存在"),
])
def test_export_results_command_errors_in_chinese(runner, scored, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(args=["export-results", *args])
    assert result.exit_code != 0
    assert message in result.output
