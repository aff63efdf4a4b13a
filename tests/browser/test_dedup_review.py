"""Browser: an editor opens the duplicate queue, compares a flagged pair (difference image,
slider) and disqualifies one entry with a reason; the entrant then sees the entry as
disqualified with that reason."""

from __future__ import annotations

from playwright.sync_api import expect

from contest.models import Role
from tests import dedup_support as ds
from tests.browser.conftest import browser_login
from tests.factories import DEFAULT_PASSWORD, make_unit, make_user


def test_editor_compares_a_flagged_pair_and_disqualifies_one_entry(page, live_server, app,
                                                                   session, contest, editor):
    ds.relax_rules(session, contest)
    original_unit = make_unit(session, "太原城市职业技术学院")
    copier_unit = make_unit(session, "晋中市社区学习中心", city="晋中市")
    copier = make_user(session, Role.entrant, login="copier", unit=copier_unit)
    session.commit()
    img = ds.poster(80, "ORIGINAL")
    first = ds.new_entry(session, app, original_unit, ds.jpeg(img), title="原创海报")
    copy = ds.new_entry(session, app, copier_unit, ds.jpeg(ds.resized_copy(img)),
                        title="照搬的海报")
    reason = "与太原城市职业技术学院的作品为同一海报（缩放后重新提交）"

    browser_login(page, live_server, editor.login, DEFAULT_PASSWORD)
    page.goto(f"{live_server}/admin/dedup/")
    cluster = page.locator(".dd-cluster").first
    expect(cluster).to_contain_text(first.code)
    expect(cluster).to_contain_text(copy.code)
    expect(cluster.locator(".dd-kind").first).to_have_text("重复")
    cluster.get_by_role("link", name="对比并处理").first.click()

    page.wait_for_url(f"{live_server}/admin/dedup/pairs/*")
    # both posters and the difference image actually load
    for img_el in (page.locator(".dd-side img").nth(0), page.locator(".dd-side img").nth(1),
                   page.locator('[data-view="diff"] img')):
        expect(img_el).to_be_visible()
        assert img_el.evaluate("el => el.complete && el.naturalWidth > 0")
    # the slider: B (aligned) over A, split where the editor clicks
    page.get_by_role("button", name="卷帘对比").click()
    stage = page.locator(".dd-stack")
    expect(stage).to_be_visible()
    expect(page.locator('[data-view="diff"]')).to_be_hidden()
    box = stage.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    clip = page.locator(".dd-over").evaluate("el => el.style.clipPath")
    assert clip.startswith("inset(0px 0px 0px 3") or clip.startswith("inset(0 0 0 3"), clip
    page.get_by_role("button", name="差异图").click()
    expect(page.locator('[data-view="diff"]')).to_be_visible()

    page.get_by_label(f"取消作品 {copy.code}").check()
    page.get_by_label("原因").fill(reason)
    page.get_by_role("button", name="确认处理").click()
    expect(page.locator(".flash-success")).to_contain_text(f"已取消作品 {copy.code} 的参赛资格")
    expect(page.locator("main")).not_to_contain_text("对比并处理")
    expect(page.locator("main")).to_contain_text(reason)

    page.context.clear_cookies()
    browser_login(page, live_server, copier.login, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/submit/")
    page.goto(f"{live_server}/submit/entries/{copy.id}")
    expect(page.locator("main")).to_contain_text("已取消参赛资格")
    expect(page.locator(".status-reason")).to_contain_text(reason)
