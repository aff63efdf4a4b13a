"""An entrant in a real browser: the in-browser image check, the XHR upload with CSRF
header, the finished entry on the dashboard, and the 413 page through the XHR path."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import browser_login
from tests.entry_helpers import MIB, write_poster
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def app_config(app_config):  # noqa: ANN001, ANN201
    app_config["WTF_CSRF_ENABLED"] = True  # the real thing: the XHR must send X-CSRFToken
    return app_config


def test_entrant_sees_width_message_then_submits_a_poster(page, live_server, entrant,
                                                          tmp_path):
    narrow = write_poster(tmp_path, "窄图.jpg", seed=90, size=(1500, 2100))
    good = write_poster(tmp_path, "校园海报.jpg", seed=91, size=(2000, 2600),
                        nbytes=2 * MIB + 300_000)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)

    browser_login(page, live_server, "school1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/submit/")
    page.locator("[data-track=vet_week]").get_by_role("link", name="新建作品").click()
    page.wait_for_url("**/submit/entries/new?track=vet_week")

    page.set_input_files("#image", str(narrow))
    message = page.locator("[data-upload-check] [data-rule=width]")
    expect(message).to_have_text("图片宽度不低于2000像素（当前：1500像素）")
    posts.clear()
    page.get_by_role("button", name="提交").click()
    page.wait_for_timeout(300)
    assert posts == [] and "/entries/new" in page.url  # blocked before any upload

    page.set_input_files("#image", str(good))
    expect(page.locator("[data-upload-check] [data-rule=ok]")).to_contain_text(
        "符合要求（JPG，2000×2600像素")
    page.fill("#title", "青春技能 点亮未来")
    page.fill("#authors", "王五")
    page.fill("#statement", "用实训车间的光影表现青年技能人才的成长。")
    page.fill("#caption_time", "2024年5月9日")
    page.fill("#caption_place", "学校实训中心")
    page.fill("#caption_people", "数控专业学生")
    page.fill("#caption_event", "技能展示周")
    page.check("input[name=ai_use][value=none]")
    page.check("#content_review_confirmed")
    page.fill("#content_reviewer", "宣传部 刘老师")
    page.check("#originality_confirmed")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*/submit/entries/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("作品已提交，作品编号 ZJ2024-0001")

    upload = next(r for r in posts if "/entries/new" in r.url)
    assert upload.headers.get("x-requested-with") == "XMLHttpRequest"
    assert upload.headers.get("x-csrftoken")

    page.goto(f"{live_server}/submit/")
    card = page.locator("[data-track=vet_week] .entry-item")
    expect(card).to_contain_text("青春技能 点亮未来")
    expect(card).to_contain_text("ZJ2024-0001")
    expect(card).to_contain_text("已提交")
    thumb = card.locator("img.thumb")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("[data-track=vet_week] .quota")).to_contain_text("还可提交 2 件")


@pytest.fixture
def small_limit_config(app_config):  # noqa: ANN001, ANN201
    app_config["MAX_UPLOAD_MB"] = 1
    return app_config


def test_body_over_the_limit_shows_the_chinese_413_page_through_xhr(small_limit_config, page,
                                                                   live_server, session,
                                                                   entrant, tmp_path):
    contest = factories.get_contest(session)
    contest.min_width_px = contest.min_size_bytes = contest.max_size_bytes = None
    session.commit()
    # the file alone fits under the 1 MiB request limit; with the form fields it does not
    big = write_poster(tmp_path, "big.jpg", seed=92, size=(900, 1200), nbytes=MIB - 400)
    browser_login(page, live_server, "school1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/submit/")
    page.goto(f"{live_server}/submit/entries/new?track=vet_week")
    page.fill("#title", "超大文件")
    page.fill("#statement", "说明" * 200)
    page.set_input_files("#image", str(big))
    expect(page.locator("[data-upload-check] [data-rule=ok]")).to_be_visible()
    page.get_by_role("button", name="暂存").click()
    expect(page.locator("main")).to_contain_text("文件过大", timeout=10_000)
    expect(page.locator("main")).to_contain_text("1MB")



BROWSER_CASES = [  # corpus file, the rule the browser must name, a part of its message
    ("generated/gen_width_ok_only_before_rotation_2400x1600_o6.jpg", "width", "当前：1600像素"),
    ("exif_orient_6_stored_1200x1800.jpg", "width", "当前：1800像素"),
    ("renamed_webp_as.jpg", "format", "当前文件实际为 WebP 格式"),
    ("renamed_heic_as.jpg", "format", "当前文件实际为 HEIC/HEIF 格式"),
    ("apng_5_frames.png", "animated", "不支持动图或多帧图片"),
    ("generated/gen_bomb_png_65000x65000_header.png", "bomb", "65000×65000像素"),
    ("lossless_sof3.jpg", "unsupported_jpeg", "不支持该 JPEG 编码方式"),
]


def test_browser_check_reads_content_and_orientation_like_the_server(page, live_server,
                                                                     entrant, shared_dir):
    browser_login(page, live_server, "school1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/submit/")
    page.goto(f"{live_server}/submit/entries/new?track=vet_week")
    check = page.locator("[data-upload-check]")
    for name, rule, text in BROWSER_CASES:
        page.set_input_files("#image", str(shared_dir / "corpus" / name))
        expect(check.locator(f"[data-rule={rule}]")).to_contain_text(text)
    # a portrait photo stored sideways (EXIF 8) is 2400 px wide as displayed
    page.set_input_files("#image", str(
        shared_dir / "corpus/generated/gen_width_ok_only_after_rotation_1600x2400_o8.jpg"))
    expect(check.locator("[data-rule=size]")).to_be_visible()  # too small in bytes only
    expect(check.locator("[data-rule=width]")).to_have_count(0)
