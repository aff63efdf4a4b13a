"""The editors' 公众号图文 preview (admin.wechat) through the test client: the article at
375 px is the package's article.html, the images are the package's bytes, covers follow
the focus, limits are shown in Chinese, the download's name, and the role walls."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from contest import wechat
from contest.models import AuditEvent, TrackKind
from contest.storage import get_storage
from tests import factories
from tests.conftest import login_client
from tests.wechat_helpers import jpeg_info, marker_centre, marker_poster, open_zip, seed_winners


@pytest.fixture
def seeded(app, session, contest, editor):
    posters = [factories.make_poster((1200, 1700), seed=1), marker_poster((1200, 1700), seed=2),
               factories.make_poster((1000, 3000), seed=3)]
    return seed_winners(session, get_storage(app), posters=posters, editor=editor,
                        units=["太原城市职业技术学院", "长治职业技术学院", "晋城职业技术学院"])


def url(seeded, tail: str = "") -> str:  # noqa: ANN001
    return f"/admin/wechat/tracks/{seeded.track.id}{tail}"


def test_results_page_links_to_the_preview_per_track_with_winners(editor_client, seeded):
    html = editor_client.get("/admin/results/").get_data(as_text=True)
    assert f'href="{url(seeded)}"' in html and "公众号图文" in html
    other = seeded.track.contest.track(TrackKind.lifelong_week)
    assert f"/admin/wechat/tracks/{other.id}" not in html  # no winners there


def test_preview_shows_the_phone_frame_covers_fields_and_winners(editor_client, seeded):
    resp = editor_client.get(url(seeded))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'class="wx-phone" style="width: 375px;"' in html
    assert re.search(r'<iframe id="wx-article"[^>]*width="375"', html)
    assert "已确认发布" in html and "拟获奖（未确认发布）" not in html
    title = wechat.default_title(seeded.track.contest.name, seeded.track.name, True)
    assert f'value="{title}"' in html and f"{len(title)}/32" in html
    assert "/120" in html and 'data-count-for="digest"' in html
    for shape in ("2.35x1", "1x1"):
        assert f"/covers/{shape}.jpg?" in html
    assert 'name="fx"' in html and 'name="fy"' in html and 'type="number"' in html
    assert "下载图文包（ZIP）" in html and "/download" in html
    for entry in seeded.entries:
        assert entry.code in html and entry.title in html
    assert "太原城市职业技术学院" in html
    # the 1000x3000 poster is 3240 px tall at 1080 wide: two slices
    assert "images/03_三等奖_晋城职业技术学院_匠心筑梦3_2.jpg" in html


def test_the_phone_shows_the_package_article_with_preview_image_urls(app, editor_client,
                                                                      session, seeded):
    frame = editor_client.get(url(seeded, "/article")).get_data(as_text=True)
    body = frame.split('<div id="js_content">', 1)[1].rsplit("</div>", 2)[0]
    zf = open_zip(wechat.build_package(session, seeded.track, storage=get_storage(app)))
    article = zf.read("article.html").decode("utf-8-sig")
    srcs = re.findall(r'src="([^"]+)"', body)
    assert len(srcs) == 4  # the third poster is sliced in two
    assert all(src.startswith(url(seeded, "/images/")) for src in srcs)
    assert _same_but_srcs(body, article)
    # each preview image is the very JPEG the ZIP holds
    for src, name in zip(re.findall(r'src="([^"]+)"', body),
                         re.findall(r'src="([^"]+)"', article), strict=True):
        resp = editor_client.get(src)
        assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
        assert resp.data == zf.read(name)
        assert editor_client.get(src, headers={"If-None-Match": resp.headers["ETag"]}
                                 ).status_code == 304
    assert "<h1" in frame and "山西职成教育" in frame  # the reader's title line


def _same_but_srcs(preview_body: str, article: str) -> bool:
    """True when the two differ only in the <img src> values."""
    strip = re.compile(r'src="[^"]*"')
    return strip.sub('src=""', preview_body) == strip.sub('src=""', article)


def test_covers_follow_the_focus_and_source_image(editor_client, seeded):
    marker = seeded.entries[1]
    query = f"?cover={marker.id}&fx=0.8&fy=0.3"
    wide = editor_client.get(url(seeded, f"/covers/2.35x1.jpg{query}"))
    square = editor_client.get(url(seeded, f"/covers/1x1.jpg{query}"))
    assert jpeg_info(wide.data)[0] == (900, 383) and jpeg_info(square.data)[0] == (500, 500)
    # 1200x1700: the square is 1200x1200 with top = max(0, 510 - 600) = 0 → marker at
    # (960, 510) * 500/1200 = (400, 212.5)
    assert marker_centre(square.data) == pytest.approx((400, 212.5), abs=3)
    # focus low down: the square's top goes to 1700 - 1200 = 500 px, so only the marker's
    # bottom rows (500-558 px) stay in, at the cover's top edge
    low = editor_client.get(url(seeded, f"/covers/1x1.jpg?cover={marker.id}&fx=0.2&fy=0.9"))
    x, y = marker_centre(low.data)
    assert x == pytest.approx(400, abs=3) and y < 30
    source = editor_client.get(url(seeded, f"/source/{marker.id}.jpg"))
    assert source.status_code == 200 and max(jpeg_info(source.data)[0]) == 800
    assert editor_client.get(url(seeded, "/covers/3x4.jpg")).status_code == 404
    assert editor_client.get(url(seeded, "/source/999999.jpg")).status_code == 404


def test_download_is_a_zip_named_in_chinese_and_logged(editor_client, session, seeded):
    marker = seeded.entries[1]
    resp = editor_client.get(url(seeded, f"/download?cover={marker.id}&fx=0.8&fy=0.3"
                                          "&title=技能成就出彩人生&digest="))
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="wechat_vet_week.zip"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded) == "职业教育活动周_公众号图文.zip"
    zf = open_zip(resp.data)
    assert len([n for n in zf.namelist() if n.startswith("images/")]) == 4
    assert marker_centre(zf.read("cover_1x1.jpg")) is not None  # the chosen cover winner
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.wechat"))
    assert event is not None and event.new["title"] == "技能成就出彩人生"
    assert event.new["cover"] == marker.code and event.new["focus"] == [0.8, 0.3]


def test_limits_and_bad_focus_are_shown_in_chinese_not_downloaded(editor_client, seeded):
    long_title = "题" * 33
    resp = editor_client.get(url(seeded, f"/download?title={long_title}&digest={'字' * 121}"
                                          "&fx=1.5&fy=abc"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and resp.mimetype == "text/html"
    assert "标题不超过32个字（当前：33个字）" in html
    assert "摘要不超过120个字（当前：121个字）" in html
    assert "焦点横向位置须在0到1之间" in html
    assert "33/32" in html  # the count beside the field says so too
    preview = editor_client.get(url(seeded, f"?title={long_title}"))
    assert preview.status_code == 400 and "标题不超过32个字" in preview.get_data(as_text=True)


def test_no_winners_and_provisional(app, editor_client, session, contest, editor):
    other = contest.track(TrackKind.lifelong_week)
    resp = editor_client.get(f"/admin/wechat/tracks/{other.id}")
    assert resp.status_code == 200
    assert "“全民终身学习活动周”还没有获奖作品，无法导出公众号图文" in resp.get_data(as_text=True)
    assert editor_client.get(f"/admin/wechat/tracks/{other.id}/download").status_code == 409
    assert editor_client.get(f"/admin/wechat/tracks/{other.id}/article").status_code == 404
    assert editor_client.get("/admin/wechat/tracks/999999").status_code == 404

    seeded = seed_winners(session, get_storage(app), posters=[factories.make_poster((900, 1200))],
                          units=["忻州职业技术学院"], finalise=False, editor=editor)
    html = editor_client.get(url(seeded)).get_data(as_text=True)
    assert "拟获奖（未确认发布）" in html and "忻州职业技术学院" not in html
    frame = editor_client.get(url(seeded, "/article")).get_data(as_text=True)
    assert "拟获奖名单（未确认发布）" in frame and "忻州职业技术学院" not in frame
    resp = editor_client.get(url(seeded, "/download"))
    assert "wechat_vet_week_provisional.zip" in resp.headers["Content-Disposition"]
    assert "%E6%8B%9F%E8%8E%B7%E5%A5%96.zip" in resp.headers["Content-Disposition"]  # 拟获奖


@pytest.mark.parametrize("tail", ["", "/article", "/download", "/covers/1x1.jpg",
                                  "/images/1/1.jpg"])
def test_role_walls(app, client, contest, entrant, juror, tail):
    target = f"/admin/wechat/tracks/{contest.track(TrackKind.vet_week).id}{tail}"
    assert login_client(app, entrant).get(target).status_code == 403
    assert login_client(app, juror).get(target).status_code == 403
    resp = client.get(target)
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]
