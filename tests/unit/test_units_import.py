"""import-units: CSV and XLSX unit lists → units and entrant accounts (contest/units.py and
the `import-units` command)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from contest.messages import message_for
from contest.models import Role, Unit, UnitType, User
from contest.units import UnitImportFailed, import_units, read_unit_file
from tests import factories

HEADER = ["name", "city", "unit_type", "login"]
ROWS = [
    ["山西工程科技职业大学", "晋中", "高职院校", "sxgkd"],
    ["太原城市职业技术学院", "140100", "higher_vocational", "tycszy"],
    ["大同市第一职业中学", "大同市", "中职学校", "dtyz1"],
]


def _csv(path: Path, rows, header=HEADER, encoding="utf-8-sig") -> Path:  # noqa: ANN001
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _xlsx(path: Path, rows, header=HEADER) -> Path:  # noqa: ANN001
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _fixed_passwords():  # noqa: ANN202
    n = iter(range(1, 1000))
    return lambda: f"Initial-pw-{next(n)}"


def _units(session):  # noqa: ANN001, ANN202
    return {u.name: u for u in session.scalars(select(Unit))}


def test_csv_creates_units_and_entrant_accounts(session, tmp_path):
    rows = read_unit_file(_csv(tmp_path / "units.csv", ROWS))
    report = import_units(session, rows, password_factory=_fixed_passwords())
    session.commit()
    units = _units(session)
    assert units["山西工程科技职业大学"].city.name == "晋中市"
    assert units["太原城市职业技术学院"].city.code == "140100"
    assert units["大同市第一职业中学"].unit_type == UnitType.secondary_vocational
    user = session.scalar(select(User).where(User.login == "sxgkd"))
    assert user.role == Role.entrant and user.unit.name == "山西工程科技职业大学"
    assert user.must_change_password is True
    assert user.check_password("Initial-pw-1")
    assert [c.action for c in report.changes] == ["created"] * 3
    assert [c.password for c in report.passwords] == ["Initial-pw-1", "Initial-pw-2",
                                                       "Initial-pw-3"]


def test_xlsx_with_chinese_headers_and_numeric_city_code(session, tmp_path):
    rows = [["山西开放大学", 140100, "开放大学", "sxkd"],
            ["晋中市社区学习中心", "晋中市", "community_learning_centre", "jzsq"]]
    path = _xlsx(tmp_path / "units.xlsx", rows, header=["单位名称", "市", "单位类型", "登录名"])
    import_units(session, read_unit_file(path))
    session.commit()
    units = _units(session)
    assert units["山西开放大学"].city.name == "太原市"
    assert units["山西开放大学"].unit_type == UnitType.open_university
    assert units["晋中市社区学习中心"].unit_type == UnitType.community_learning_centre


def test_gbk_csv_from_excel_is_read(session, tmp_path):
    path = _csv(tmp_path / "units.csv", ROWS[:1], encoding="gb18030")
    import_units(session, read_unit_file(path))
    assert "山西工程科技职业大学" in _units(session)


def test_rerun_updates_and_never_duplicates_or_resets_passwords(session, tmp_path):
    import_units(session, read_unit_file(_csv(tmp_path / "a.csv", ROWS)),
                 password_factory=_fixed_passwords())
    session.commit()
    user = session.scalar(select(User).where(User.login == "tycszy"))
    old_hash = user.password_hash
    changed = [list(r) for r in ROWS]
    changed[1] = ["太原城市职业技术学院（新校区）", "太原", "中职学校", "tycszy"]
    report = import_units(session, read_unit_file(_csv(tmp_path / "b.csv", changed)))
    session.commit()
    assert session.scalar(select(func.count(Unit.id))) == 3
    assert session.scalar(select(func.count(User.id))) == 3
    assert [c.action for c in report.changes] == ["unchanged", "updated", "unchanged"]
    assert report.changes[1].changed == ["name", "unit_type"]
    assert report.passwords == []
    session.refresh(user)
    assert user.unit.name == "太原城市职业技术学院（新校区）"
    assert user.unit.unit_type == UnitType.secondary_vocational
    assert user.password_hash == old_hash


def test_reset_passwords_gives_existing_accounts_new_ones(session, tmp_path):
    path = _csv(tmp_path / "a.csv", ROWS[:1])
    import_units(session, read_unit_file(path), password_factory=_fixed_passwords())
    session.commit()
    user = session.scalar(select(User).where(User.login == "sxgkd"))
    user.must_change_password = False
    session.commit()
    report = import_units(session, read_unit_file(path), reset_passwords=True,
                          password_factory=lambda: "Reset-pw-123")
    session.commit()
    assert [(c.login, c.password, c.account_created) for c in report.passwords] == [
        ("sxgkd", "Reset-pw-123", False)]
    session.refresh(user)
    assert user.check_password("Reset-pw-123") and user.must_change_password


def test_existing_unit_without_account_is_adopted(session, tmp_path):
    factories.make_unit(session, "山西开放大学", city="太原市", unit_type=UnitType.other)
    session.commit()
    import_units(session, read_unit_file(
        _csv(tmp_path / "a.csv", [["山西开放大学", "太原", "开放大学", "sxkd"]])))
    session.commit()
    assert session.scalar(select(func.count(Unit.id))) == 1
    assert _units(session)["山西开放大学"].unit_type == UnitType.open_university


def _errors(session, path):  # noqa: ANN001, ANN202
    with pytest.raises(UnitImportFailed) as info:
        import_units(session, read_unit_file(path))
    session.rollback()
    return info.value


def test_bad_rows_are_reported_per_row_and_nothing_is_imported(session, tmp_path):
    rows = [ROWS[0],
            ["", "杭州", "高校", "ab"],
            ["大同市第一职业中学", "大同", "中职学校", "sxgkd"]]
    err = _errors(session, _csv(tmp_path / "bad.csv", rows))
    assert [(e.row, e.reason) for e in err.params["errors"]] == [
        (3, "missing"), (3, "city"), (3, "unit_type"), (3, "login_format"),
        (4, "duplicate_login")]
    text = message_for(err)
    assert "第3行：缺少单位名称(name)" in text
    assert "第3行：市“杭州”不是山西省的11个市之一" in text
    assert "第3行：单位类型“高校”无法识别" in text
    assert "第4行：登录名“sxgkd”与第2行重复" in text
    assert session.scalar(select(func.count(Unit.id))) == 0  # the good first row neither
    assert session.scalar(select(func.count(User.id))) == 0


def test_login_of_a_juror_or_another_units_name_is_refused(session, tmp_path):
    factories.make_user(session, Role.juror, login="judge01")
    other = factories.make_user(session, Role.entrant, login="other1",
                                unit=factories.make_unit(session, "晋城职业技术学院"))
    session.commit()
    rows = [["山西工程科技职业大学", "晋中", "高职院校", "judge01"],
            ["晋城职业技术学院", "晋城", "高职院校", "jczy"]]
    err = _errors(session, _csv(tmp_path / "bad.csv", rows))
    assert [(e.row, e.reason) for e in err.params["errors"]] == [
        (2, "login_taken"), (3, "unit_has_other_login")]
    text = message_for(err)
    assert "登录名“judge01”已是评委账号" in text
    assert "该单位已有账号 other1" in text
    assert other.unit.name == "晋城职业技术学院"


def test_missing_column_names_the_column(session, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("name,city,login\n甲学校,太原,jia1\n", encoding="utf-8")
    err = _errors(session, path)
    assert err.params["reason"] == "columns"
    assert "单位类型(unit_type)" in message_for(err)


def test_cli_writes_password_file_with_bom_and_rerun_writes_none(app, runner, session,
                                                                  tmp_path):
    src = _csv(tmp_path / "units.csv", ROWS)
    out = tmp_path / "pw.csv"
    result = runner.invoke(args=["import-units", str(src), "--passwords-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "新建3个" in result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0][:5] == ["单位名称", "市", "单位类型", "登录名", "初始密码"]
    by_login = {r[3]: r for r in lines[1:]}
    assert set(by_login) == {"sxgkd", "tycszy", "dtyz1"}
    user = session.scalar(select(User).where(User.login == "dtyz1"))
    assert user.check_password(by_login["dtyz1"][4])

    out.unlink()
    again = runner.invoke(args=["import-units", str(src), "--passwords-out", str(out)])
    assert again.exit_code == 0, again.output
    assert "无变化3个" in again.output and not out.exists()


def test_cli_bad_file_exits_nonzero_with_chinese_errors(app, runner, session, tmp_path):
    src = _csv(tmp_path / "units.csv", [ROWS[0], ["乙学校", "太原", "大学", "yi01"]])
    result = runner.invoke(args=["import-units", str(src)])
    assert result.exit_code == 1
    assert "第3行：单位类型“大学”无法识别" in result.output
    assert "未做任何修改" in result.output
    assert session.scalar(select(func.count(Unit.id))) == 0
    assert not list(tmp_path.glob("*初始密码*"))
