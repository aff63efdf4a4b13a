"""Editors' 操作日志: every logged change with who, when, old → new and the reason; filters by
action and round; pagination; role walls."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from contest.assignment import record_conflict
from contest.judging import save_scores, submit_sheet, unlock_sheet
from contest.models import Assignment, AuditEvent, Role, TrackKind, log_event
from contest.rounds import create_round, open_round, update_round
from tests import factories as f
from tests.conftest import login_client


def text_of(html: str) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    body = html.split("<main", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def rows_of(html: str) -> list[str]:
    """The audit table's body rows as text."""
    tbody = html.split('<table class="data audit">', 1)[1].split("</tbody>", 1)[0]
    rows = [text_of("<main>" + r) for r in tbody.split("<tr>")[2:]]
    return [] if rows and "没有符合条件的记录" in rows[0] else rows


@pytest.fixture
def two_rounds(session, contest, editor):
    """Two open rounds: one per track, each with its own two jurors and two entries."""
    out = []
    for n, kind in enumerate((TrackKind.vet_week, TrackKind.lifelong_week)):
        unit = f.make_unit(session)
        for _ in range(2):
            f.make_entry(session, unit, track=kind)
        jurors = [f.make_user(session, Role.juror, login=f"t{n}j{i}", display_name=f"评委{n}{i}")
                  for i in range(2)]
        round_ = create_round(session, contest.track(kind), kind="preliminary",
                              name=f"初评{n}", jurors=jurors, jurors_per_entry=2, seed=n,
                              actor=editor)
        open_round(session, round_, actor=editor)
        out.append(round_)
    session.commit()
    return out


def _score(session, round_, juror, points):
    a = session.scalars(select(Assignment).where(Assignment.round_id == round_.id,
                                                 Assignment.juror_id == juror.id)
                        .order_by(Assignment.entry_id)).first()
    return save_scores(session, juror, round_, a.entry,
                       {c.id: p for c, p in zip(round_.criteria, points, strict=True)})


def test_score_change_shows_who_when_old_and_new(editor_client, session, two_rounds):
    round_ = two_rounds[0]
    juror = round_.jurors[0].juror
    _score(session, round_, juror, (20, 20, 20, 10))
    _score(session, round_, juror, (25, 20, 20, 10))
    session.commit()
    html = editor_client.get("/admin/rounds/audit?action=score.update").get_data(True)
    rows = rows_of(html)
    assert len(rows) == 2
    newest = rows[0]
    assert "评委00 t0j0 · 评委" in newest and "评分修改" in newest
    assert "思想性与主题： 20 → 25" in newest
    assert "创意" not in newest  # unchanged criteria are not repeated
    first = rows[1]
    assert "思想性与主题： 20" in first and "技术规范： 10" in first
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", newest)  # China time


def test_unlock_conflict_and_round_change_with_reasons(editor_client, session, two_rounds,
                                                       editor):
    round_ = two_rounds[0]
    juror = round_.jurors[0].juror
    for a in session.scalars(select(Assignment).where(Assignment.round_id == round_.id,
                                                      Assignment.juror_id == juror.id)):
        save_scores(session, juror, round_, a.entry, {c.id: 10 for c in round_.criteria})
    rj = submit_sheet(session, juror, round_)
    unlock_sheet(session, rj, editor, "评委要求修改第2件")
    other = two_rounds[1].round_entries[0].entry
    record_conflict(session, round_.jurors[1].juror, unit=other.unit, reason="曾任该校顾问",
                    actor=editor)
    update_round(session, round_, editor, name="初评（延长）")
    session.commit()
    rows = rows_of(editor_client.get("/admin/rounds/audit").get_data(True))
    unlock = next(r for r in rows if "解锁评分表" in r)
    assert "编辑一" in unlock and "评委要求修改第2件" in unlock
    assert "评分表 评委00 · 初评（延长）" in unlock  # the sheet under its round's name now
    assert re.search(r"提交时间： \d{4}年.* → —", unlock)
    conflict = next(r for r in rows if "编辑记录回避" in r)
    assert "曾任该校顾问" in conflict and f"单位： {other.unit.name}" in conflict
    assert "评委： 评委01（t0j1）" in conflict  # ids shown as names
    change = next(r for r in rows if "修改轮次设置" in r)
    assert "名称： 初评0 → 初评（延长）" in change


def test_filter_by_action_and_by_round(editor_client, session, two_rounds, editor):
    a, b = two_rounds
    _score(session, a, a.jurors[0].juror, (1, 1, 1, 1))
    _score(session, b, b.jurors[0].juror, (2, 2, 2, 2))
    session.commit()
    html = editor_client.get(f"/admin/rounds/audit?round={a.id}").get_data(True)
    rows = rows_of(html)
    assert rows and all("初评1" not in r for r in rows)
    for label in ("创建评审轮次", "开启轮次", "分配作品", "评分修改"):
        assert any(label in r for r in rows), label
    assert not any("t1j0" in r for r in rows)
    html = editor_client.get(f"/admin/rounds/audit?round={b.id}&action=score.update"
                             ).get_data(True)
    rows = rows_of(html)
    assert len(rows) == 1 and "t1j0" in rows[0] and "思想性与主题： 2" in rows[0]
    assert "共 1 条" in html
    assert re.search(rf'<option[^>]*selected[^>]*value="{b.id}"', html)  # filter kept


def test_redaction_events_belong_to_the_rounds_of_their_entry(editor_client, session,
                                                             two_rounds, editor):
    entry = two_rounds[0].round_entries[0].entry
    log_event(session, editor, "redaction.add", object_type="redactions", object_id=99,
              new={"entry_id": entry.id, "x": 0.1, "y": 0.2, "w": 0.3, "h": 0.05})
    session.commit()
    rows = rows_of(editor_client.get(f"/admin/rounds/audit?round={two_rounds[0].id}"
                                     "&action=redaction.add").get_data(True))
    assert len(rows) == 1 and f"遮挡 · {entry.code}" in rows[0] and "左： 0.1" in rows[0]
    rows = rows_of(editor_client.get(f"/admin/rounds/audit?round={two_rounds[1].id}"
                                     "&action=redaction.add").get_data(True))
    assert rows == []


def test_pagination_50_a_page_newest_first(editor_client, session, two_rounds, editor):
    round_ = two_rounds[0]
    before = len(session.scalars(select(AuditEvent.id)).all())
    for i in range(120):
        log_event(session, editor, "round.update", round_, old={"name": f"旧{i}"},
                  new={"name": f"新{i}"})
    session.commit()
    total = before + 120
    pages = -(-total // 50)
    html = editor_client.get("/admin/rounds/audit").get_data(True)
    assert f"共 {total} 条，第 1 / {pages} 页" in html
    rows = rows_of(html)
    assert len(rows) == 50 and "新119" in rows[0]
    html = editor_client.get(f"/admin/rounds/audit?page={pages}").get_data(True)
    assert len(rows_of(html)) == total - 50 * (pages - 1)
    assert "上一页" in html and "下一页" not in html
    # filters survive paging; out-of-range pages show the last one
    html = editor_client.get("/admin/rounds/audit?action=round.update&page=99").get_data(True)
    assert "共 120 条，第 3 / 3 页" in html and len(rows_of(html)) == 20
    assert "action=round.update" in html.split('class="pager"', 1)[1]


def test_bad_filter_values_show_everything(editor_client, session, two_rounds):
    for query in ("round=abc", "round=999", "action=nope", "page=-3", "page=x"):
        r = editor_client.get(f"/admin/rounds/audit?{query}")
        assert r.status_code == 200, query
        assert len(rows_of(r.get_data(True))) > 0, query


@pytest.mark.parametrize("role", [Role.juror, Role.entrant])
def test_only_editors_read_the_audit_log(app, session, contest, role):
    user = f.make_user(session, role)
    session.commit()
    assert login_client(app, user).get("/admin/rounds/audit").status_code == 403


def test_admin_reads_the_audit_log(app, session, admin, two_rounds):
    r = login_client(app, admin).get("/admin/rounds/audit")
    assert r.status_code == 200 and "创建评审轮次" in r.get_data(True)
