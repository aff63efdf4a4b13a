"""`flask --app contest import-entries FILE.csv`: e-mailed entries through the same rules as
the web form; per-row transactions, nothing half-imported, re-runs skip imported rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from contest import db
from contest.entry_import import COLUMNS
from contest.models import AIUse, AuditEvent, Entry, EntryStatus, Role
from tests import factories
from tests.entry_helpers import MIB, stored_files, write_poster

ROW = {"track": "vet_week", "title": "匠心筑梦", "authors": "张三、李四", "adviser": "王老师",
       "statement": "以实训场景表现职业教育的活力。", "caption_time": "2024年5月8日",
       "caption_place": "学校实训楼", "caption_people": "机电专业师生",
       "caption_event": "职业教育活动周开放日"}


@pytest.fixture
def units(session, contest, editor):  # noqa: ANN001, ANN201
    """Two units with entrant accounts: ('太原市第一职业中学', login 'ty1'), ('大同开放大学', 'dt1')."""
    a = factories.make_unit(session, "太原市第一职业中学")
    b = factories.make_unit(session, "大同开放大学", city="大同市")
    factories.make_user(session, Role.entrant, login="ty1", unit=a)
    factories.make_user(session, Role.entrant, login="dt1", unit=b)
    session.commit()
    return a, b


def write_csv(folder: Path, rows: list[dict], *, encoding: str = "utf-8-sig",
              columns: tuple[str, ...] = COLUMNS, name: str = "entries.csv") -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore",
                            lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in columns})
    path = folder / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run_import(runner, path: Path, *extra: str):  # noqa: ANN001, ANN201
    return runner.invoke(args=["import-entries", str(path), "--editor", "editor1", *extra])


def all_entries(app) -> list[Entry]:  # noqa: ANN001
    with app.app_context():
        s = db.new_session(app)
        try:
            rows = list(s.scalars(select(Entry).order_by(Entry.id)))
            for e in rows:
                _ = e.files, e.unit.name
            return rows
        finally:
            s.close()


def test_valid_rows_become_submitted_entries_confirmed_by_the_editor(app, runner, units,
                                                                     tmp_path):
    write_poster(tmp_path / "图片", "海报一.jpg", seed=31)
    write_poster(tmp_path / "图片", "海报二.png", seed=32, fmt="PNG",
                 size=(2000, 2400))
    path = write_csv(tmp_path, [
        {**ROW, "unit": "太原市第一职业中学", "image": "图片/海报一.jpg"},
        {**ROW, "unit": "dt1", "track": "全民终身学习活动周", "title": "终身学习",
         "image": "图片/海报二.png"},
    ])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "第2行\t已导入\tZJ2024-0001\t太原市第一职业中学\t匠心筑梦" in result.output
    assert "第3行\t已导入\tZS2024-0001\t大同开放大学\t终身学习" in result.output
    assert "共2行：导入2件，跳过0件（此前已导入），未导入0件。" in result.output
    first, second = all_entries(app)
    for entry in (first, second):
        assert entry.status == EntryStatus.submitted and entry.source == "import"
        assert entry.content_review_confirmed and entry.originality_confirmed
        assert entry.content_reviewer == "编辑一（编辑导入确认）"
        assert entry.ai_use == AIUse.none
        assert entry.current_file("original") is not None
        assert entry.current_file("thumb") is not None
    assert first.current_file("original").original_filename == "海报一.jpg"
    with app.app_context():
        s = db.new_session(app)
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "entry.import")))
        assert len(events) == 2
        assert events[0].new["file"] == "entries.csv" and events[0].new["row"] == 2
        assert events[0].actor.login == "editor1"
        s.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_with_or_without_bom_and_gbk_from_excel(app, runner, units, tmp_path, encoding):
    write_poster(tmp_path, "a.jpg", seed=33)
    path = write_csv(tmp_path, [{**ROW, "unit": "太原市第一职业中学", "image": "a.jpg",
                                 "statement": "说明：含中文标点，“引号”、顿号。"}],
                     encoding=encoding)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    (entry,) = all_entries(app)
    assert entry.statement == "说明：含中文标点，“引号”、顿号。"
    assert entry.unit.name == "太原市第一职业中学"


def test_refused_rows_are_reported_with_every_reason_and_leave_nothing(app, runner, units,
                                                                      tmp_path):
    write_poster(tmp_path, "ok.jpg", seed=34)
    write_poster(tmp_path, "narrow.jpg", seed=35, size=(1500, 2000), nbytes=MIB)
    path = write_csv(tmp_path, [
        {**ROW, "unit": "不存在的学校", "image": "ok.jpg"},
        {**ROW, "unit": "ty1", "track": "poster_week", "image": "ok.jpg"},
        {**ROW, "unit": "ty1", "image": "缺失的文件.jpg"},
        {**ROW, "unit": "ty1", "image": "narrow.jpg", "caption_place": "",
         "statement": "字" * 301},
        {**ROW, "unit": "ty1", "image": "ok.jpg", "title": "唯一合格"},
    ])
    result = run_import(runner, path)
    assert result.exit_code == 1
    out = result.output
    assert "第2行\t未导入\t不存在的学校\t匠心筑梦\t参赛单位不存在：“不存在的学校”（请填写单位名称或登录名）" in out
    assert "赛道应为 vet_week（职业教育活动周）或 lifelong_week（全民终身学习活动周）（当前：“poster_week”）" in out
    assert "图片文件不存在：缺失的文件.jpg" in out
    row5 = next(line for line in out.splitlines() if line.startswith("第5行"))
    for reason in ("单张图片不低于2MB、不高于10MB（当前：1MB）",
                   "图片宽度不低于2000像素（当前：1500像素）",
                   "设计说明不超过300字（当前：301字）",
                   "图片说明需写明时间、地点、人物、事件（当前未填写：地点）"):
        assert reason in row5
    assert "第6行\t已导入\tZJ2024-0001" in out
    assert "共5行：导入1件，跳过0件（此前已导入），未导入4件。" in out
    (entry,) = all_entries(app)
    assert entry.title == "唯一合格"
    keys = {f.storage_key for f in entry.files}
    assert set(stored_files(app.config["UPLOAD_DIR"])) == keys


def test_rerun_skips_imported_rows_and_imports_the_fixed_ones(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=36)
    write_poster(tmp_path, "b.jpg", seed=37)
    rows = [{**ROW, "unit": "ty1", "image": "a.jpg"},
            {**ROW, "unit": "dt1", "title": "第二件", "image": "b.jpg", "caption_event": ""}]
    path = write_csv(tmp_path, rows)
    assert run_import(runner, path).exit_code == 1
    rows[1]["caption_event"] = "开放日"
    path = write_csv(tmp_path, rows)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "第2行\t已导入过，跳过\tZJ2024-0001" in result.output
    assert "第3行\t已导入\tZJ2024-0002" in result.output
    assert [e.code for e in all_entries(app)] == ["ZJ2024-0001", "ZJ2024-0002"]
    again = run_import(runner, path)
    assert again.exit_code == 0 and "导入0件，跳过2件" in again.output
    assert len(all_entries(app)) == 2


def test_same_image_twice_for_one_unit_is_refused_as_a_duplicate(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=38)
    path = write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg"},
                                {**ROW, "unit": "ty1", "title": "换了个名字", "image": "a.jpg"}])
    result = run_import(runner, path)
    assert result.exit_code == 1
    row3 = next(line for line in result.output.splitlines() if line.startswith("第3行"))
    assert "未导入" in row3 and "ZJ2024-0001" in row3 and "重复" in row3
    (entry,) = all_entries(app)
    assert set(stored_files(app.config["UPLOAD_DIR"])) == {f.storage_key for f in entry.files}


def test_quota_applies_to_imports(app, runner, session, units, tmp_path):
    for i in range(3):
        factories.make_entry(session, units[0], title=f"网上提交{i}")
    session.commit()
    write_poster(tmp_path, "a.jpg", seed=39)
    result = run_import(runner, write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg"}]))
    assert result.exit_code == 1
    assert "每个单位在“职业教育活动周”赛道最多提交3件作品（当前已提交：3件）" in result.output
    assert len(all_entries(app)) == 3


def test_deadline_applies_unless_allow_late(app, runner, session, units, tmp_path):
    contest = factories.get_contest(session)
    contest.submissions_close_at = datetime(2024, 5, 12, 15, 59, tzinfo=timezone.utc)
    session.commit()
    write_poster(tmp_path, "a.jpg", seed=40)
    path = write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg"}])
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "已超过截止时间（2024年5月12日 23:59），无法提交" in result.output
    assert all_entries(app) == []
    assert stored_files(app.config["UPLOAD_DIR"]) == []
    result = run_import(runner, path, "--allow-late")
    assert result.exit_code == 0, result.output
    (entry,) = all_entries(app)
    assert entry.status == EntryStatus.submitted
    with app.app_context():
        s = db.new_session(app)
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "entry.import"))
        assert event.new["late"] is True
        s.close()


def test_optional_ai_use_column(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=41)
    write_poster(tmp_path, "b.jpg", seed=42)
    path = write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg", "ai_use": "辅助"},
                                {**ROW, "unit": "dt1", "image": "b.jpg", "ai_use": ""}],
                     columns=(*COLUMNS, "ai_use"))
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "请选择是否使用AI生成/辅助" in result.output
    (entry,) = all_entries(app)
    assert entry.ai_use == AIUse.assisted


def test_chinese_headers_are_accepted(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=43)
    headers = ("参赛单位", "赛道", "作品名称", "作者", "指导教师", "设计说明", "时间", "地点",
               "人物", "事件", "图片")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    w.writerow(["ty1", "职业教育活动周", *[ROW[k] for k in COLUMNS[2:10]], "a.jpg"])
    path = tmp_path / "中文表头.csv"
    path.write_bytes(buf.getvalue().encode("gbk"))
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert all_entries(app)[0].code == "ZJ2024-0001"


def test_unreadable_file_imports_nothing(app, runner, units, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("unit,title\nty1,只有两列\n", encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code != 0
    assert "缺少列：track、authors、adviser、statement" in result.output
    assert all_entries(app) == []


def test_only_editors_may_import(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=44)
    path = write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg"}])
    result = runner.invoke(args=["import-entries", str(path), "--editor", "ty1"])
    assert result.exit_code != 0 and "编辑账号不存在：ty1" in result.output
    assert all_entries(app) == []


def test_report_csv_for_excel(app, runner, units, tmp_path):
    write_poster(tmp_path, "a.jpg", seed=45)
    path = write_csv(tmp_path, [{**ROW, "unit": "ty1", "image": "a.jpg"},
                                {**ROW, "unit": "nobody", "image": "a.jpg"}])
    report = tmp_path / "报告.csv"
    run_import(runner, path, "--report", str(report))
    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "结果", "作品编号", "参赛单位", "作品名称", "原因"]
    assert lines[1][:3] == ["2", "已导入", "ZJ2024-0001"]
    assert lines[2][1] == "未导入" and "参赛单位不存在" in lines[2][5]
