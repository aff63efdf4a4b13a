"""The entrant journey through the test client: dashboard, new entry, rules shown at once,
deadline, quota, isolation between units, image replacement, withdrawal, downloads."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from contest import db
from contest.models import Entry, EntryFile, EntryStatus, FileKind, Role, User
from tests import factories
from tests.conftest import login_client
from tests.entry_helpers import MIB, poster_data, post_entry, stored_files

DEADLINE_UTC = datetime(2024, 5, 12, 15, 59, tzinfo=timezone.utc)  # 23:59 China time


def _rules(html: str) -> list[str]:
    """The rule codes listed in the error summary."""
    return re.findall(r'<li data-rule="([a-z_]+)"', html)


def _entries(app) -> list[Entry]:  # noqa: ANN001
    with app.app_context():
        s = db.new_session(app)
        try:
            return list(s.scalars(select(Entry).order_by(Entry.id)))
        finally:
            s.close()


def _files(app, entry_id: int) -> list[EntryFile]:  # noqa: ANN001
    with app.app_context():
        s = db.new_session(app)
        try:
            return list(s.scalars(select(EntryFile).where(EntryFile.entry_id == entry_id)
                                  .order_by(EntryFile.id)))
        finally:
            s.close()


def _submit_one(client, seed: int = 1, **kw):  # noqa: ANN001, ANN201
    r = post_entry(client, image=poster_data(seed), **kw)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    return r


# ---------------------------------------------------------------------------- dashboard


def test_dashboard_shows_both_tracks_quota_and_deadline_in_china_time(session, app, entrant):
    contest = factories.get_contest(session)
    contest.submissions_close_at = datetime.now(timezone.utc).replace(
        hour=15, minute=59, second=0, microsecond=0) + timedelta(days=3)
    session.commit()
    client = login_client(app, entrant)
    html = client.get("/submit/").get_data(as_text=True)
    assert "职业教育活动周" in html and "全民终身学习活动周" in html
    local = contest.submissions_close_at + timedelta(hours=8)
    assert f"{local.year}年{local.month}月{local.day}日 23:59" in html
    assert "北京时间" in html and "还剩" in html
    assert html.count("还可提交 <b class=\"remaining\">3</b> 件") == 2


def test_valid_submission_gets_a_code_and_shows_on_the_dashboard(client, app, entrant):
    client = login_client(app, entrant)
    r = _submit_one(client)
    entry = _entries(app)[0]
    assert r.headers["Location"].endswith(f"/submit/entries/{entry.id}")
    assert entry.status == EntryStatus.submitted and entry.code == "ZJ2024-0001"
    assert entry.source == "web" and entry.created_by_id == entrant.id
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "作品已提交，作品编号 ZJ2024-0001" in detail
    html = client.get("/submit/").get_data(as_text=True)
    assert "ZJ2024-0001" in html and "匠心筑梦 技能成才" in html
    assert f"/submit/entries/{entry.id}/files/thumb" in html
    assert "还可提交 <b class=\"remaining\">2</b> 件" in html
    thumb = client.get(f"/submit/entries/{entry.id}/files/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.data[:3] == b"\xff\xd8\xff"


def test_codes_count_per_track(client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client, seed=1)
    _submit_one(client, seed=2)
    _submit_one(client, seed=3, track="lifelong_week")
    assert [e.code for e in _entries(app)] == ["ZJ2024-0001", "ZJ2024-0002", "ZS2024-0001"]


# ---------------------------------------------------------------------------- rules


def test_draft_needs_nothing_but_submit_lists_every_missing_rule_at_once(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, action="draft", title="只写了名称", authors=None, statement=None,
                   caption_time=None, caption_place=None, caption_people=None,
                   caption_event=None, ai_use=None, content_review_confirmed=None,
                   content_reviewer=None, originality_confirmed=None)
    assert r.status_code == 302
    entry = _entries(app)[0]
    assert entry.status == EntryStatus.draft and entry.code is None
    r = client.post(f"/submit/entries/{entry.id}/edit", data={"action": "submit",
                                                              "title": "只写了名称"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert set(_rules(html)) == {"required", "caption_missing", "ai_use_missing",
                                 "content_review_missing", "content_reviewer_missing",
                                 "originality_missing", "image_missing"}
    for text in ("请填写作者", "请填写设计说明", "图片说明需写明时间、地点、人物、事件（当前未填写：地点）",
                 "请选择是否使用AI生成/辅助", "请确认作品已经过本单位宣传部门意识形态审核",
                 "请填写宣传部门审核人姓名", "请勾选原创承诺", "请上传海报图片"):
        assert text in html
    assert _entries(app)[0].status == EntryStatus.draft


@pytest.mark.parametrize("missing", ["caption_time", "caption_place", "caption_people",
                                     "caption_event"])
def test_missing_caption_part_keeps_the_draft_and_its_image(client, app, entrant, missing):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(4), **{missing: "  "})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    part = {"caption_time": "时间", "caption_place": "地点", "caption_people": "人物",
            "caption_event": "事件"}[missing]
    assert f"图片说明需写明时间、地点、人物、事件（当前未填写：{part}）" in html
    assert _rules(html) == ["caption_missing"]
    assert "作品已暂存，但还不能提交" in html
    entry = _entries(app)[0]
    assert entry.status == EntryStatus.draft and entry.code is None
    assert any(f.kind == FileKind.original and f.is_current for f in _files(app, entry.id))
    assert f'action="/submit/entries/{entry.id}/edit"' in html  # the next post edits it


def test_statement_300_characters_accepted_301_refused(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(5), statement="字" * 301)
    assert r.status_code == 422
    assert "设计说明不超过300字（当前：301字）" in r.get_data(as_text=True)
    entry = _entries(app)[0]
    r = client.post(f"/submit/entries/{entry.id}/edit",
                    data={**_form_of(entry), "statement": "字" * 300, "action": "submit"})
    assert r.status_code == 302
    assert _entries(app)[0].status == EntryStatus.submitted


def test_statement_line_breaks_count_once_as_the_browser_shows_them(client, app, entrant):
    # a textarea posts "\r\n"; the rule counts characters as the entrant sees them
    client = login_client(app, entrant)
    statement = ("字" * 49 + "\r\n") * 6  # 6 × 50 = 300 characters with '\n'
    _submit_one(client, statement=statement)
    assert len(_entries(app)[0].statement) == 299  # trailing line break stripped


def test_declarations_are_required_to_submit(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(6), content_review_confirmed=None,
                   originality_confirmed=None, ai_use=None, content_reviewer="")
    assert r.status_code == 422
    assert set(_rules(r.get_data(as_text=True))) == {
        "content_review_missing", "content_reviewer_missing", "originality_missing",
        "ai_use_missing"}
    assert _entries(app)[0].status == EntryStatus.draft


def test_failed_image_upload_keeps_every_typed_field(client, app, entrant):
    client = login_client(app, entrant)
    narrow = poster_data(7, (1500, 2000), nbytes=2 * MIB + 100)
    r = post_entry(client, image=narrow, title="我的标题<b>", statement="我写的说明",
                   caption_place="图书馆")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "图片宽度不低于2000像素（当前：1500像素）" in html
    assert 'value="我的标题&lt;b&gt;"' in html and "我写的说明" in html
    assert 'value="图书馆"' in html and 'value="宣传部 赵老师"' in html
    assert _entries(app) == []
    assert stored_files(app.config["UPLOAD_DIR"]) == []


def test_image_too_small_in_bytes_and_too_narrow_names_both_rules(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(8, (1800, 2400), nbytes=MIB))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "单张图片不低于2MB、不高于10MB（当前：1MB）" in html
    assert "图片宽度不低于2000像素（当前：1800像素）" in html


@pytest.mark.parametrize("nbytes,ok", [(2 * MIB - 1, False), (2 * MIB, True),
                                       (10 * MIB, True), (10 * MIB + 1, False)])
def test_size_boundaries_mb_is_1024x1024(client, app, entrant, nbytes, ok):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(9, nbytes=nbytes))
    assert (r.status_code == 302) is ok, r.get_data(as_text=True)[:500]
    if ok:
        original = next(f for f in _files(app, _entries(app)[0].id)
                        if f.kind == FileKind.original)
        assert original.size_bytes == nbytes
    else:
        html = r.get_data(as_text=True)
        assert re.search(r"单张图片不低于2MB、不高于10MB（当前：(1\.99|10\.0)\d*MB）", html), html
        assert stored_files(app.config["UPLOAD_DIR"]) == []


def test_chinese_file_name_is_kept_as_data_only(client, app, entrant):
    client = login_client(app, entrant)
    name = unicodedata.normalize("NFD", "海报 作品（终稿）<script>.JPG")
    _submit_one(client, filename=f"我的文件夹/{name}")
    files = _files(app, _entries(app)[0].id)
    original = next(f for f in files if f.kind == FileKind.original)
    assert original.original_filename == "海报 作品（终稿）<script>.JPG"  # NFC, no path
    for f in files:
        assert f.storage_key.isascii() and "海报" not in f.storage_key
    assert original.storage_key == f"originals/{original.sha256[:2]}/{original.sha256[2:4]}/" \
                                   f"{original.sha256}.jpg"
    assert all(p.isascii() for p in stored_files(app.config["UPLOAD_DIR"]))
    html = client.get(f"/submit/entries/{original.entry_id}").get_data(as_text=True)
    assert "海报 作品（终稿）&lt;script&gt;.JPG" in html and "<script>.JPG" not in html


def test_original_bytes_are_stored_unchanged_and_downloaded_with_a_chinese_name(
        client, app, entrant):
    client = login_client(app, entrant)
    data = poster_data(10)
    _submit_one(client, seed=10)
    entry = _entries(app)[0]
    r = client.get(f"/submit/entries/{entry.id}/original")
    assert r.status_code == 200 and r.data == data
    disposition = r.headers["Content-Disposition"]
    assert 'filename="ZJ2024-0001.jpg"' in disposition
    assert "filename*=UTF-8''" in disposition and "%E5%8C%A0" in disposition  # 匠


# ---------------------------------------------------------------------- deadline, quota


def _close(session, when: datetime = DEADLINE_UTC) -> None:  # noqa: ANN001
    contest = factories.get_contest(session)
    contest.submissions_close_at = when
    session.commit()


def test_after_the_deadline_everything_is_read_only(session, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client)
    post_entry(client, action="draft", title="草稿")
    submitted, draft = _entries(app)
    _close(session)
    html = client.get("/submit/").get_data(as_text=True)
    assert "已截止" in html and "新建作品" not in html
    r = client.get("/submit/entries/new?track=vet_week", follow_redirects=True)
    assert "已超过截止时间（2024年5月12日 23:59），无法新建作品" in r.get_data(as_text=True)
    r = post_entry(client, image=poster_data(11))
    assert r.status_code == 302 and len(_entries(app)) == 2
    for entry in (submitted, draft):
        page = client.get(f"/submit/entries/{entry.id}").get_data(as_text=True)
        assert "只能查看，不能再修改" in page and "/edit" not in page
        r = client.post(f"/submit/entries/{entry.id}/edit",
                        data={**_form_of(entry), "title": "改了"}, follow_redirects=True)
        assert "已超过截止时间（2024年5月12日 23:59），无法修改" in r.get_data(as_text=True)
        r = client.post(f"/submit/entries/{entry.id}/withdraw", data={"confirm": "y"},
                        follow_redirects=True)
        assert "无法撤回" in r.get_data(as_text=True)
        r = client.post(f"/submit/entries/{entry.id}/image",
                        data={"image": (io.BytesIO(poster_data(12)), "a.jpg")},
                        content_type="multipart/form-data", follow_redirects=True)
        assert "无法替换图片" in r.get_data(as_text=True)
    r = client.post(f"/submit/entries/{draft.id}/submit", follow_redirects=True)
    assert "已超过截止时间（2024年5月12日 23:59），无法提交" in r.get_data(as_text=True)
    after = _entries(app)
    assert [e.title for e in after] == [submitted.title, "草稿"]
    assert [e.status for e in after] == [EntryStatus.submitted, EntryStatus.draft]


def test_quota_counts_submitted_entries_per_track(session, app, entrant):
    for i in range(3):
        factories.make_entry(session, entrant.unit, title=f"已交{i}")
    factories.make_entry(session, entrant.unit, title="撤回的",
                         status=EntryStatus.withdrawn)
    session.commit()
    client = login_client(app, entrant)
    assert "已达上限" in client.get("/submit/").get_data(as_text=True)
    form = client.get("/submit/entries/new?track=vet_week").get_data(as_text=True)
    assert "已达上限：现在只能暂存" in form
    r = post_entry(client, image=poster_data(13))
    assert r.status_code == 422
    assert "每个单位在“职业教育活动周”赛道最多提交3件作品（当前已提交：3件）" in r.get_data(as_text=True)
    fourth = _entries(app)[-1]
    assert fourth.status == EntryStatus.draft  # kept, with its image, to submit later
    _submit_one(client, seed=14, track="lifelong_week")  # the other track has its own quota
    # withdrawing one frees a place
    first = _entries(app)[0]
    r = client.post(f"/submit/entries/{first.id}/withdraw", data={"confirm": "y"})
    assert r.status_code == 302
    r = client.post(f"/submit/entries/{fourth.id}/edit",
                    data={**_form_of(fourth), "action": "submit"})
    assert r.status_code == 302
    assert next(e for e in _entries(app) if e.id == fourth.id).status == EntryStatus.submitted


def test_withdraw_needs_confirmation_and_resubmission_keeps_the_code(client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client)
    entry = _entries(app)[0]
    page = client.get(f"/submit/entries/{entry.id}/withdraw").get_data(as_text=True)
    assert "我确认撤回该作品" in page
    client.post(f"/submit/entries/{entry.id}/withdraw", data={})
    assert _entries(app)[0].status == EntryStatus.submitted
    client.post(f"/submit/entries/{entry.id}/withdraw", data={"confirm": "y"})
    assert _entries(app)[0].status == EntryStatus.withdrawn
    r = client.post(f"/submit/entries/{entry.id}/submit")
    assert r.status_code == 302
    again = _entries(app)[0]
    assert again.status == EntryStatus.submitted and again.code == "ZJ2024-0001"


def test_editing_a_submitted_entry_cannot_break_a_rule(client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client)
    entry = _entries(app)[0]
    form = _form_of(entry)
    r = client.post(f"/submit/entries/{entry.id}/edit",
                    data={**form, "caption_event": "", "action": "submit"})
    assert r.status_code == 422 and "当前未填写：事件" in r.get_data(as_text=True)
    assert _entries(app)[0].caption_event == entry.caption_event
    r = client.post(f"/submit/entries/{entry.id}/edit",
                    data={**form, "title": "新标题", "action": "submit"})
    assert r.status_code == 302
    assert _entries(app)[0].title == "新标题"
    assert _entries(app)[0].status == EntryStatus.submitted
    with app.app_context():
        from contest.models import AuditEvent

        (event,) = db.new_session(app).scalars(
            select(AuditEvent).where(AuditEvent.action == "entry.update")).all()
        assert event.object_id == entry.id and event.actor_id == entrant.id
        assert event.old == {"title": entry.title} and event.new == {"title": "新标题"}


def test_disqualified_entry_shows_its_reason_and_is_read_only(session, app, entrant):
    entry = factories.make_entry(session, entrant.unit, status=EntryStatus.disqualified,
                                 status_reason="与往届获奖作品重复")
    session.commit()
    client = login_client(app, entrant)
    html = client.get(f"/submit/entries/{entry.id}").get_data(as_text=True)
    assert "已取消参赛资格" in html and "与往届获奖作品重复" in html
    r = client.get(f"/submit/entries/{entry.id}/edit", follow_redirects=True)
    assert "该作品已取消参赛资格，不能再修改" in r.get_data(as_text=True)


# ---------------------------------------------------------------------------- images


def test_replace_image_keeps_history_and_code(client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client, seed=15)
    entry = _entries(app)[0]
    r = client.post(f"/submit/entries/{entry.id}/image",
                    data={"image": (io.BytesIO(poster_data(16, (2400, 3000))), "新图.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    files = _files(app, entry.id)
    current = [f for f in files if f.is_current]
    assert {f.kind for f in current} == {FileKind.original, FileKind.preview, FileKind.thumb,
                                         FileKind.juror_display, FileKind.juror_thumb}
    assert next(f for f in current if f.kind == FileKind.original).width_px == 2400
    # the juror image was rebuilt from the new 2400x3000 original (long edge 2560 px)
    display = next(f for f in current if f.kind == FileKind.juror_display)
    assert (display.width_px, display.height_px) == (2048, 2560)
    assert len([f for f in files if f.kind == FileKind.original]) == 2  # history kept
    assert _entries(app)[0].code == "ZJ2024-0001"
    stored = stored_files(app.config["UPLOAD_DIR"])
    assert all(f.storage_key in stored for f in files)  # history files stay in storage


def test_refused_replacement_changes_nothing_and_leaves_no_file(client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client, seed=17)
    entry = _entries(app)[0]
    before = stored_files(app.config["UPLOAD_DIR"])
    rows_before = sorted((f.id, f.kind, f.is_current) for f in _files(app, entry.id))
    r = client.post(f"/submit/entries/{entry.id}/image",
                    data={"image": (io.BytesIO(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\0" * 64),
                                    "伪装.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    assert "图片格式仅支持 JPG、PNG（当前文件实际为 WebP 格式）" in r.get_data(as_text=True)
    assert stored_files(app.config["UPLOAD_DIR"]) == before
    assert sorted((f.id, f.kind, f.is_current) for f in _files(app, entry.id)) == rows_before


def test_duplicate_refused_upload_leaves_nothing_but_keeps_the_shared_original(
        client, app, entrant):
    client = login_client(app, entrant)
    _submit_one(client, seed=18)
    before = stored_files(app.config["UPLOAD_DIR"])
    r = post_entry(client, image=poster_data(18), title="同一张图再投一次")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "ZJ2024-0001" in html and "重复" in html
    assert _rules(html) == ["duplicate_refused"]
    assert 'value="同一张图再投一次"' in html
    assert len(_entries(app)) == 1
    assert stored_files(app.config["UPLOAD_DIR"]) == before  # the original is still there
    entry = _entries(app)[0]
    assert client.get(f"/submit/entries/{entry.id}/original").data == poster_data(18)


# -------------------------------------------------------------------------- isolation


@pytest.fixture
def other_entry(session, app):  # noqa: ANN001, ANN201
    """A submitted entry with an image, of another unit."""
    other = factories.make_user(session, Role.entrant, login="school2")
    session.commit()
    client = login_client(app, other)
    _submit_one(client, seed=19, title="别的单位的作品")
    return _entries(app)[-1]


def test_another_units_entry_is_404_everywhere(app, entrant, other_entry):
    client = login_client(app, entrant)
    eid = other_entry.id
    missing = 999_999
    for url in (f"/submit/entries/{eid}", f"/submit/entries/{eid}/edit",
                f"/submit/entries/{eid}/image", f"/submit/entries/{eid}/withdraw",
                f"/submit/entries/{eid}/files/preview", f"/submit/entries/{eid}/files/thumb",
                f"/submit/entries/{eid}/original"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert client.get(url.replace(str(eid), str(missing))).get_data() == r.get_data()
    for url in (f"/submit/entries/{eid}/edit", f"/submit/entries/{eid}/submit",
                f"/submit/entries/{eid}/withdraw", f"/submit/entries/{eid}/image"):
        assert client.post(url, data={"title": "抢", "confirm": "y"}).status_code == 404, url
    html = client.get("/submit/").get_data(as_text=True)
    assert "别的单位的作品" not in html
    after = _entries(app)[-1]
    assert after.title == "别的单位的作品" and after.status == EntryStatus.submitted


def test_entrant_account_without_a_unit_sees_a_notice_only(session, app, contest):
    user = User(login="nounit", role=Role.entrant, password_hash="-", display_name="")
    session.add(user)
    session.commit()
    client = login_client(app, user)
    assert "还没有关联参赛单位" in client.get("/submit/").get_data(as_text=True)
    assert client.get("/submit/entries/new?track=vet_week").status_code == 404


def test_other_roles_and_anonymous_cannot_reach_entrant_pages(app, juror, editor, other_entry):
    for user in (juror, editor):
        c = login_client(app, user)
        assert c.get("/submit/").status_code == 403
        assert c.get(f"/submit/entries/{other_entry.id}/original").status_code == 403
    anonymous = app.test_client()
    r = anonymous.get(f"/submit/entries/{other_entry.id}/original")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


# ------------------------------------------------------------------- upload protocol


def test_xhr_upload_gets_json_redirect_and_flash_survives(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(20),
                   headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 200 and r.is_json
    target = r.get_json()["redirect"]
    assert client.get(target).get_data(as_text=True).count("作品已提交，作品编号 ZJ2024-0001") == 1


def test_xhr_refused_upload_gets_the_form_page(client, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=b"GIF89a" + b"\0" * 100,
                   headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 422 and r.mimetype == "text/html"
    assert "当前文件实际为 GIF 格式" in r.get_data(as_text=True)


@pytest.fixture
def small_body_app_config(app_config):  # noqa: ANN001, ANN201
    app_config["MAX_UPLOAD_MB"] = 1
    return app_config


def test_body_over_the_limit_gets_the_chinese_413_page(small_body_app_config, app, entrant):
    client = login_client(app, entrant)
    for headers in ({}, {"X-Requested-With": "XMLHttpRequest"}):
        r = post_entry(client, image=poster_data(21), headers=headers)
        assert r.status_code == 413 and r.mimetype == "text/html"
        html = r.get_data(as_text=True)
        assert "文件过大" in html and "1MB" in html
    assert _entries(app) == []


@pytest.fixture
def csrf_app_config(app_config):  # noqa: ANN001, ANN201
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_posts_need_the_csrf_token_and_xhr_sends_it_as_a_header(csrf_app_config, app, entrant):
    client = login_client(app, entrant)
    r = post_entry(client, image=poster_data(22))
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    page = client.get("/submit/entries/new?track=vet_week").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = post_entry(client, image=poster_data(22),
                   headers={"X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert _entries(app)[0].code == "ZJ2024-0001"


def test_form_carries_the_contest_limits_for_the_browser_check(session, app, entrant):
    contest = factories.get_contest(session)
    contest.min_width_px = 2400
    session.commit()
    html = login_client(app, entrant).get("/submit/entries/new?track=vet_week").get_data(
        as_text=True)
    assert 'data-min-width="2400"' in html
    assert f'data-min-bytes="{2 * MIB}"' in html and f'data-max-bytes="{10 * MIB}"' in html
    assert "1MB = 1024×1024 字节" in html and "js/upload.js" in html
    assert session.scalar(select(func.count(Entry.id))) == 0


def _form_of(entry: Entry) -> dict:
    """The edit form's fields as stored (for posting an edit)."""
    return {"title": entry.title, "authors": entry.authors, "adviser": entry.adviser,
            "statement": entry.statement, "caption_time": entry.caption_time,
            "caption_place": entry.caption_place, "caption_people": entry.caption_people,
            "caption_event": entry.caption_event, "ai_use": str(entry.ai_use),
            "content_review_confirmed": "y" if entry.content_review_confirmed else "",
            "content_reviewer": entry.content_reviewer,
            "originality_confirmed": "y" if entry.originality_confirmed else ""}


def test_an_entry_in_a_judging_round_is_locked_even_before_the_deadline(session, app,
                                                                          entrant):
    """What the jurors judged is what results, the notice and the WeChat package publish."""
    from contest.models import Round, RoundEntry

    client = login_client(app, entrant)
    _submit_one(client)
    (entry,) = _entries(app)
    track = session.get(Entry, entry.id).track
    round_ = Round(track=track, name="初评")
    session.add(round_)
    session.flush()
    session.add(RoundEntry(round_id=round_.id, entry_id=entry.id, anon_code="A-001"))
    session.commit()
    page = client.get(f"/submit/entries/{entry.id}").get_data(as_text=True)
    assert f"/submit/entries/{entry.id}/edit" not in page
    r = client.post(f"/submit/entries/{entry.id}/edit",
                    data={**_form_of(entry), "title": "获奖后改名"}, follow_redirects=True)
    assert "作品已进入评审，不能再修改" in r.get_data(as_text=True)
    r = client.post(f"/submit/entries/{entry.id}/image",
                    data={"image": (io.BytesIO(poster_data(13)), "a.jpg")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "作品已进入评审，不能再替换图片" in r.get_data(as_text=True)
    r = client.post(f"/submit/entries/{entry.id}/withdraw", data={"confirm": "y"},
                    follow_redirects=True)
    assert "作品已进入评审，不能再撤回" in r.get_data(as_text=True)
    (after,) = _entries(app)
    assert (after.title, after.status) == (entry.title, EntryStatus.submitted)
    assert len([f for f in _files(app, entry.id) if f.kind == FileKind.original]) == 1


def test_submitting_prebuilds_the_juror_images_so_opening_a_round_renders_nothing(
        session, app, entrant, juror):
    from contest import anonymise, rounds

    client = login_client(app, entrant)
    _submit_one(client)
    (entry,) = _entries(app)
    files = {f.kind: f for f in _files(app, entry.id) if f.is_current}
    assert FileKind.juror_display in files and FileKind.juror_thumb in files
    assert files[FileKind.juror_display].public_token  # opaque URL part, no id or code
    with app.app_context():
        s = db.new_session(app)
        track = s.get(Entry, entry.id).track
        round_ = rounds.create_round(s, track, kind="preliminary", name="初评",
                                     jurors=[s.get(User, juror.id)], jurors_per_entry=1)
        assert anonymise.build_round_images(s, round_) == 0  # already there
        s.close()
