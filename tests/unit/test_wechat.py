"""The WeChat package (contest/wechat.py): open the ZIP and check every rule of issue #5 —
body widths, byte limits, no metadata, sRGB, cover sizes and focus, inline styles only,
image references, UTF-8 flags, BOMs, award order, limits, provisional marking, the CLI."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from contest import awards, wechat
from contest.errors import WechatError
from contest.messages import message_for
from contest.models import AuditEvent, AwardTier, TrackKind
from contest.storage import get_storage
from tests import factories
from tests.corpus_cases import metadata_problems
from tests.wechat_helpers import (jpeg_info, marker_centre, marker_poster, noisy_poster,
                                  open_zip, seed_winners)

MIB = 1024 * 1024
BOM = b"\xef\xbb\xbf"
WINDOWS_FORBIDDEN = set('\\:*?"<>|') | {chr(c) for c in range(32)}


@pytest.fixture
def storage(app):
    return get_storage(app)


class ArticleParser(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):  # noqa: ANN001, ANN201
        self.text.append(data)


def parse_article(zf) -> tuple[ArticleParser, str]:  # noqa: ANN001
    raw = zf.read("article.html")
    assert raw.startswith(BOM)  # a browser opening the file from disk reads it as UTF-8
    html = raw.decode("utf-8-sig")
    parser = ArticleParser()
    parser.feed(html)
    parser.close()
    return parser, html


def body_names(zf) -> list[str]:  # noqa: ANN001
    return [n for n in zf.namelist() if n.startswith("images/")]


# ----------------------------------------------------------------- pure rules


@pytest.mark.parametrize(("size", "aspect", "focus", "expected"), [
    ((1000, 500), 1.0, (0.5, 0.5), (250, 0, 750, 500)),      # centred
    ((1000, 500), 1.0, (0.9, 0.5), (500, 0, 1000, 500)),     # pushed against the right edge
    ((1000, 500), 1.0, (0.0, 0.0), (0, 0, 500, 500)),        # pushed against the left edge
    ((1000, 2000), 2.0, (0.5, 0.25), (0, 250, 1000, 750)),   # 1000x500 around y = 500
    ((1000, 2000), 2.0, (0.5, 1.0), (0, 1500, 1000, 2000)),  # bottom edge
    ((900, 383), 900 / 383, (0.1, 0.9), (0, 0, 900, 383)),   # exact shape: the whole image
])
def test_crop_box_keeps_the_focus_central_within_the_bounds(size, aspect, focus, expected):
    assert wechat.crop_box(size, aspect, focus) == expected


def test_slices_are_even_and_at_most_2400_px():
    assert wechat.slice_rows(1528) == [(0, 1528)]  # an A4 poster: one image
    assert wechat.slice_rows(2400) == [(0, 2400)]
    assert wechat.slice_rows(2401) == [(0, 1200), (1200, 1201)]
    rows = wechat.slice_rows(12600)
    assert len(rows) == 6 and sum(h for _, h in rows) == 12600
    assert all(h <= wechat.MAX_SLICE_HEIGHT_PX for _, h in rows)
    assert [t for t, _ in rows] == [0, 2100, 4200, 6300, 8400, 10500]


def test_image_names_are_safe_on_windows_and_capped():
    names = wechat.image_names(3, 2, "三等奖", '太原/城市:职业*学院 "新校区"',
                               "A<B>|C?\t" + "很长的作品名称" * 10, 1)
    title = ("很长的作品名称" * 4)[:18]  # the title part is capped at 24 characters
    assert names == [f"images/03_三等奖_太原_城市_职业_学院_新校区_A_B_C_{title}.jpg"]
    stem = names[0].removeprefix("images/")
    assert not (set(stem) & WINDOWS_FORBIDDEN) and "/" not in stem
    sliced = wechat.image_names(12, 3, "优秀奖", "单位", "作品", 2)
    assert sliced == ["images/012_优秀奖_单位_作品_1.jpg", "images/012_优秀奖_单位_作品_2.jpg"]


def test_title_and_digest_limits_are_checked():
    assert wechat.check_title("题" * 32) == "题" * 32
    with pytest.raises(WechatError) as err:
        wechat.check_title("题" * 33)
    assert message_for(err.value) == "标题不超过32个字（当前：33个字）"
    assert wechat.check_digest("  摘要\n" + "字" * 117 + " ") == "摘要 " + "字" * 117
    with pytest.raises(WechatError) as err:
        wechat.check_digest("字" * 121)
    assert message_for(err.value) == "摘要不超过120个字（当前：121个字）"
    with pytest.raises(WechatError) as err:
        wechat.parse_focus("1.2,0.5")
    assert "0到1之间" in message_for(err.value)
    assert wechat.parse_focus("0.25，0.75") == (0.25, 0.75)


def test_defaults_fit_the_limits_for_a_long_contest_name():
    name = "2024年山西省职业教育活动周和全民终身学习活动周主题宣传海报设计征集大赛"
    title = wechat.default_title(name, "全民终身学习活动周", True)
    assert len(title) <= 32 and "全民终身学习活动周" in title and title.endswith("获奖作品")
    assert wechat.default_title("短名", "职业教育活动周", False) == "短名职业教育活动周拟获奖作品"
    digest = wechat.default_digest(name * 3, "职业教育活动周", "《山西教育》杂志社", True,
                                   [("一等奖", 1), ("优秀奖", 4)])
    assert len(digest) == 120 and digest.endswith("…")


# ----------------------------------------------------------------- the ZIP


def test_body_images_are_1080_wide_under_1_mib_without_metadata(session, contest, storage,
                                                                 shared_dir):
    """A noisy A4 poster (over 1 MiB at quality 88, so the quality loop must work), a
    long poster (sliced), a landscape and real camera/ICC files from the corpus."""
    corpus = shared_dir / "corpus"
    posters = [noisy_poster(), factories.make_poster((1000, 6000), seed=2),
               factories.make_poster((2400, 1200), seed=3)]
    seeded = seed_winners(session, storage, posters=posters, quotas=(2, 2, 2, 10))
    extra = ["phone_4032x2012_gps_xmp.jpg", "exif_orient_6_stored_1200x1800.jpg",
             "icc_channel_swap_trap.jpg", "cmyk_adobe_app14.jpg"]
    unit = factories.make_unit(session, "运城职业技术大学")
    round_ = awards.source_round(session, seeded.track)
    for i, name in enumerate(extra):  # merit winners with the corpus originals
        entry = factories.make_entry(session, unit, title=f"实拍{i + 1}")
        factories.attach_original(session, entry, (corpus / name).read_bytes(),
                                  storage=storage, filename=name)
        for j, rj in enumerate(round_.jurors):
            factories.make_review(session, round_, entry, rj.juror, [50 - i + j])
    awards.reopen(session, seeded.track, factories.make_user(session, "admin"), "补充作品")
    awards.apply_placement(session, seeded.track, seeded.editor)
    awards.finalise(session, seeded.track, seeded.editor)
    session.commit()

    noisy_body = wechat.load_original(seeded.entries[0], storage).resize(
        (1080, 1528), Image.Resampling.LANCZOS)
    at_88 = io.BytesIO()
    noisy_body.save(at_88, "JPEG", quality=wechat.BODY_QUALITY, optimize=True)
    assert at_88.tell() > MIB  # without the quality loop this poster breaks the limit

    zf = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    names = body_names(zf)
    sizes = {}
    for name in names:
        data = zf.read(name)
        (w, h), mode, info = jpeg_info(data)
        assert w == 1080, name
        assert len(data) < MIB, (name, len(data))
        assert mode == "RGB" and "icc_profile" not in info and "exif" not in info, name
        assert metadata_problems(data) == [], name
        sizes[name] = (h, len(data))
    assert sizes["images/01_一等奖_第1职业技术学院_匠心筑梦1.jpg"][0] == 1528  # 3508 * 1080 / 2480
    long_parts = [n for n in names if n.startswith("images/02_")]
    assert len(long_parts) == 3 and [sizes[n][0] for n in long_parts] == [2160] * 3
    landscape = next(n for n in names if n.startswith("images/03_"))
    assert sizes[landscape][0] == 540
    rotated = next(n for n in names if "实拍2" in n)
    assert sizes[rotated][0] == 720  # displayed 1800x1200 (EXIF orientation 6) → 1080x720
    phone = zf.read(next(n for n in names if "实拍1" in n))
    for needle in (b"SAMSUNG", b"SM-G930F"):  # the camera's make and model are gone
        assert needle not in phone
    # sRGB: the profile that maps RGB to GBR was honoured, so each label's colour is right
    trap = np.asarray(Image.open(io.BytesIO(zf.read(next(n for n in names if "实拍3" in n)))),
                      dtype=float)
    for channel, (x, y) in {0: (500, 40), 1: (182, 818), 2: (818, 818)}.items():
        x, y = round(x * 1.08), round(y * 1.08)
        patch = trap[y - 4:y + 4, x - 4:x + 4].reshape(-1, 3).mean(axis=0)
        assert patch.argmax() == channel and patch[channel] > 200, (channel, patch)
    cmyk = jpeg_info(zf.read(next(n for n in names if "实拍4" in n)))
    assert cmyk[1] == "RGB"


def test_covers_are_cut_around_the_focus_from_the_chosen_winner(session, contest, storage):
    posters = [factories.make_poster((2000, 2828), seed=5), marker_poster((2000, 2828), seed=6)]
    seeded = seed_winners(session, storage, posters=posters)
    chosen = seeded.entries[1]  # the marker: an 8 % square centred at (0.8, 0.3)
    data = wechat.build_package(session, seeded.track, cover_entry=chosen, focus=(0.8, 0.3),
                                storage=storage)
    zf = open_zip(data)
    for name, size in (("cover_2.35x1.jpg", (900, 383)), ("cover_1x1.jpg", (500, 500))):
        raw = zf.read(name)
        assert jpeg_info(raw)[0] == size
        assert metadata_problems(raw) == [] and len(raw) < MIB
    # 2.35:1 from a 2000-wide image: 2000x851, top = round(0.3 * 2828 - 425.5) = 423, so the
    # marker lands at x = 0.8 * 900 = 720, y = (848.4 - 423) * 383 / 851 ≈ 191 (the middle)
    assert marker_centre(zf.read("cover_2.35x1.jpg")) == pytest.approx((720, 191), abs=3)
    # 1:1: 2000x2000 cannot centre y = 848 (top would be < 0), so it sits at the top edge:
    # marker at x = 1600 / 4 = 400, y = 848.4 / 4 ≈ 212
    assert marker_centre(zf.read("cover_1x1.jpg")) == pytest.approx((400, 212), abs=3)
    # the default: the first winner around (0.5, 0.4), which has no green marker
    default = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    assert marker_centre(default.read("cover_1x1.jpg")) is None


def test_cover_must_be_a_winner(session, contest, storage):
    seeded = seed_winners(session, storage, posters=[factories.make_poster((1200, 1700))])
    other = factories.make_entry(session, factories.make_unit(session), title="未获奖")
    with pytest.raises(WechatError) as err:
        wechat.build_package(session, seeded.track, cover_entry=other, storage=storage)
    assert message_for(err.value) == f"封面须取自本赛道的获奖作品（当前：{other.code}）"


def test_article_uses_only_allowed_tags_inline_styles_and_zip_images(session, contest,
                                                                      storage):
    hostile = '<script>alert(1)</script>" onerror="x'
    posters = [factories.make_poster((1200, 1700), seed=i) for i in range(3)]
    seeded = seed_winners(session, storage, posters=posters,
                          titles=[hostile, "青春<b>出彩</b>", "技能 & 梦想"],
                          units=['太原<i>城市</i>职业技术学院', "长治职业技术学院",
                                 "晋城职业技术学院"],
                          caption_event="<img src=x onerror=alert(1)>活动周")
    zf = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    parser, html = parse_article(zf)
    tags = {t for t, _ in parser.tags}
    assert tags <= wechat.ALLOWED_TAGS, tags - wechat.ALLOWED_TAGS
    assert {"section", "p", "span", "strong", "img", "br"} <= tags
    for tag, attrs in parser.tags:
        assert set(attrs) <= wechat.ALLOWED_ATTRIBUTES, (tag, attrs)
        if tag not in ("br", "strong"):  # plain line breaks and bold need no style
            assert attrs.get("style"), tag  # every styled element carries its style inline
    imgs = [attrs["src"] for tag, attrs in parser.tags if tag == "img"]
    assert imgs == body_names(zf)  # every image shown, in order, and each one is in the ZIP
    for tag, attrs in parser.tags:
        if tag == "img":
            assert attrs["alt"] and "width: 100%" in attrs["style"]
    for word in ("<style", "<script", "<link", " class=", " id="):
        assert word not in html  # entrant text arrives escaped (&lt;script&gt;)
    text = "".join(parser.text)
    assert hostile in text and "青春<b>出彩</b>" in text and "技能 & 梦想" in text
    assert "太原<i>城市</i>职业技术学院" in text and "<img src=x onerror=alert(1)>活动周" in text
    for needed in ("职业教育活动周获奖作品", "一等奖", "作者：作者1", "指导教师：指导教师1",
                   "图片说明：时间：2024年5月8日；地点：学校实训楼；人物：机电专业师生",
                   "《山西教育》杂志社"):
        assert needed in text


def test_award_order_numbering_and_utf8_flags(session, contest, storage):
    posters = [factories.make_poster((1200, 1700), seed=i) for i in range(5)]
    seeded = seed_winners(session, storage, posters=posters, quotas=(1, 1, 1, 10),
                          finalise=False)
    # an override: the best entry made 三等奖 (logged reason) moves behind 二等奖
    awards.override_award(session, seeded.track, seeded.entries[0], AwardTier.third,
                          "终评复议", seeded.editor)
    awards.finalise(session, seeded.track, seeded.editor)
    session.commit()
    expected = [(w.tier, w.entry.title) for w in awards.winners(session, seeded.track)]
    assert [t for t, _ in expected] == [AwardTier.first, AwardTier.second, AwardTier.third,
                                        AwardTier.third, AwardTier.merit]
    zf = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    names = body_names(zf)
    labels = {AwardTier.first: "一等奖", AwardTier.second: "二等奖", AwardTier.third: "三等奖",
              AwardTier.merit: "优秀奖"}
    for i, (name, (tier, title)) in enumerate(zip(names, expected, strict=True), start=1):
        assert name.startswith(f"images/{i:02d}_{labels[tier]}_") and title in name
    for info in zf.infolist():
        if not info.filename.isascii():
            assert info.flag_bits & 0x800, info.filename  # marked UTF-8 for Windows
    assert {"article.html", "cover_2.35x1.jpg", "cover_1x1.jpg", "winners.csv",
            "captions.txt"} <= set(zf.namelist())
    assert all(not (set(n) & WINDOWS_FORBIDDEN) for n in zf.namelist())
    rows = list(csv.reader(io.StringIO(zf.read("winners.csv").decode("utf-8-sig"))))
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        (f"{i:02d}", labels[t], title) for i, (t, title) in enumerate(expected, start=1)]
    parser, _ = parse_article(zf)
    badges = [d for d in parser.text if d in labels.values()]
    assert badges[:4] == ["一等奖", "二等奖", "三等奖", "优秀奖"]  # one heading per tier


def test_csv_and_captions_have_a_bom_and_the_right_rows(session, contest, storage):
    posters = [factories.make_poster((1200, 1700), seed=i) for i in range(2)]
    seeded = seed_winners(session, storage, posters=posters, titles=["=HYPERLINK(1)", "作品二"])
    zf = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    raw_csv = zf.read("winners.csv")
    assert raw_csv.startswith(BOM)
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert rows[0][:7] == ["序号", "奖项", "作品编号", "作品名称", "参赛单位", "作者", "指导教师"]
    assert rows[0][7:] == ["图片说明：时间", "图片说明：地点", "图片说明：人物", "图片说明：事件",
                           "图片文件", "结果状态"]
    first = rows[1]
    assert first[:7] == ["01", "一等奖", seeded.entries[0].code, "'=HYPERLINK(1)",
                         "第1职业技术学院", "作者1", "指导教师1"]
    assert first[7:11] == ["2024年5月8日", "学校实训楼", "机电专业师生", "职业教育活动周开放日"]
    assert first[11] in zf.namelist() and first[12] == "已确认发布"
    raw_captions = zf.read("captions.txt")
    assert raw_captions.startswith(BOM)
    assert b"\n" in raw_captions and raw_captions.count(b"\n") == raw_captions.count(b"\r\n")
    captions = raw_captions.decode("utf-8-sig")
    assert "01　一等奖　《=HYPERLINK(1)》" in captions
    assert "参赛单位：第1职业技术学院" in captions and "指导教师：指导教师2" in captions
    assert ("图片说明：时间：2024年5月8日；地点：学校实训楼；人物：机电专业师生；"
            "事件：职业教育活动周开放日") in captions
    assert f"图片文件：{first[11]}" in captions


def test_a_track_without_winners_is_refused(session, contest, storage):
    track = contest.track(TrackKind.lifelong_week)
    with pytest.raises(WechatError) as err:
        wechat.build_package(session, track, storage=storage)
    assert message_for(err.value) == "“全民终身学习活动周”还没有获奖作品，无法导出公众号图文"


def test_provisional_package_is_marked_and_withholds_names(session, contest, storage):
    posters = [factories.make_poster((1200, 1700), seed=i) for i in range(2)]
    seeded = seed_winners(session, storage, posters=posters, finalise=False,
                          units=["太原城市职业技术学院", "长治职业技术学院"])
    plan = wechat.plan_package(session, seeded.track, storage=storage)
    assert not plan.is_final and plan.zip_name == "职业教育活动周_公众号图文_拟获奖.zip"
    zf = open_zip(wechat.build_package(session, seeded.track, storage=storage))
    _, html = parse_article(zf)
    assert "拟获奖作品" in html and "拟获奖名单（未确认发布）" in html
    everything = html + zf.read("winners.csv").decode("utf-8-sig") + \
        zf.read("captions.txt").decode("utf-8-sig") + " ".join(zf.namelist())
    for secret in ("太原城市职业技术学院", "长治职业技术学院", "作者1", "指导教师2"):
        assert secret not in everything  # finalising is what reveals names
    assert "（确认发布后显示）" in html
    assert body_names(zf)[0] == f"images/01_一等奖_{seeded.entries[0].code}_匠心筑梦1.jpg"
    assert "拟获奖（未确认发布）" in zf.read("winners.csv").decode("utf-8-sig")
    assert wechat.plan_package(session, seeded.track, storage=storage).title.endswith(
        "拟获奖作品")


def test_export_is_logged(session, contest, storage):
    seeded = seed_winners(session, storage, posters=[factories.make_poster((1200, 1700))])
    wechat.build_package(session, seeded.track, title="自定义标题", focus=(0.2, 0.6),
                         storage=storage, actor=seeded.editor)
    session.commit()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.wechat"))
    assert event.actor_id == seeded.editor.id and event.object_id == seeded.track.id
    assert event.new["title"] == "自定义标题" and event.new["focus"] == [0.2, 0.6]
    assert event.new["winners"] == 1 and event.new["is_final"] is True


def test_missing_original_is_a_clear_error(session, contest, storage):
    seeded = seed_winners(session, storage, posters=[factories.make_poster((1200, 1700))])
    original = seeded.entries[0].current_file()
    storage.path(original.storage_key).unlink()
    with pytest.raises(WechatError) as err:
        wechat.build_package(session, seeded.track, storage=storage)
    assert message_for(err.value) == f"作品 {seeded.entries[0].code} 的原图文件缺失，无法导出"


# ----------------------------------------------------------------- CLI


def test_export_wechat_command(runner, session, contest, storage, tmp_path: Path):
    posters = [factories.make_poster((1200, 1700), seed=1), marker_poster((1200, 1700), seed=2)]
    seeded = seed_winners(session, storage, posters=posters)
    out = tmp_path / "公众号.zip"
    result = runner.invoke(args=["export-wechat", "--track", "vet_week", "--out", str(out),
                                 "--cover", seeded.entries[1].code, "--focus", "0.8,0.3"])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output and "2件获奖作品" in result.output
    zf = open_zip(out.read_bytes())
    assert marker_centre(zf.read("cover_1x1.jpg")) is not None
    assert len(body_names(zf)) == 2

    bad = runner.invoke(args=["export-wechat", "--track", "vet_week", "--out", str(out),
                              "--title", "题" * 33])
    assert bad.exit_code != 0 and "标题不超过32个字（当前：33个字）" in bad.output
    empty = runner.invoke(args=["export-wechat", "--track", "lifelong_week", "--out",
                                str(tmp_path / "x.zip")])
    assert empty.exit_code != 0 and "还没有获奖作品" in empty.output
    assert not (tmp_path / "x.zip").exists()
