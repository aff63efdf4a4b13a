"""Editors' duplicate review (contest/admin/dedup.py): role walls, the queue in clusters,
the pair page and its images, decisions (reason required, logged, never back), the entrant
seeing a disqualification, and the reference library page."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from contest.dedup import service
from contest.models import (AuditEvent, DuplicateFlag, Entry, EntryStatus, FlagStatus,
                            ReferenceImage, Role)
from tests import dedup_support as ds
from tests.conftest import login_client, make_test_config
from tests.factories import make_unit, make_user


@pytest.fixture
def flagged(app, session, contest, entrant, editor):  # noqa: ANN001, ANN201
    """Entrant's unit (A) and two other units: A's poster copied by B (duplicate), an
    unrelated pair C/D copied exactly, and a template sibling of A's poster by C."""
    ds.relax_rules(session, contest)
    unit_b, unit_c = make_unit(session, "山西省财政税务专科学校"), make_unit(session, "晋中市社区学习中心")
    session.commit()

    class World:
        pass

    w = World()
    w.app, w.session, w.contest, w.editor, w.entrant = app, session, contest, editor, entrant
    img = ds.poster(60, "ALPHA")
    w.a = ds.new_entry(session, app, entrant.unit, ds.jpeg(img), title="原创海报")
    w.b = ds.new_entry(session, app, unit_b, ds.jpeg(ds.resized_copy(img)), title="抄来的海报")
    other = ds.jpeg(ds.poster(61))
    w.c = ds.new_entry(session, app, unit_c, other)
    w.d = ds.new_entry(session, app, unit_b, other, track="lifelong_week")
    w.client = login_client(app, editor)
    w.flags = {(f.entry_a_id, f.entry_b_id): f for f in session.scalars(select(DuplicateFlag))}
    w.ab = w.flags[(w.a.id, w.b.id)]
    w.cd = w.flags[(w.c.id, w.d.id)]
    return w


# ---------------------------------------------------------------- role walls

@pytest.mark.parametrize("path", ["/admin/dedup/", "/admin/dedup/references",
                                  "/admin/dedup/pairs/1", "/admin/dedup/pairs/1/diff.jpg"])
def test_only_editors_reach_the_duplicate_review(app, client, entrant_client, juror_client,
                                                 path):
    assert entrant_client.get(path).status_code == 403
    assert juror_client.get(path).status_code == 403
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


# ---------------------------------------------------------------- queue

def test_queue_groups_flags_into_clusters_with_counts(flagged):
    response = flagged.client.get("/admin/dedup/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.count('class="card dd-cluster"') == 2
    # exact cluster first (C/D), then A/B
    assert text.index(flagged.c.code) < text.index(flagged.a.code)
    counts = service.kind_counts(service.open_flags(flagged.session, flagged.contest.id))
    assert counts == {"exact": 1, "duplicate": 1, "similar": 0}
    assert "山西省财政税务专科学校" in text
    only = flagged.client.get("/admin/dedup/?kind=duplicate").get_data(as_text=True)
    assert only.count('class="card dd-cluster"') == 1 and flagged.c.code not in only.split(
        "最近处理")[0]


def test_queue_without_a_contest_says_so(app, session):
    editor = make_user(session, Role.editor, login="editor-no-contest")
    session.commit()
    page = login_client(app, editor).get("/admin/dedup/").get_data(as_text=True)
    assert "尚未创建比赛" in page


# ---------------------------------------------------------------- pair page

def test_pair_page_shows_both_entries_scores_and_images(flagged):
    response = flagged.client.get(f"/admin/dedup/pairs/{flagged.ab.id}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for needle in (flagged.a.code, flagged.b.code, "山西省财政税务专科学校",
                   flagged.entrant.unit.name, "职业教育活动周", "对齐后变化的区域", "提交时间",
                   f"取消作品 {flagged.b.code}", "不是重复"):
        assert needle in text, needle
    for image in ("a", "b", "aligned", "diff"):
        r = flagged.client.get(f"/admin/dedup/pairs/{flagged.ab.id}/{image}.jpg")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(r.data)) as im:
            assert im.format == "JPEG" and im.width > 100
            assert not im.getexif() and "icc_profile" not in im.info
    diff = Image.open(io.BytesIO(flagged.client.get(
        f"/admin/dedup/pairs/{flagged.ab.id}/diff.jpg").data))
    aligned = Image.open(io.BytesIO(flagged.client.get(
        f"/admin/dedup/pairs/{flagged.ab.id}/aligned.jpg").data))
    assert diff.size == aligned.size  # B drawn in A's frame
    assert flagged.client.get("/admin/dedup/pairs/99999").status_code == 404


def test_a_decision_needs_a_reason_and_changes_nothing_without_one(flagged):
    response = flagged.client.post(f"/admin/dedup/pairs/{flagged.ab.id}/decide",
                                   data={"decision": "disqualify_b", "reason": "   "})
    assert response.status_code == 422
    assert "请填写原因" in response.get_data(as_text=True)
    flagged.session.expire_all()
    assert flagged.session.get(DuplicateFlag, flagged.ab.id).status == FlagStatus.open
    assert flagged.session.get(Entry, flagged.b.id).status == EntryStatus.submitted
    missing = flagged.client.post(f"/admin/dedup/pairs/{flagged.ab.id}/decide",
                                  data={"reason": "理由"})
    assert missing.status_code == 422 and "请选择处理结果" in missing.get_data(as_text=True)


def test_not_duplicate_is_logged_and_the_pair_never_comes_back(flagged):
    response = flagged.client.post(f"/admin/dedup/pairs/{flagged.cd.id}/decide",
                                   data={"decision": "not_duplicate",
                                         "reason": "两校联合创作，已核实授权"})
    assert response.status_code == 302
    flagged.session.expire_all()
    flag = flagged.session.get(DuplicateFlag, flagged.cd.id)
    assert flag.status == FlagStatus.not_duplicate and flag.decided_by_id == flagged.editor.id
    assert flag.decided_at is not None and flag.reason == "两校联合创作，已核实授权"
    event = flagged.session.scalar(select(AuditEvent).where(AuditEvent.action == "dedup.decide"))
    assert event.actor_id == flagged.editor.id and event.object_id == flag.id
    queue = flagged.client.get("/admin/dedup/").get_data(as_text=True)
    open_part = queue.split("最近处理")[0]
    assert flagged.c.code not in open_part and "两校联合创作" in queue
    # a rescan and a new image of either entry do not bring the pair back
    service.rescan_contest(flagged.session, flagged.contest.id)
    flagged.session.commit()
    ds.store_image(flagged.session, flagged.app, flagged.session.get(Entry, flagged.d.id),
                   ds.jpeg(ds.resized_copy(ds.poster(61))))
    assert flagged.c.code not in flagged.client.get("/admin/dedup/").get_data(
        as_text=True).split("最近处理")[0]
    again = flagged.client.post(f"/admin/dedup/pairs/{flagged.cd.id}/decide",
                                data={"decision": "disqualify_a", "reason": "改判"})
    assert again.status_code == 409 and "已由" in again.get_data(as_text=True)


def test_disqualifying_an_entry_shows_the_reason_to_its_unit(flagged, app, session):
    owner = make_user(session, Role.entrant, login="school-b",
                      unit=flagged.session.get(Entry, flagged.b.id).unit)
    session.commit()
    response = flagged.client.post(f"/admin/dedup/pairs/{flagged.ab.id}/decide",
                                   data={"decision": "disqualify_b",
                                         "reason": "与太原某校作品为同一海报（裁剪缩放）"})
    assert response.status_code == 302
    flagged.session.expire_all()
    entry = flagged.session.get(Entry, flagged.b.id)
    assert entry.status == EntryStatus.disqualified
    assert entry.status_reason == "与太原某校作品为同一海报（裁剪缩放）"
    actions = [e.action for e in flagged.session.scalars(select(AuditEvent)
                                                         .order_by(AuditEvent.id))]
    assert "entry.disqualify" in actions and "dedup.decide" in actions
    page = login_client(app, owner).get(f"/submit/entries/{entry.id}").get_data(as_text=True)
    assert "已取消参赛资格" in page and "与太原某校作品为同一海报（裁剪缩放）" in page


def test_a_post_without_csrf_token_is_refused(tmp_path, session):
    from contest import create_app, db

    app = create_app(make_test_config(tmp_path / "csrf", WTF_CSRF_ENABLED=True))
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        db.create_schema(app)
    with app.app_context():
        s = db.new_session(app)
        editor = make_user(s, Role.editor, login="csrf-editor")
        s.commit()
        client = login_client(app, editor)
        response = client.post("/admin/dedup/pairs/1/decide",
                               data={"decision": "not_duplicate", "reason": "x"})
        s.close()
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)


# ---------------------------------------------------------------- reference library

def test_reference_library_upload_lists_by_label(app, session, editor_client, contest):
    ds.relax_rules(session, contest)
    session.commit()
    files = [(io.BytesIO(ds.jpeg(ds.poster(70))), "2023一等奖.jpg"),
             (io.BytesIO(ds.png(ds.poster(71))), "二等奖.png"),
             (io.BytesIO(b"%PDF-1.4 not a poster"), "名单.jpg")]
    response = editor_client.post("/admin/dedup/references",
                                  data={"label": "2023 获奖作品", "files": files},
                                  content_type="multipart/form-data", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "新增 2 张" in text and "名单.jpg" in text and "PDF" in text
    assert "2023 获奖作品 · 2 张" in text
    refs = session.scalars(select(ReferenceImage).order_by(ReferenceImage.id)).all()
    assert [r.original_filename for r in refs] == ["2023一等奖.jpg", "二等奖.png"]
    thumb = editor_client.get(f"/admin/dedup/references/{refs[0].id}/thumb.jpg")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    again = editor_client.post("/admin/dedup/references",
                               data={"label": "另一标签",
                                     "files": [(io.BytesIO(ds.jpeg(ds.poster(70))), "a.jpg")]},
                               content_type="multipart/form-data", follow_redirects=True)
    assert "已存在 1 张" in again.get_data(as_text=True)
    assert len(session.scalars(select(ReferenceImage)).all()) == 2
    empty = editor_client.post("/admin/dedup/references", data={"label": ""},
                               content_type="multipart/form-data")
    assert empty.status_code == 422 and "请填写标签" in empty.get_data(as_text=True)
