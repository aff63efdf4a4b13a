"""An editor computes results, assigns awards and finalises, in a real browser."""

from __future__ import annotations

from sqlalchemy import select

from contest.models import (DEFAULT_RUBRIC, AuditEvent, AwardDecision, AwardTier, Role,
                            TrackKind)
from tests import factories
from tests.browser.conftest import browser_login
from tests.factories import DEFAULT_PASSWORD


def seed_scored_round(session):  # noqa: ANN001, ANN201
    """Six VET entries scored by four jurors on the default rubric."""
    jurors = [factories.make_user(session, Role.juror, display_name=f"评审专家{i}")
              for i in range(4)]
    unit = factories.make_unit(session, "运城职业技术大学", city="运城市")
    entries = [factories.make_entry(session, unit, title=f"青春技能{i + 1}", authors=f"作者{i + 1}")
               for i in range(6)]
    round_ = factories.make_results_round(session, TrackKind.vet_week, jurors, kind="final",
                                          name="终评")
    for i, entry in enumerate(entries):
        for j, juror in enumerate(jurors):
            share = 0.9 - 0.07 * i + 0.01 * j
            factories.make_review(session, round_, entry, juror,
                                  [round(share * m * 2) / 2 for _, _, m in DEFAULT_RUBRIC],
                                  comment="主题鲜明")
    session.commit()
    return round_, entries


def test_editor_computes_results_assigns_awards_and_finalises(page, live_server, session,
                                                              contest, editor):
    round_, entries = seed_scored_round(session)
    browser_login(page, live_server, "editor1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/admin/")

    page.click("nav >> text=评审结果")
    page.click("text=查看结果")
    page.wait_for_url(f"{live_server}/admin/results/rounds/{round_.id}")
    assert page.locator("#ranking tbody tr").count() == 6
    page.check("input[name=method][value=zscore]")
    page.click("#method button[type=submit]")
    page.wait_for_load_state()
    assert "排名依据已保存" in page.inner_text(".flashes")
    assert "按“标准分（Z分数）”" in page.inner_text("#ranking h2")
    with page.expect_download() as download:
        page.click("text=导出CSV")
    assert download.value.suggested_filename.endswith("终评_评审结果.csv")

    page.click("text=奖项评定")
    page.check("input[name=quota_mode][value=count]")
    for name, value in (("first_quota", "1"), ("second_quota", "1"), ("third_quota", "2"),
                        ("merit_quota", "0")):
        page.fill(f"input[name={name}]", value)
    page.check("input[name=merit_vacant]")
    page.click("#plan button[type=submit]")
    page.wait_for_load_state()
    page.click("text=按方案生成拟获奖名单")
    page.wait_for_load_state()
    provisional = page.inner_text("#provisional")
    assert "拟获奖名单" in provisional and "空缺" in provisional
    assert "运城职业技术大学" not in provisional  # names only after finalising

    row = page.locator("#placement tr", has_text=entries[5].code)
    row.locator("select[name=tier]").select_option("third")
    row.locator("input[name=reason]").fill("终评复议：创意突出")
    row.locator("button", has_text="调整").click()
    page.wait_for_load_state()
    assert "已记录原因" in page.inner_text(".flashes")
    assert "调整原因：终评复议：创意突出" in page.inner_text("#placement")

    page.check("input[name=confirm]")
    page.click("#finalise button[type=submit]")
    page.wait_for_load_state()
    assert "已确认发布" in page.inner_text(".flashes")
    final_list = page.inner_text("#provisional")
    assert "获奖名单" in final_list and "运城职业技术大学" in final_list
    assert page.locator("#placement form").count() == 0  # read-only now

    session.expire_all()
    tiers = {d.entry_id: d.tier for d in session.scalars(select(AwardDecision))}
    assert tiers[entries[0].id] == AwardTier.first
    assert tiers[entries[5].id] == AwardTier.third
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "results.finalise"))

    page.click("text=公示")
    page.wait_for_load_state()
    notice = page.inner_text("#notice")
    assert entries[0].code in notice and "运城职业技术大学" in notice and "异议受理" in notice
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert not page.locator("#settings").is_visible()
    assert page.locator("#notice").is_visible()
