"""Editors' 评审轮次 pages: create a round (rubric, jurors, times, juror accounts), open /
close / re-run assignment, progress and reminders, unlock a sheet, later rounds from a
previewed shortlist, conflicts, and the role walls."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from contest.judging import save_scores, submit_sheet
from contest.models import (Assignment, AuditEvent, ConflictOfInterest, Entry, EntryStatus,
                            Review, Role, Round, RoundStatus, TrackKind, User)
from contest.rounds import close_round, create_round, open_round
from tests import factories as f
from tests.conftest import login_client

DEFAULT_ROWS = [("思想性与主题", 30), ("创意", 25), ("艺术表现", 30), ("技术规范", 15)]
PAGES = ["/admin/rounds/", "/admin/rounds/new", "/admin/rounds/audit", "/admin/rounds/conflicts"]


@pytest.fixture
def jurors(session, contest):
    """Four juror accounts; the first belongs to a school."""
    school = f.make_unit(session, name="太原评委学校")
    out = [f.make_user(session, Role.juror, login=f"jr{i}", display_name=f"评委{i}",
                       unit=school if i == 0 else None) for i in range(4)]
    session.commit()
    return out


@pytest.fixture
def entries(session, contest):
    """Six eligible VET-week entries of three units, plus a withdrawn one, a draft and one
    in the other track (none of these three may enter a first round)."""
    units = [f.make_unit(session) for _ in range(3)]
    out = [f.make_entry(session, units[i % 3], title=f"作品{i}") for i in range(6)]
    f.make_entry(session, units[0], status=EntryStatus.withdrawn)
    f.make_entry(session, units[0], status=EntryStatus.draft)
    f.make_entry(session, units[0], track=TrackKind.lifelong_week)
    session.commit()
    return out


def vet(contest):
    return contest.track(TrackKind.vet_week)


def form_data(track_id: int, juror_ids: list[int], rows=DEFAULT_ROWS, **over) -> dict:
    """A filled-in create-round form as the browser posts it (no JS: blank rows too)."""
    data = {"track": str(track_id), "kind": "preliminary", "name": "初评", "opens_at": "",
            "closes_at": "", "jurors": [str(i) for i in juror_ids], "jurors_per_entry": "3",
            "show_title": "y", "show_statement": "y", "previous_round": "0",
            "shortlist_rule": "top_n", "top_n": "", "threshold": "", "previewed_ids": "",
            "new_juror_unit": "0", "create": "创建评审轮次"}
    for i, (name, points) in enumerate(list(rows) + [("", "")] * 2):
        data[f"criteria-{i}-name"] = name
        data[f"criteria-{i}-description"] = ""
        data[f"criteria-{i}-max_points"] = str(points)
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def checked_jurors(html: str) -> set[int]:
    """Ids of the ticked juror checkboxes in a rendered form."""
    tags = re.findall(r"<input [^>]*>", html)
    return {int(re.search(r'value="(\d+)"', t).group(1)) for t in tags
            if 'name="jurors"' in t and re.search(r"\bchecked\b", t)}


def rounds(session) -> list[Round]:
    session.expire_all()
    return list(session.scalars(select(Round).order_by(Round.id)))


def events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


# ----------------------------------------------------------------------- creating a round

def test_new_round_form_offers_the_default_rubric(editor_client, contest, jurors):
    html = editor_client.get(f"/admin/rounds/new?track={vet(contest).id}").get_data(True)
    for name, points in DEFAULT_ROWS:
        assert f'value="{name}"' in html
        assert f'value="{points}"' in html
    assert "评委0（jr0） · 太原评委学校" in html  # jurors listed with their unit


def test_create_round_with_default_rubric_makes_criteria_rows(editor_client, session, contest,
                                                              jurors, entries):
    r = editor_client.post("/admin/rounds/new",
                           data=form_data(vet(contest).id, [j.id for j in jurors[:3]]))
    assert r.status_code == 302
    (round_,) = rounds(session)
    assert r.headers["Location"].endswith(f"/admin/rounds/{round_.id}")
    assert [(c.name, c.max_points) for c in round_.criteria] == DEFAULT_ROWS
    assert [c.position for c in round_.criteria] == [0, 1, 2, 3]
    assert round_.criteria[0].description == ""
    assert round_.status == RoundStatus.draft and round_.kind == "preliminary"
    assert round_.jurors_per_entry == 3 and round_.show_title and round_.show_statement
    assert sorted(rj.juror_id for rj in round_.jurors) == sorted(j.id for j in jurors[:3])
    # eligible entries only: not the withdrawn one, the draft or the other track's entry
    assert sorted(re.entry_id for re in round_.round_entries) == sorted(e.id for e in entries)
    (event,) = events(session, "round.create")
    assert event.actor.login == "editor1" and event.new["entries"] == 6
    page = editor_client.get(f"/admin/rounds/{round_.id}").get_data(True)
    assert "已创建评审轮次“初评”（6件作品，3位评委）" in page


def test_create_round_with_custom_rubric_and_hidden_fields(editor_client, session, contest,
                                                           jurors, entries):
    rows = [("主题表达", 40), ("", ""), ("视觉设计", 59.5)]
    data = form_data(vet(contest).id, [j.id for j in jurors], rows=rows, kind="final",
                     name="终评", jurors_per_entry="", show_statement=None)
    data["criteria-0-description"] = "是否紧扣主题"
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 302, r.get_data(True)
    (round_,) = rounds(session)
    assert [(c.name, c.description, c.max_points) for c in round_.criteria] == [
        ("主题表达", "是否紧扣主题", 40.0), ("视觉设计", "", 59.5)]
    assert round_.max_total == 99.5
    assert round_.kind == "final" and round_.jurors_per_entry == 4  # final: every juror
    assert round_.show_title and not round_.show_statement


def test_times_are_entered_in_china_time_and_stored_in_utc(editor_client, session, contest,
                                                          jurors, entries):
    data = form_data(vet(contest).id, [j.id for j in jurors[:3]],
                     opens_at="2024-06-01T09:00", closes_at="2024-06-10T23:59")
    assert editor_client.post("/admin/rounds/new", data=data).status_code == 302
    (round_,) = rounds(session)
    assert round_.opens_at == datetime(2024, 6, 1, 1, 0, tzinfo=timezone.utc)
    assert round_.closes_at == datetime(2024, 6, 10, 15, 59, tzinfo=timezone.utc)
    page = editor_client.get("/admin/rounds/").get_data(True)
    assert "2024年6月1日 09:00" in page and "2024年6月10日 23:59" in page


@pytest.mark.parametrize(("change", "message"), [
    ({"criteria-1-max_points": "0"}, "第2行：满分须大于0（当前：0分）"),
    ({"criteria-1-max_points": "-5"}, "第2行：满分须大于0（当前：-5分）"),
    ({"criteria-2-max_points": "12.3"}, "第3行：满分须为0.5的整数倍（当前：12.3分）"),
    ({"criteria-3-max_points": ""}, "第4行：请填写满分"),
    ({"criteria-0-max_points": "三十"}, "不是有效的小数"),
    ({"criteria-3-name": "创意"}, "第4行：评分项“创意”重复"),
    ({"criteria-3-max_points": "25"}, "各评分项满分合计不超过100分（当前：110分）"),
    ({"criteria-0-name": "", "criteria-0-max_points": "", "criteria-1-name": "",
      "criteria-1-max_points": "", "criteria-2-name": "", "criteria-2-max_points": "",
      "criteria-3-name": "", "criteria-3-max_points": ""}, "请至少填写一个评分项"),
    ({"jurors": []}, "请至少选择一位评委"),
    ({"jurors_per_entry": "4"}, "每件作品评委人数不能超过所选评委人数（当前：所选评委3人，每件作品4人）"),
    ({"jurors_per_entry": "0"}, "每件作品评委人数至少为1"),
    ({"jurors_per_entry": ""}, "请填写每件作品评委人数（终评可留空，表示全部评委）"),
    ({"name": "  "}, "请填写轮次名称"),
    ({"opens_at": "2024-06-10T09:00", "closes_at": "2024-06-01T09:00"}, "截止时间须晚于开始时间"),
    ({"opens_at": "6月1日"}, "开始时间格式不正确，应为 2024-05-12 09:00"),
    ({"kind": "second"}, "复评须选择上一轮，入围作品从上一轮产生"),
])
def test_invalid_round_form_shows_chinese_errors_and_saves_nothing(
        editor_client, session, contest, jurors, entries, change, message):
    data = form_data(vet(contest).id, [j.id for j in jurors[:3]])
    data.update(change)
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 400
    html = r.get_data(True)
    assert message in html
    assert "表单中有需要修改的地方" in html
    assert 'value="初评"' in html or change.get("name")  # what was typed is kept
    assert rounds(session) == []


def test_a_track_without_eligible_entries_cannot_get_a_round(editor_client, session, contest,
                                                             jurors):
    r = editor_client.post("/admin/rounds/new", data=form_data(vet(contest).id,
                                                                [j.id for j in jurors[:3]]))
    assert r.status_code == 400
    assert "本轮没有可评审的作品" in r.get_data(True)
    assert rounds(session) == []


def test_editor_creates_a_juror_account_without_losing_the_form(editor_client, session,
                                                                contest, jurors, entries):
    school = f.make_unit(session, name="山西机电职业技术学院")
    session.commit()
    data = form_data(vet(contest).id, [jurors[1].id], name="春季初评",
                     new_juror_login="zhang.wei", new_juror_name="张伟",
                     new_juror_unit=str(school.id), add_juror="新建评委账号")
    del data["create"]
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 200
    html = r.get_data(True)
    session.expire_all()
    user = session.scalar(select(User).where(User.login == "zhang.wei"))
    assert user.role == Role.juror and user.unit_id == school.id and user.display_name == "张伟"
    assert user.must_change_password
    assert "已新建评委账号" in html and "账号：zhang.wei" in html and "初始密码：" in html
    password = html.split("初始密码：", 1)[1].split("\n", 1)[0].strip()
    assert user.check_password(password)
    assert checked_jurors(html) == {user.id, jurors[1].id}  # new one ticked, earlier kept
    assert 'value="春季初评"' in html  # the round form kept what was typed
    assert rounds(session) == []
    (event,) = events(session, "user.create")
    assert event.new["login"] == "zhang.wei" and "password" not in str(event.new)


@pytest.mark.parametrize(("login", "name", "message"), [
    ("jr1", "重名", "账号已存在：jr1"),
    ("张伟", "张伟", "账号为3到64位字母、数字、点、下划线或连字符（当前：张伟）"),
    ("", "张伟", "请填写评委账号"),
    ("zhang.wei", "", "请填写评委姓名"),
])
def test_new_juror_account_errors(editor_client, session, contest, jurors, login, name,
                                  message):
    data = form_data(vet(contest).id, [], new_juror_login=login, new_juror_name=name,
                     add_juror="新建评委账号")
    del data["create"]
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 400
    assert message in r.get_data(True)
    assert session.scalar(select(func.count(User.id)).where(User.role == Role.juror)) == 4


# ----------------------------------------------------------------------- running a round

@pytest.fixture
def draft_round(session, contest, jurors, entries):
    round_ = create_round(session, vet(contest), kind="preliminary", name="初评",
                          jurors=jurors[:3], seed=7)
    session.commit()
    return round_


def test_open_then_close_a_round(editor_client, session, draft_round):
    page = editor_client.get(f"/admin/rounds/{draft_round.id}").get_data(True)
    assert "未开始" in page and "开启本轮" in page and "尚未分配作品" in page
    assert "评委人数不足" not in page.split("作品进度", 1)[1]  # nothing assigned yet
    r = editor_client.post(f"/admin/rounds/{draft_round.id}/open")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Round, draft_round.id).status == RoundStatus.open
    active = session.scalars(select(Assignment).where(Assignment.is_active.is_(True))).all()
    assert len(active) == 6 * 3
    page = editor_client.get(f"/admin/rounds/{draft_round.id}").get_data(True)
    assert "已开启“初评”：分配18份评审任务" in page
    assert "结束本轮" in page and "0 / 18" in page
    r = editor_client.post(f"/admin/rounds/{draft_round.id}/close")
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Round, draft_round.id).status == RoundStatus.closed
    assert [e.actor.login for e in events(session, "round.open") + events(session,
                                                                            "round.close")] \
        == ["editor1", "editor1"]
    page = editor_client.get(f"/admin/rounds/{draft_round.id}").get_data(True)
    assert "按本轮结果新建下一轮" in page
    # closing twice is refused with a message, not an error page
    r = editor_client.post(f"/admin/rounds/{draft_round.id}/close", follow_redirects=True)
    assert "评审轮次当前状态为“已结束”，无法执行该操作" in r.get_data(True)


def test_rerun_assignment_keeps_scores(editor_client, session, draft_round):
    open_round(session, draft_round, actor=None)
    session.commit()
    juror = draft_round.jurors[0].juror
    assignment = session.scalars(select(Assignment).where(Assignment.juror_id == juror.id)
                                 .order_by(Assignment.id)).first()
    points = {c.id: p for c, p in zip(draft_round.criteria, (28, 20.5, 27, 14), strict=True)}
    save_scores(session, juror, draft_round, assignment.entry, points, comment="构图好")
    session.commit()
    before = session.scalars(select(Assignment.id).where(Assignment.is_active.is_(True))
                             .order_by(Assignment.id)).all()

    r = editor_client.post(f"/admin/rounds/{draft_round.id}/assign", follow_redirects=True)
    assert "已重新分配：共18份评审任务，已有评分全部保留" in r.get_data(True)
    session.expire_all()
    after = session.scalars(select(Assignment.id).where(Assignment.is_active.is_(True))
                            .order_by(Assignment.id)).all()
    assert after == before
    review = session.scalar(select(Review))
    assert sorted(s.points for s in review.scores) == [14, 20.5, 27, 28]
    assert review.comment == "构图好"
    assert len(events(session, "round.assign")) == 2  # open + rerun, both logged


def _score_all(session, round_, juror, base: float = 20) -> None:
    for a in session.scalars(select(Assignment).where(Assignment.round_id == round_.id,
                                                      Assignment.juror_id == juror.id,
                                                      Assignment.is_active.is_(True))):
        save_scores(session, juror, round_, a.entry,
                    {c.id: min(c.max_points, base) for c in round_.criteria})


def test_progress_and_reminder_list(editor_client, session, draft_round, jurors):
    open_round(session, draft_round, actor=None)
    done, late = jurors[0], jurors[1]
    _score_all(session, draft_round, done)
    submit_sheet(session, done, draft_round)
    a = session.scalars(select(Assignment).where(Assignment.juror_id == late.id)).first()
    save_scores(session, late, draft_round, a.entry,
                {c.id: 10 for c in draft_round.criteria})
    session.commit()
    html = editor_client.get(f"/admin/rounds/{draft_round.id}").get_data(True)
    remind = html.split('id="remind-text"', 1)[1].split("</textarea>", 1)[0]
    assert "评委1（账号 jr1）：已评 1/6 件，还有 5 件未评完，评分表未提交" in remind
    assert "评委2（账号 jr2）：已评 0/6 件，还有 6 件未评完，评分表未提交" in remind
    assert "jr0" not in remind  # submitted: nobody to remind
    assert "已提交" in html and "7 / 18" in html


def test_entries_short_of_k_jurors_are_highlighted(editor_client, session, contest, jurors,
                                                   entries):
    # jr0 belongs to the unit of entries 0 and 3: with 3 jurors and k=3 they get only 2.
    for e in (entries[0], entries[3]):
        e.unit = jurors[0].unit
    session.flush()
    round_ = create_round(session, vet(contest), kind="preliminary", name="初评",
                          jurors=jurors[:3], seed=1)
    open_round(session, round_, actor=None)
    session.commit()
    html = editor_client.get(f"/admin/rounds/{round_.id}").get_data(True)
    assert "有 2 件作品的评委人数不足 3 人" in html
    assert html.count('<tr class="short">') == 2
    assert f'/admin/entries/{entries[0].id}' in html  # the editor-only link to the entry
    assert f'/admin/rounds/entries/{entries[0].id}/redact?round={round_.id}' in html


def test_unlock_needs_a_reason_and_is_logged(editor_client, session, draft_round, jurors):
    open_round(session, draft_round, actor=None)
    _score_all(session, draft_round, jurors[0])
    rj = submit_sheet(session, jurors[0], draft_round)
    session.commit()
    url = f"/admin/rounds/{draft_round.id}/jurors/{rj.id}/unlock"
    r = editor_client.post(url, data={"reason": "  "}, follow_redirects=True)
    assert "请填写解锁原因（将记入操作日志）" in r.get_data(True)
    session.expire_all()
    assert session.get(type(rj), rj.id).is_locked
    r = editor_client.post(url, data={"reason": "评委误操作，需修改第3件作品"},
                           follow_redirects=True)
    assert "已解锁评委0的评分表，原因已记入操作日志" in r.get_data(True)
    session.expire_all()
    assert not session.get(type(rj), rj.id).is_locked
    (event,) = events(session, "sheet.unlock")
    assert event.reason == "评委误操作，需修改第3件作品"
    assert event.actor.login == "editor1" and event.old["submitted_at"]
    assert event.object_type == "round_jurors" and event.object_id == rj.id


def test_unlock_of_another_rounds_sheet_is_404(editor_client, session, draft_round, contest,
                                               jurors):
    other = create_round(session, vet(contest), kind="preliminary", name="另一轮",
                         jurors=jurors[3:], seed=2)
    session.commit()
    rj = other.jurors[0]
    r = editor_client.post(f"/admin/rounds/{draft_round.id}/jurors/{rj.id}/unlock",
                           data={"reason": "x"})
    assert r.status_code == 404


# ----------------------------------------------------------------------- later rounds

@pytest.fixture
def scored_round(session, draft_round, jurors):
    """The first round opened, every juror scoring entry i with total 40 + 10·i on a
    spread of criteria, sheets submitted, round closed."""
    open_round(session, draft_round, actor=None)
    order = {re.entry_id: i for i, re in enumerate(sorted(draft_round.round_entries,
                                                          key=lambda re: re.entry_id))}
    for rj in draft_round.jurors:
        for a in session.scalars(select(Assignment).where(Assignment.juror_id == rj.juror_id)):
            total = 40 + 10 * order[a.entry_id]
            pts = [min(30, total * 0.3), min(25, total * 0.25), min(30, total * 0.3)]
            pts.append(total - sum(pts))
            save_scores(session, rj.juror, draft_round, a.entry,
                        {c.id: p for c, p in zip(draft_round.criteria, pts, strict=True)})
        submit_sheet(session, rj.juror, draft_round)
    close_round(session, draft_round, actor=None)
    session.commit()
    return draft_round


def later_form(contest, previous, jurors, **over) -> dict:
    return form_data(vet(contest).id, [j.id for j in jurors], kind="second", name="复评",
                     previous_round=str(previous.id), **over)


def test_later_round_previews_the_shortlist_before_applying(editor_client, session, contest,
                                                            jurors, entries, scored_round):
    data = later_form(contest, scored_round, jurors[:3], top_n="2")
    data.pop("create")
    data["preview"] = "预览入围作品"
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 200
    html = r.get_data(True)
    preview = html.split('id="shortlist-preview"', 1)[1]
    assert "入围 2 件（共 6 件参评）" in preview
    assert preview.count("badge ok") == 2
    top = sorted(entries, key=lambda e: e.id)[-2:]  # totals 90 and 80
    assert "90.00" in preview and "80.00" in preview
    assert top[1].code in preview.split("80.00")[0]  # rank 1 listed first
    ids = ",".join(str(e.id) for e in sorted(top, key=lambda e: e.id))
    assert f'name="previewed_ids" type="hidden" value="{ids}"' in html
    assert [r.id for r in rounds(session)] == [scored_round.id]  # a preview saves nothing

    data = later_form(contest, scored_round, jurors[:3], top_n="2", previewed_ids=ids)
    r = editor_client.post("/admin/rounds/new", data=data)
    assert r.status_code == 302, r.get_data(True)
    later = rounds(session)[-1]
    assert later.kind == "second" and later.previous_round_id == scored_round.id
    assert sorted(re.entry_id for re in later.round_entries) == sorted(e.id for e in top)


def test_later_round_without_preview_shows_the_preview_first(editor_client, session, contest,
                                                             jurors, entries, scored_round):
    r = editor_client.post("/admin/rounds/new",
                           data=later_form(contest, scored_round, jurors[:3],
                                           shortlist_rule="threshold", threshold="70"))
    assert r.status_code == 200
    html = r.get_data(True)
    assert "入围 3 件（共 6 件参评）" in html  # totals 70, 80, 90 reach the line
    assert len(rounds(session)) == 1
    # the rule changed after the preview: show the new preview instead of applying
    ids = html.split('name="previewed_ids" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = editor_client.post("/admin/rounds/new",
                           data=later_form(contest, scored_round, jurors[:3],
                                           shortlist_rule="threshold", threshold="80",
                                           previewed_ids=ids))
    assert r.status_code == 200
    assert "入围名单与预览时不同" in r.get_data(True)
    assert "入围 2 件" in r.get_data(True)
    assert len(rounds(session)) == 1


def test_later_round_needs_the_previous_round_closed(editor_client, session, contest, jurors,
                                                    entries, draft_round):
    open_round(session, draft_round, actor=None)
    session.commit()
    data = later_form(contest, draft_round, jurors[:3], top_n="3", previewed_ids="")
    html = editor_client.post("/admin/rounds/new", data=data).get_data(True)
    assert "上一轮尚未结束" in html
    ids = html.split('name="previewed_ids" type="hidden" value="', 1)[1].split('"', 1)[0]
    r = editor_client.post("/admin/rounds/new",
                           data=later_form(contest, draft_round, jurors[:3], top_n="3",
                                           previewed_ids=ids))
    assert r.status_code == 400
    assert "上一轮“初评”尚未结束，请先结束上一轮再按其结果创建新一轮" in r.get_data(True)
    assert len(rounds(session)) == 1


def test_list_shows_rounds_per_track_with_progress(editor_client, session, contest, jurors,
                                                   entries, scored_round):
    html = editor_client.get("/admin/rounds/").get_data(True)
    vet_part = html.split("职业教育活动周", 1)[1].split("全民终身学习活动周", 1)[0]
    assert "初评" in vet_part and "已结束" in vet_part
    assert "18 / 18（100%）" in vet_part
    assert "新建复评" in vet_part
    lifelong = html.split("全民终身学习活动周", 1)[1]
    assert "本赛道还没有评审轮次" in lifelong and "新建初评" in lifelong


# ----------------------------------------------------------------------- conflicts

def test_recording_a_conflict_on_an_open_round_reassigns(editor_client, session, contest,
                                                         jurors, entries):
    round_ = create_round(session, vet(contest), kind="preliminary", name="初评",
                          jurors=jurors, seed=3)  # 4 jurors, k = 3: room to move
    open_round(session, round_, actor=None)
    session.commit()
    target = entries[1].unit
    juror = next(j for j in jurors if session.scalar(
        select(func.count(Assignment.id)).join(Entry, Entry.id == Assignment.entry_id)
        .where(Assignment.juror_id == j.id, Entry.unit_id == target.id,
               Assignment.is_active.is_(True))))
    r = editor_client.post("/admin/rounds/conflicts", data={
        "juror": str(juror.id), "target": "unit", "unit": str(target.id), "entry_code": "",
        "reason": "曾在该校兼职授课"}, follow_redirects=True)
    html = r.get_data(True)
    assert "已记录回避" in html and "已在1个进行中的轮次重新分配" in html
    assert "曾在该校兼职授课" in html
    session.expire_all()
    coi = session.scalar(select(ConflictOfInterest))
    editor_id = session.scalar(select(User.id).where(User.login == "editor1"))
    assert (coi.juror_id, coi.unit_id, coi.declared_by_id) == (juror.id, target.id, editor_id)
    for e in entries:
        jurors_of_e = set(session.scalars(select(Assignment.juror_id).where(
            Assignment.entry_id == e.id, Assignment.is_active.is_(True))))
        assert len(jurors_of_e) == 3
        if e.unit_id == target.id:
            assert juror.id not in jurors_of_e
    assert events(session, "conflict.record")[0].reason == "曾在该校兼职授课"


def test_recording_a_conflict_on_one_entry_by_code(editor_client, session, contest, jurors,
                                                   entries):
    r = editor_client.post("/admin/rounds/conflicts", data={
        "juror": str(jurors[2].id), "target": "entry", "unit": "0",
        "entry_code": entries[4].code.lower(), "reason": "作者是其亲属"})
    assert r.status_code == 302
    coi = session.scalar(select(ConflictOfInterest))
    assert coi.entry_id == entries[4].id and coi.unit_id is None


@pytest.mark.parametrize(("change", "message"), [
    ({"reason": ""}, "请填写回避原因"),
    ({"juror": "0"}, "请选择评委"),
    ({"unit": "0"}, "请选择参赛单位"),
    ({"target": "entry", "entry_code": ""}, "请填写作品编号，例如 ZJ2024-0001"),
    ({"target": "entry", "entry_code": "ZJ2024-9999"}, "作品编号不存在：ZJ2024-9999"),
])
def test_conflict_form_errors(editor_client, session, contest, jurors, entries, change,
                              message):
    data = {"juror": str(jurors[1].id), "target": "unit", "unit": str(entries[0].unit_id),
            "entry_code": "", "reason": "理由"}
    data.update(change)
    r = editor_client.post("/admin/rounds/conflicts", data=data)
    assert r.status_code == 400
    assert message in r.get_data(True)
    assert session.scalar(select(func.count(ConflictOfInterest.id))) == 0


# ----------------------------------------------------------------------- walls and CSRF

@pytest.mark.parametrize("role", [Role.juror, Role.entrant])
def test_jurors_and_entrants_get_403(app, session, contest, draft_round, entries, role):
    user = f.make_user(session, role)
    session.commit()
    client = login_client(app, user)
    urls = PAGES + [f"/admin/rounds/{draft_round.id}",
                    f"/admin/rounds/entries/{entries[0].id}/redact",
                    f"/admin/rounds/entries/{entries[0].id}/image/juror"]
    for url in urls:
        assert client.get(url).status_code == 403, url
    for url in (f"/admin/rounds/{draft_round.id}/open", f"/admin/rounds/{draft_round.id}/assign",
                "/admin/rounds/new", "/admin/rounds/conflicts",
                f"/admin/rounds/entries/{entries[0].id}/redactions"):
        assert client.post(url, data={}).status_code == 403, url
    session.expire_all()
    assert session.get(Round, draft_round.id).status == RoundStatus.draft


def test_anonymous_visitors_are_sent_to_login(client, draft_round):
    for url in PAGES + [f"/admin/rounds/{draft_round.id}"]:
        r = client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], url


def test_unknown_round_is_404(editor_client, contest):
    assert editor_client.get("/admin/rounds/999").status_code == 404
    assert editor_client.post("/admin/rounds/999/open").status_code == 404


@pytest.fixture
def csrf_app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_open_without_csrf_token_is_refused(csrf_app_config, app, session, draft_round,
                                            editor):
    client = login_client(app, editor)
    r = client.post(f"/admin/rounds/{draft_round.id}/open")
    assert r.status_code == 400
    assert "页面已过期" in r.get_data(True)
    session.expire_all()
    assert session.get(Round, draft_round.id).status == RoundStatus.draft
