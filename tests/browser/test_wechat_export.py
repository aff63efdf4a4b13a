"""An editor previews the WeChat article at phone width, moves the cover's focus point and
downloads the package, in a real browser; the test opens the ZIP."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from contest import wechat
from contest.models import AuditEvent
from contest.storage import get_storage
from tests import factories
from tests.browser.conftest import browser_login
from tests.factories import DEFAULT_PASSWORD
from tests.wechat_helpers import (jpeg_info, marker_centre, marker_poster, open_zip,
                                  seed_winners)


def test_editor_previews_at_phone_width_moves_the_focus_and_downloads(
        page, live_server, app, session, contest, editor, tmp_path):
    posters = [factories.make_poster((1200, 1700), seed=1), marker_poster((1200, 1700), seed=2),
               factories.make_poster((1200, 1700), seed=3)]
    seeded = seed_winners(session, get_storage(app), posters=posters, editor=editor,
                          units=["太原城市职业技术学院", "长治职业技术学院", "晋城职业技术学院"],
                          titles=["匠心筑梦", "技能成才", "青春出彩"])
    marker = seeded.entries[1]  # a green square centred at (0.8, 0.3) of its poster

    browser_login(page, live_server, "editor1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/admin/")
    page.click("nav >> text=评审结果")
    page.locator(f"#track-{seeded.track.id}").get_by_role("link", name="公众号图文").click()
    page.wait_for_url(re.compile(rf".*/admin/wechat/tracks/{seeded.track.id}$"))

    # the article in a phone-wide frame: 375 px, the package's own body and images
    frame_el = page.locator("#wx-article")
    assert frame_el.bounding_box()["width"] == 375
    article = page.frame_locator("#wx-article")
    expect(article.locator("text=《匠心筑梦》")).to_be_visible()
    assert article.locator("body").evaluate("b => b.ownerDocument.defaultView.innerWidth") == 375
    article.locator("img").first.scroll_into_view_if_needed()
    widths = article.locator("img").evaluate_all(
        "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.getBoundingClientRect().width])")
    assert len(widths) == 3
    for complete, natural, shown in widths:
        assert complete and natural == 1080 and shown <= 375

    # choose the marker poster for the cover (the page reloads with it), then click the
    # picker where the marker is
    page.select_option("select[name=cover]", str(marker.id))
    page.wait_for_url(re.compile(rf".*cover={marker.id}.*"))
    picker = page.locator(".wx-picker img")
    picker.scroll_into_view_if_needed()
    expect(picker).to_have_js_property("complete", True)
    box = picker.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.3)
    fx = float(page.input_value("input[name=fx]"))
    fy = float(page.input_value("input[name=fy]"))
    assert abs(fx - 0.8) < 0.02 and abs(fy - 0.3) < 0.02
    dot = page.locator(".wx-dot").bounding_box()
    assert abs(dot["x"] + dot["width"] / 2 - (box["x"] + box["width"] * 0.8)) < 3
    square = page.locator("img[data-cover-shape='1x1']")
    expect(square).to_have_attribute("src", re.compile(rf"fx={fx}"))
    page.wait_for_function(
        "() => { const i = document.querySelector(\"img[data-cover-shape='1x1']\");"
        " return i.complete && i.naturalWidth === 500; }")
    expect(page).to_have_url(re.compile(rf".*fx={fx}.*"))  # the URL keeps the setting

    # a title over the limit is counted live; then a good one
    page.fill("input[name=title]", "题" * 33)
    counter = page.locator("[data-count-for=title]")
    expect(counter).to_have_text("33/32")
    expect(counter).to_have_class(re.compile("over"))
    page.fill("input[name=title]", "技能成就出彩人生")
    expect(counter).to_have_text("8/32")
    expect(page.locator(".wx-feed-title")).to_have_text("技能成就出彩人生")

    with page.expect_download() as download_info:
        page.click("#wx-download")
    download = download_info.value
    assert download.suggested_filename == "职业教育活动周_公众号图文.zip"
    saved = tmp_path / "package.zip"
    download.save_as(saved)
    zf = open_zip(saved.read_bytes())
    names = zf.namelist()
    assert [n for n in names if n.startswith("images/")] == [
        "images/01_一等奖_太原城市职业技术学院_匠心筑梦.jpg",
        "images/02_二等奖_长治职业技术学院_技能成才.jpg",
        "images/03_三等奖_晋城职业技术学院_青春出彩.jpg"]
    assert jpeg_info(zf.read("cover_1x1.jpg"))[0] == (500, 500)
    # the cover was cut around the clicked point: the square crop of 1200x1700 around
    # (fx, fy) puts the marker where crop_box says
    left, top, right, _ = wechat.crop_box((1200, 1700), 1.0, (fx, fy))
    scale = 500 / (right - left)
    expected = ((0.8 * 1200 - left) * scale, (0.3 * 1700 - top) * scale)
    centre = marker_centre(zf.read("cover_1x1.jpg"))
    assert centre is not None
    assert abs(centre[0] - expected[0]) < 4 and abs(centre[1] - expected[1]) < 4
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.wechat"))
    assert event.new["title"] == "技能成就出彩人生" and event.new["cover"] == marker.code

    # on a phone itself the frame is the whole screen width, without sideways scrolling
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    assert page.locator("#wx-article").bounding_box()["width"] == 375
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    assert article.locator("body").evaluate("b => b.ownerDocument.defaultView.innerWidth") == 375
