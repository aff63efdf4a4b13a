"""The editors' 评审结果 pages through the test client: rendering, the method switch, awards,
finalisation, the public notice, exports and role walls."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from contest import awards
from contest.models import (AggregateMethod, AuditEvent, AwardDecision, AwardTier, Role,
                            RoundResultSettings, TrackKind)
from tests import factories
from tests.conftest import login_client, make_test_config

ONE = [("总分", "", 100)]


@pytest.fixture
def scored(session, contest):
    """VET week: five entries of two units scored by five jurors (one criterion). Entry 1
    has one enthusiastic juror: first by the mean, second by the trimmed mean."""
    jurors = [factories.make_user(session, Role.juror, display_name=f"评审专家{i}")
              for i in range(5)]
    unit_a = factories.make_unit(session, "晋城职业技术学院", city="晋城市")
    unit_b = factories.make_unit(session, "高平市职业教育中心", city="晋城市")
    table = [[100, 60, 60, 60, 60], [65, 65, 65, 65, 65], [50, 55, 60, 55, 50],
             [40, 45, 50, 45, 40], [30, 35, 40, 35, 30]]
    entries = []
    for i, totals in enumerate(table):
        entry = factories.make_entry(session, unit_a if i % 2 == 0 else unit_b,
                                     title=f"技能之光{i + 1}", authors=f"作者{i + 1}",
                                     adviser=f"指导教师{i + 1}")
        entries.append(entry)
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors, criteria=ONE,
                                          kind="final", name="终评")
    for entry, totals in zip(entries, table, strict=True):
        for juror, total in zip(jurors, totals, strict=True):
            factories.make_review(session, round_, entry, juror, [total], comment="构图饱满")
    session.commit()
    return round_, entries, jurors


def track_of(contest):
    return contest.track(TrackKind.vet_week)


# ----------------------------------------------------------------- pages render


def test_index_lists_tracks_and_rounds(editor_client, scored):
    html = editor_client.get("/admin/results/").get_data(as_text=True)
    assert "评审结果" in html and "职业教育活动周" in html and "全民终身学习活动周" in html
    assert "终评" in html and "查看结果" in html and "奖项评定" in html


def test_round_page_shows_three_aggregates_sensitivity_and_agreement(editor_client, scored):
    round_, entries, jurors = scored
    resp = editor_client.get(f"/admin/results/rounds/{round_.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for heading in ("平均分", "去掉最高最低分后平均", "标准分", "中位数", "首项得分"):
        assert heading in html
    assert "68.00" in html and "60.00*" in html  # entry 1: mean 68, trimmed 60
    assert "方法敏感性（前 10 名）" in html
    assert "评委一致性" in html and "肯德尔和谐系数 W" in html and "ICC(1)" in html
    assert "评委A" in html and "评审专家0" in html  # the editor's own view names jurors
    assert entries[0].code in html and "晋城职业技术学院" not in html  # names not revealed


def test_method_switch_reranks_and_is_logged(editor_client, session, scored):
    round_, entries, _ = scored
    resp = editor_client.post(f"/admin/results/rounds/{round_.id}/method",
                              data={"method": "trimmed_mean", "trimmed_min_scores": 5,
                                    "top_n": 1})
    assert resp.status_code == 302
    html = editor_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "排名依据已保存" in html
    assert "排名（按“去掉最高最低分后平均”）" in html
    assert "方法敏感性（前 1 名）" in html
    # under the trimmed mean entry 2 (65) leads; the mean would bring entry 1 back
    assert "若改用“平均分”" in html and "进入</span> A-001《技能之光1》" in html
    session.expire_all()
    settings = session.scalar(select(RoundResultSettings))
    assert settings.method == AggregateMethod.trimmed_mean and settings.top_n == 1
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "results.method"))


def test_method_form_errors_are_chinese(editor_client, scored):
    round_, _, _ = scored
    resp = editor_client.post(f"/admin/results/rounds/{round_.id}/method",
                              data={"method": "mean", "trimmed_min_scores": 2, "top_n": 10},
                              follow_redirects=True)
    assert "人数应在3～99之间" in resp.get_data(as_text=True)


# ----------------------------------------------------------------- awards and finalise


def test_place_override_and_finalise_through_the_pages(editor_client, session, contest,
                                                       scored):
    round_, entries, _ = scored
    track = track_of(contest)
    url = f"/admin/results/tracks/{track.id}"
    assert "尚未生成拟获奖名单" in editor_client.get(url).get_data(as_text=True)
    resp = editor_client.post(f"{url}/plan", data={
        "round_id": 0, "quota_mode": "count", "first_quota": 1, "second_quota": 1,
        "third_quota": 1, "merit_quota": 0, "merit_vacant": "y"})
    assert resp.status_code == 302
    editor_client.post(f"{url}/place")
    html = editor_client.get(url).get_data(as_text=True)
    assert "拟获奖名单（未确认发布）" in html and "空缺" in html
    assert "晋城职业技术学院" not in html  # names stay hidden until finalised
    # an override without a reason is refused in Chinese, nothing changes
    resp = editor_client.post(f"{url}/override", data={"entry_id": entries[4].id,
                                                        "tier": "third", "reason": ""},
                              follow_redirects=True)
    assert "调整获奖等次须填写原因" in resp.get_data(as_text=True)
    resp = editor_client.post(f"{url}/override", data={"entry_id": entries[4].id,
                                                        "tier": "third",
                                                        "reason": "复议后提高等次"},
                              follow_redirects=True)
    assert "已记录原因" in resp.get_data(as_text=True)
    # finalising needs the confirmation box
    resp = editor_client.post(f"{url}/finalise", data={}, follow_redirects=True)
    assert "请先勾选确认" in resp.get_data(as_text=True)
    assert not awards.is_finalised(session, track)
    resp = editor_client.post(f"{url}/finalise", data={"confirm": "y"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已确认发布" in html and "晋城职业技术学院" in html and "指导教师1" in html
    session.expire_all()
    tiers = {d.entry_id: d.tier for d in session.scalars(select(AwardDecision))}
    assert tiers[entries[0].id] == AwardTier.first
    assert tiers[entries[4].id] == AwardTier.third
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "results.reveal_names"))
    # read-only afterwards
    resp = editor_client.post(f"{url}/override", data={"entry_id": entries[3].id,
                                                        "tier": "first", "reason": "再改"},
                              follow_redirects=True)
    assert "结果已确认发布，不能再修改" in resp.get_data(as_text=True)
    resp = editor_client.post(f"/admin/results/rounds/{round_.id}/method",
                              data={"method": "zscore", "trimmed_min_scores": 5, "top_n": 10},
                              follow_redirects=True)
    assert "结果已确认发布，不能再修改" in resp.get_data(as_text=True)


def test_plan_percentages_over_100_are_refused(editor_client, contest, scored):
    track = track_of(contest)
    resp = editor_client.post(f"/admin/results/tracks/{track.id}/plan", data={
        "round_id": 0, "quota_mode": "percent", "first_quota": 40, "second_quota": 40,
        "third_quota": 30, "merit_quota": 0}, follow_redirects=True)
    assert "各奖项比例之和不能超过100%（当前：110%）" in resp.get_data(as_text=True)


def test_override_of_another_tracks_entry_is_404(editor_client, session, contest, scored):
    other = factories.make_entry(session, factories.make_unit(session),
                                 track=TrackKind.lifelong_week)
    session.commit()
    resp = editor_client.post(f"/admin/results/tracks/{track_of(contest).id}/override",
                              data={"entry_id": other.id, "tier": "first", "reason": "x"})
    assert resp.status_code == 404


def test_only_an_admin_can_reopen(app, editor_client, session, contest, scored, admin, editor):
    track = track_of(contest)
    awards.apply_placement(session, track, editor)
    awards.finalise(session, track, editor)
    session.commit()
    url = f"/admin/results/tracks/{track.id}/reopen"
    assert editor_client.post(url, data={"reason": "异议成立"}).status_code == 403
    admin_client = login_client(app, admin)
    assert "撤销确认发布" in admin_client.get(f"/admin/results/tracks/{track.id}").get_data(
        as_text=True)
    resp = admin_client.post(url, data={"reason": "公示期异议成立"}, follow_redirects=True)
    assert "已撤销确认发布" in resp.get_data(as_text=True)
    session.expire_all()
    assert not awards.is_finalised(session, track)


# ----------------------------------------------------------------- organisation awards


def test_organisation_rule_and_proposal_pages(editor_client, session, contest, scored, editor):
    awards.apply_placement(session, track_of(contest), editor)
    session.commit()
    resp = editor_client.post("/admin/results/organisation/rules", data={
        "org_min_entries": 2, "org_min_awards": 1, "org_max_units": 1, "points_first": 5,
        "points_second": 3, "points_third": 2, "points_merit": 1,
        "adviser_min_tier": "second"}, follow_redirects=True)
    assert "评选规则已保存" in resp.get_data(as_text=True)
    resp = editor_client.post("/admin/results/organisation/propose", follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已按规则生成优秀组织奖建议名单" in html
    assert "晋城职业技术学院" in html and "推荐" in html
    bad = editor_client.post("/admin/results/organisation/rules", data={
        "org_min_entries": -1, "org_min_awards": 1, "org_max_units": 1, "points_first": 5,
        "points_second": 3, "points_third": 2, "points_merit": 1, "adviser_min_tier": "second"},
        follow_redirects=True)
    assert "有效作品不少于（件）应为不小于0的整数" in bad.get_data(as_text=True)


# ----------------------------------------------------------------- public notice


def test_public_notice_content_and_period(editor_client, session, contest, scored, editor):
    round_, entries, _ = scored
    track = track_of(contest)
    awards.update_plan(session, track, editor, quota_mode="count",
                       quotas={AwardTier.first: 1, AwardTier.second: 1}, vacant=["third"])
    awards.apply_placement(session, track, editor)
    session.commit()
    resp = editor_client.post("/admin/results/notice", data={
        "title": "关于2024年海报大赛拟获奖名单的公示", "issuer": "《山西教育》杂志社",
        "starts_on": "2024-05-24", "working_days": 5, "ends_on": "",
        "contact": "组委会办公室 王老师 0351-1234567",
        "objection_text": "如有异议，请于公示期内实名书面提出。"})
    assert resp.status_code == 302
    html = editor_client.get("/admin/results/notice").get_data(as_text=True)
    assert "关于2024年海报大赛拟获奖名单的公示" in html
    assert "2024年5月24日至2024年5月30日（5个工作日）" in html  # Fri → Thu, weekend skipped
    assert "三等奖空缺" in html and "拟定稿" in html
    assert entries[0].code in html and "技能之光1" in html
    assert "晋城职业技术学院" not in html and "作者1" not in html  # not final yet
    assert "组委会办公室 王老师 0351-1234567" in html and "实名书面提出" in html
    assert "results.css" in html and "@media print" not in html  # print rules in the CSS
    awards.finalise(session, track, editor)
    session.commit()
    html = editor_client.get("/admin/results/notice").get_data(as_text=True)
    assert "晋城职业技术学院" in html and "作者1" in html and "指导教师1" in html
    assert "拟定稿" not in html


def test_notice_end_before_start_is_refused(editor_client, contest):
    resp = editor_client.post("/admin/results/notice", data={
        "title": "公示", "issuer": "杂志社", "starts_on": "2024-05-24", "working_days": 5,
        "ends_on": "2024-05-20", "objection_text": "异议说明"})
    assert resp.status_code == 400
    assert "公示结束日期不能早于开始日期（当前：2024年5月24日 至 2024年5月20日）" in \
        resp.get_data(as_text=True)


def test_print_css_hides_the_chrome(app):
    css = app.test_client().get("/static/css/results.css").get_data(as_text=True)
    assert "@media print" in css and ".topbar" in css and "size: A4" in css


# ----------------------------------------------------------------- exports


def test_csv_and_xlsx_downloads(editor_client, session, scored):
    round_, entries, _ = scored
    resp = editor_client.get(f"/admin/results/rounds/{round_.id}/export.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert entries[0].code in resp.data.decode("utf-8-sig")
    resp = editor_client.get(f"/admin/results/rounds/{round_.id}/export.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["评审结果", "评委评分", "说明"]
    assert editor_client.get(f"/admin/results/rounds/{round_.id}/export.pdf").status_code == 404
    session.expire_all()
    assert len(session.scalars(select(AuditEvent)
                               .where(AuditEvent.action == "export.results")).all()) == 2


# ----------------------------------------------------------------- walls


PAGES = ["/admin/results/", "/admin/results/rounds/{round}", "/admin/results/tracks/{track}",
         "/admin/results/organisation", "/admin/results/notice",
         "/admin/results/rounds/{round}/export.csv"]


@pytest.mark.parametrize("page", PAGES)
def test_jurors_and_entrants_are_refused(app, session, contest, scored, juror, entrant, page):
    round_, _, _ = scored
    url = page.format(round=round_.id, track=track_of(contest).id)
    assert login_client(app, juror).get(url).status_code == 403
    assert login_client(app, entrant).get(url).status_code == 403
    resp = app.test_client().get(url)
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_unknown_round_and_track_are_404(editor_client, contest):
    assert editor_client.get("/admin/results/rounds/999").status_code == 404
    assert editor_client.get("/admin/results/tracks/999").status_code == 404


def test_csrf_is_required(tmp_path, _pg_schema):
    from contest import create_app, db

    app = create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True))
    if _pg_schema is None:
        db.create_schema(app)
    else:
        from tests.conftest import _truncate

        _truncate(_pg_schema)
    with app.app_context():
        s = db.new_session(app)
        contest = factories.make_contest(s)
        editor = factories.make_user(s, Role.editor, login="editor_csrf")
        track_id = contest.track(TrackKind.vet_week).id
        s.commit()
        client = login_client(app, editor)
        resp = client.post(f"/admin/results/tracks/{track_id}/place")
        assert resp.status_code == 400
        s.close()
    db.get_engine(app).dispose()


def test_pages_render_before_any_score(editor_client, session, contest):
    jurors = [factories.make_user(session, Role.juror) for _ in range(2)]
    entry = factories.make_entry(session, factories.make_unit(session), title="尚未评分的作品")
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors, entries=[entry],
                                          submitted=False, status="open")
    session.commit()
    html = editor_client.get(f"/admin/results/rounds/{round_.id}").get_data(as_text=True)
    assert "评委A、评委B 尚未提交本轮评分表" in html and "尚未评分的作品" in html
    assert "还没有已提交的评分" in html
    url = f"/admin/results/tracks/{track_of(contest).id}"
    assert "尚未生成拟获奖名单" in editor_client.get(url).get_data(as_text=True)
    resp = editor_client.post(f"{url}/place", follow_redirects=True)
    assert "所选轮次还没有已提交的评分，无法评定奖项" in resp.get_data(as_text=True)
    resp = editor_client.post(f"{url}/finalise", data={"confirm": "y"}, follow_redirects=True)
    assert "请先按获奖方案生成拟获奖名单" in resp.get_data(as_text=True)
    other = contest.track(TrackKind.lifelong_week).id
    assert "本赛道还没有评审轮次" in editor_client.get(f"/admin/results/tracks/{other}").get_data(
        as_text=True)
    assert "公示期：（请在公示设置中填写开始日期）" in editor_client.get(
        "/admin/results/notice").get_data(as_text=True)
