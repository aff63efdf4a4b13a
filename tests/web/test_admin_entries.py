"""Editors' entries pages: filters with counts, statistics, detail, original download with a
Chinese file name, previews, role walls; and the editors' dashboard."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

import pytest

from contest import entries as entries_service
from contest.models import EntryStatus, FileKind, Role, TrackKind, UnitType, log_event
from contest.storage import get_storage
from tests import factories
from tests.conftest import login_client


def _entry_with_image(app, session, unit, *, title,  # noqa: ANN001, ANN202
                      track=TrackKind.vet_week, seed=1, filename="海报.jpg", tmp_path):
    """A submitted entry stored through the entries service (real original, preview, thumb).
    The `arranged` contest switches the width and size rules off, so small posters do."""
    data = factories.poster_bytes(factories.make_poster((320, 416), seed=seed))
    src = tmp_path / f"upload-{seed}.jpg"
    src.write_bytes(data)
    contest = factories.get_contest(session)
    prepared = entries_service.prepare_image(
        src, rules=entries_service.intake_rules(contest, app.config["MAX_IMAGE_PIXELS"]),
        storage=get_storage(app), original_filename=filename,
        preview_long_edge_px=app.config["PREVIEW_LONG_EDGE_PX"],
        thumb_long_edge_px=app.config["THUMB_LONG_EDGE_PX"])
    entry = factories.make_entry(session, unit, track=track, title=title,
                                 status=EntryStatus.draft)
    entries_service.attach_image(session, entry, prepared, actor=None)
    data_sent = entries_service.EntryData.from_entry(entry)
    data_sent.ai_use = entry.ai_use  # as declared on the form
    entries_service.submit_entry(session, entry, actor=None, data=data_sent)
    session.commit()
    return entry, data


@pytest.fixture
def arranged(app, session, contest, tmp_path):  # noqa: ANN001, ANN201
    """Three units in two cities; four entries of different tracks and statuses, two with
    real stored images. Width and size rules are off (this file tests the editors' pages,
    not intake), which keeps the images small and the tests fast."""
    contest.min_width_px = contest.min_size_bytes = None
    ty = factories.make_unit(session, "山西工程科技职业大学", city="晋中市")
    tc = factories.make_unit(session, "太原城市职业技术学院", city="太原市")
    dt = factories.make_unit(session, "大同市第一职业中学", city="大同市",
                             unit_type=UnitType.secondary_vocational)
    factories.make_unit(session, "山西开放大学", city="太原市",
                        unit_type=UnitType.open_university)  # registered, no entries
    session.commit()
    with app.app_context():
        a, data_a = _entry_with_image(app, session, ty, title="匠心筑梦 技能成才", seed=1,
                                      tmp_path=tmp_path)
        b, _ = _entry_with_image(app, session, tc, title="终身学习 点亮人生", seed=2,
                                 track=TrackKind.lifelong_week, tmp_path=tmp_path)
    c = factories.make_entry(session, dt, title="暂存中的作品", status=EntryStatus.draft)
    d = factories.make_entry(session, dt, title="被取消的作品",
                             status=EntryStatus.disqualified)
    session.commit()
    return {"a": a, "b": b, "c": c, "d": d, "data_a": data_a}


def _text(r) -> str:  # noqa: ANN001
    return r.get_data(as_text=True)


def test_list_shows_all_entries_with_counts(editor_client, arranged):
    r = editor_client.get("/admin/entries/")
    assert r.status_code == 200
    html = _text(r)
    for title in ("匠心筑梦 技能成才", "终身学习 点亮人生", "暂存中的作品", "被取消的作品"):
        assert title in html
    assert "共 4 件作品" in html
    assert "职业教育活动周（3）" in html and "全民终身学习活动周（1）" in html
    assert "大同市（2）" in html and "晋中市（1）" in html and "临汾市（0）" in html
    assert "中职学校（2）" in html
    assert "已提交（2）" in html and "暂存（1）" in html


def test_filters_narrow_the_list_and_counts_follow_other_filters(editor_client, arranged):
    r = editor_client.get("/admin/entries/?track=vet_week&city=140200")
    html = _text(r)
    assert "共 2 件作品" in html
    assert "暂存中的作品" in html and "被取消的作品" in html
    assert "匠心筑梦" not in html
    # track counts apply the city filter only; city counts apply the track filter only
    assert "职业教育活动周（2）" in html and "全民终身学习活动周（0）" in html
    assert "晋中市（1）" in html and "大同市（2）" in html
    r = editor_client.get("/admin/entries/?unit_type=higher_vocational&status=submitted")
    html = _text(r)
    assert "共 2 件作品" in html and "暂存中的作品" not in html
    r = editor_client.get("/admin/entries/?q=点亮")
    assert "共 1 件作品" in _text(r)


def test_unknown_filter_values_show_everything_instead_of_failing(editor_client, arranged):
    r = editor_client.get("/admin/entries/?track=nope&city=x&status=evil&page=99")
    assert r.status_code == 200
    assert "共 4 件作品" in _text(r)


def test_statistics_per_city_and_unit_type_count_submitted_entries(editor_client, arranged):
    html = _text(editor_client.get("/admin/entries/"))
    stats = html[html.index('id="stats"'):]
    rows = {m[0]: m[1:] for m in re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>\s*"
        r"<td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>",
        stats)}
    # registered units, participating units, VET week, lifelong week, total
    assert rows["太原市"] == ("2", "1", "0", "1", "1")
    assert rows["大同市"] == ("1", "0", "0", "0", "0")  # a draft and a disqualified entry
    assert rows["晋中市"] == ("1", "1", "1", "0", "1")
    assert rows["高职院校"] == ("2", "2", "1", "1", "2")
    assert rows["开放大学"] == ("1", "0", "0", "0", "0")
    assert "<th>合计</th><th class=\"num\">4</th><th class=\"num\">2</th>" in stats


def test_detail_shows_fields_file_facts_preview_and_history(app, session, editor_client,
                                                            arranged, editor):
    a = arranged["a"]
    log_event(session, editor, "entry.disqualify", a, old={"status": "submitted"},
              new={"status": "disqualified"}, reason="抄袭往届作品")
    session.commit()
    html = _text(editor_client.get(f"/admin/entries/{a.id}"))
    original = a.current_file(FileKind.original)
    assert a.code in html and "山西工程科技职业大学" in html and "晋中市" in html
    for value in ("张三、李四", "王老师", "学校实训楼", "机电专业师生", "宣传部 赵老师"):
        assert value in html
    assert original.sha256 in html
    assert "320 × 416 像素" in html
    assert f"{original.size_bytes:,} 字节" in html
    assert "海报.jpg" in html  # the entrant's file name, as data
    assert "山西工程科技职业大学-匠心筑梦 技能成才.jpg" in html
    preview = a.current_file(FileKind.preview)
    assert f"/admin/entries/files/{preview.id}" in html
    assert "已提交 → 已取消参赛资格" in html and "抄袭往届作品" in html and "编辑一" in html


def test_download_sends_original_bytes_with_chinese_name(editor_client, arranged):
    a = arranged["a"]
    r = editor_client.get(f"/admin/entries/{a.id}/download")
    assert r.status_code == 200
    assert r.data == arranged["data_a"]
    assert hashlib.sha256(r.data).hexdigest() == a.current_file(FileKind.original).sha256
    assert r.mimetype == "image/jpeg"
    name = "山西工程科技职业大学-匠心筑梦 技能成才.jpg"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="{a.code}.jpg"; '
        f"filename*=UTF-8''{quote(name, safe='')}")
    # the header is pure ASCII (latin-1 safe) so every client and proxy can carry it
    r.headers["Content-Disposition"].encode("ascii")


def test_download_name_drops_characters_that_break_file_names(app, session, editor_client,
                                                              arranged):
    a = arranged["a"]
    a.title = '职教/活动周:"海报"?'
    session.commit()
    r = editor_client.get(f"/admin/entries/{a.id}/download")
    assert quote("山西工程科技职业大学-职教_活动周_海报_.jpg", safe="") in \
        r.headers["Content-Disposition"]


def test_download_of_entry_without_image_or_another_entrys_file_is_404(editor_client,
                                                                       arranged):
    assert editor_client.get(f"/admin/entries/{arranged['c'].id}/download").status_code == 404
    other_file = arranged["b"].current_file(FileKind.original)
    r = editor_client.get(f"/admin/entries/{arranged['a'].id}/download?file={other_file.id}")
    assert r.status_code == 404
    assert editor_client.get("/admin/entries/999999").status_code == 404


def test_editor_images_serve_preview_and_thumb_but_not_original(editor_client, arranged):
    a = arranged["a"]
    thumb = a.current_file(FileKind.thumb)
    r = editor_client.get(f"/admin/entries/files/{thumb.id}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert hashlib.sha256(r.data).hexdigest() == thumb.sha256
    original = a.current_file(FileKind.original)
    assert editor_client.get(f"/admin/entries/files/{original.id}").status_code == 404


EDITOR_URLS = ("/admin/", "/admin/entries/", "/admin/entries/{a}", "/admin/entries/{a}/download",
               "/admin/entries/files/{thumb}")


@pytest.mark.parametrize("role", [Role.entrant, Role.juror])
def test_entrants_and_jurors_are_refused(app, session, arranged, role):
    user = factories.make_user(session, role, unit=arranged["a"].unit)  # even its own unit's
    session.commit()
    c = login_client(app, user)
    ids = {"a": arranged["a"].id, "thumb": arranged["a"].current_file(FileKind.thumb).id}
    for url in EDITOR_URLS:
        assert c.get(url.format(**ids)).status_code == 403, url


def test_anonymous_visitor_is_sent_to_login(client, arranged):
    ids = {"a": arranged["a"].id, "thumb": arranged["a"].current_file(FileKind.thumb).id}
    for url in EDITOR_URLS:
        r = client.get(url.format(**ids))
        assert r.status_code == 302 and "/auth/login" in r.location, url


def test_admin_role_sees_the_list_too(app, session, contest):
    c = login_client(app, factories.make_user(session, Role.admin))
    session.commit()
    assert c.get("/admin/entries/").status_code == 200


def test_dashboard_counts_deadline_and_links(editor_client, arranged):
    html = _text(editor_client.get("/admin/"))
    assert "截止时间" in html and "征集中" in html
    assert "/admin/entries/?track=vet_week&amp;status=submitted" in html
    assert "/admin/dedup/" in html and "/admin/rounds/" in html and "/admin/results/" in html
    assert "2 / 4" in html  # participating / registered units


def test_pages_without_a_contest_explain_what_to_do(app, session, editor):
    from contest.models import Contest

    for c in session.query(Contest):
        c.is_archived = True
    session.commit()
    client = login_client(app, editor)
    for url in ("/admin/", "/admin/entries/"):
        r = client.get(url)
        assert r.status_code == 200 and "尚未创建比赛" in _text(r)
