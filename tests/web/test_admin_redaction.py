"""Editors' redaction page without a browser: the percent form (no JS), the JSON endpoint the
page script uses, removing a box, the editor-only images, and bad input in Chinese."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from contest.anonymise import REDACTION_FILL
from contest.models import AuditEvent, FileKind, Redaction
from tests import factories as f


@pytest.fixture
def entry(app, session, contest):
    """An entry with an original (600 × 900 px) and juror images, no preview."""
    from contest.anonymise import rebuild_juror_images

    e = f.make_entry(session, f.make_unit(session))
    with app.app_context():
        f.attach_original(session, e, f.poster_bytes(f.make_poster((600, 900), seed=3)))
        rebuild_juror_images(session, e)
    session.commit()
    return e


def juror_pixels(client, entry_id: int) -> np.ndarray:
    r = client.get(f"/admin/rounds/entries/{entry_id}/image/juror")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert "private" in r.headers["Cache-Control"]
    with Image.open(io.BytesIO(r.data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def covered(pixels: np.ndarray, x: float, y: float, w: float, h: float) -> bool:
    """Every pixel of the box (8 px in from its edges, where JPEG ringing of the re-encode
    stays) is the fill grey within 8 levels, and the whole box averages grey."""
    hh, ww = pixels.shape[:2]
    top, bottom, left, right = int(y * hh), int((y + h) * hh), int(x * ww), int((x + w) * ww)
    grey = np.array(REDACTION_FILL)
    inner = pixels[top + 8:bottom - 8, left + 8:right - 8]
    whole = pixels[top:bottom, left:right]
    return bool(np.all(np.abs(inner - grey) <= 8) and np.abs(whole - grey).mean() < 4)


def test_percent_form_adds_a_box_and_rebuilds_the_juror_image(editor_client, session, entry):
    before = juror_pixels(editor_client, entry.id)
    assert not covered(before, 0.1, 0.2, 0.3, 0.1)
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redact",
                           data={"x": "10", "y": "20", "w": "30", "h": "10"})
    assert r.status_code == 302
    page = editor_client.get(r.headers["Location"]).get_data(True)
    assert "已添加遮挡区域，评委图片已重新生成" in page
    assert "左 10.0%，上 20.0%，宽 30.0%，高 10.0%" in page
    red = session.scalar(select(Redaction))
    assert (red.x, red.y, red.w, red.h) == pytest.approx((0.1, 0.2, 0.3, 0.1))
    assert covered(juror_pixels(editor_client, entry.id), 0.1, 0.2, 0.3, 0.1)


@pytest.mark.parametrize(("data", "message"), [
    ({"x": "", "y": "20", "w": "30", "h": "10"}, "请填写左边距"),
    ({"x": "80", "y": "20", "w": "30", "h": "10"}, "左边距与宽度之和不能超过100%（当前：110%）"),
    ({"x": "10", "y": "95", "w": "30", "h": "10"}, "上边距与高度之和不能超过100%（当前：105%）"),
    ({"x": "10", "y": "20", "w": "0", "h": "10"}, "宽度须在0.1到100之间"),
    ({"x": "-1", "y": "20", "w": "30", "h": "10"}, "左边距须在0到100之间"),
    ({"x": "10", "y": "20", "w": "0.1", "h": "10"}, "遮挡区域超出图片范围或过小，请重新框选"),
])
def test_percent_form_errors(editor_client, session, entry, data, message):
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redact", data=data)
    assert r.status_code == 400
    assert message in r.get_data(True)
    assert session.scalar(select(func.count(Redaction.id))) == 0


def test_json_save_adds_boxes_and_returns_the_new_state(editor_client, session, entry):
    old = editor_client.get(f"/admin/rounds/entries/{entry.id}/redact").get_data(True)
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redactions",
                           json={"rects": [{"x": 0.05, "y": 0.8, "w": 0.5, "h": 0.1},
                                           {"x": 0.7, "y": -0.004, "w": 0.35, "h": 0.1}]})
    assert r.status_code == 200
    state = r.get_json()
    assert [b["x"] for b in state["redactions"]] == pytest.approx([0.05, 0.7])
    assert state["redactions"][1]["y"] == 0 and state["redactions"][1]["w"] == pytest.approx(0.3)
    assert state["juror_image"] and state["juror_image"] not in old
    assert len(session.scalars(select(AuditEvent).where(
        AuditEvent.action == "redaction.add")).all()) == 2
    pixels = juror_pixels(editor_client, entry.id)
    assert covered(pixels, 0.05, 0.8, 0.5, 0.1) and covered(pixels, 0.7, 0.0, 0.3, 0.1)


@pytest.mark.parametrize(("body", "message"), [
    ({}, "没有收到遮挡区域，请先在图片上框选"),
    ({"rects": []}, "没有收到遮挡区域，请先在图片上框选"),
    ({"rects": [{"x": 0.1, "y": 0.1, "w": 0.2}]}, "第1个遮挡区域的数据不完整"),
    ({"rects": [{"x": "abc", "y": 0.1, "w": 0.2, "h": 0.1}]}, "第1个遮挡区域的数据不完整"),
    ({"rects": [{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.1}] * 51}, "一次最多保存50个遮挡区域（当前：51个）"),
    ({"rects": [{"x": 1.5, "y": 0.1, "w": 0.2, "h": 0.1}]}, "遮挡区域超出图片范围或过小"),
])
def test_json_save_rejects_bad_boxes_in_chinese(editor_client, session, entry, body, message):
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redactions", json=body)
    assert r.status_code == 400
    assert message in r.get_json()["error"]
    assert session.scalar(select(func.count(Redaction.id))) == 0


def test_json_save_of_a_non_json_body_is_a_chinese_400(editor_client, entry):
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redactions", data="x=1")
    assert r.status_code == 400 and "没有收到遮挡区域" in r.get_json()["error"]


def test_removing_a_box_rebuilds_and_logs(editor_client, session, entry, editor):
    from contest.anonymise import add_redaction

    red = add_redaction(session, entry, 0.1, 0.1, 0.4, 0.2, editor)
    session.commit()
    assert covered(juror_pixels(editor_client, entry.id), 0.1, 0.1, 0.4, 0.2)
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redactions/{red.id}/delete",
                           headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json()["redactions"] == []
    assert not covered(juror_pixels(editor_client, entry.id), 0.1, 0.1, 0.4, 0.2)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "redaction.remove"))
    assert event.old["x"] == pytest.approx(0.1) and event.actor_id == editor.id


def test_removing_without_js_redirects_back(editor_client, session, entry, editor):
    from contest.anonymise import add_redaction

    red = add_redaction(session, entry, 0.1, 0.1, 0.4, 0.2, editor)
    session.commit()
    r = editor_client.post(f"/admin/rounds/entries/{entry.id}/redactions/{red.id}/delete",
                           follow_redirects=True)
    assert "已移除遮挡区域，评委图片已重新生成" in r.get_data(True)
    assert session.scalar(select(func.count(Redaction.id))) == 0


def test_a_box_of_another_entry_is_404(editor_client, session, entry, editor):
    from contest.anonymise import add_redaction

    other = f.make_entry(session, f.make_unit(session))
    red = add_redaction(session, entry, 0.1, 0.1, 0.4, 0.2, editor)
    session.commit()
    r = editor_client.post(f"/admin/rounds/entries/{other.id}/redactions/{red.id}/delete")
    assert r.status_code == 404
    assert editor_client.get("/admin/rounds/entries/999/redact").status_code == 404
    assert editor_client.get(f"/admin/rounds/entries/{entry.id}/image/original").status_code \
        == 404
    # no preview was made for this entry: the poster image is missing, the page says so
    assert editor_client.get(f"/admin/rounds/entries/{entry.id}/image/poster").status_code \
        == 404
    assert "预览图尚未生成" in editor_client.get(
        f"/admin/rounds/entries/{entry.id}/redact").get_data(True)


def test_an_entry_without_an_image_cannot_be_redacted(editor_client, session, contest):
    e = f.make_entry(session, f.make_unit(session))
    session.commit()
    assert "该作品还没有图片，无法遮挡" in editor_client.get(
        f"/admin/rounds/entries/{e.id}/redact").get_data(True)
    r = editor_client.post(f"/admin/rounds/entries/{e.id}/redactions",
                           json={"rects": [{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.1}]})
    assert r.status_code == 400 and r.get_json()["error"] == "该作品还没有图片，无法遮挡"
    assert e.current_file(FileKind.juror_display) is None
