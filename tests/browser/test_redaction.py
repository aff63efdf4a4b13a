"""An editor draws a redaction box over a poster in the browser and the juror's image changes
(issue #4 "Done when"): the juror's image is fetched as the juror, before and after, and the
pixels inside the box are covered; the original file is untouched; removing the box brings
the pixels back. CSRF is on, so the page script's X-CSRFToken header is exercised too."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from contest.anonymise import REDACTION_FILL
from contest.entries import attach_image, prepare_image
from contest.imaging import IntakeRules
from contest.models import AuditEvent, FileKind, Redaction, Role, TrackKind
from contest.rounds import create_round, open_round
from contest.storage import get_storage
from tests import factories as f
from tests.browser.conftest import browser_login
from tests.conftest import make_test_config

POSTER_PX = (1200, 1700)
BOX = (0.08, 0.80, 0.50, 0.10)  # x, y, w, h as fractions: the school's name in the red band
JPEG_TOLERANCE = 8  # per channel, grey after a quality-88 re-encode


@pytest.fixture
def app_config(tmp_path):
    return make_test_config(tmp_path, WTF_CSRF_ENABLED=True)


@pytest.fixture
def judged_entry(app, session, contest, editor):
    """An entry with a real poster (intake path: original, preview, thumb) in an open round
    whose only juror is 'juror9'. Returns (entry, round, juror)."""
    unit = f.make_unit(session, name="示例职业技术学院")
    entry = f.make_entry(session, unit, title="技能点亮人生")
    poster = f.make_poster(POSTER_PX, seed=11, text="SHIXI VOCATIONAL COLLEGE")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "poster.jpg"
        path.write_bytes(f.poster_bytes(poster))
        with app.app_context():
            prepared = prepare_image(path, rules=IntakeRules.content_only(100_000_000),
                                     storage=get_storage(app), original_filename="poster.jpg",
                                     preview_long_edge_px=1600, thumb_long_edge_px=480)
            attach_image(session, entry, prepared, actor=None, enforce_deadline=False)
            juror = f.make_user(session, Role.juror, login="juror9", display_name="评委九")
            round_ = create_round(session, contest.track(TrackKind.vet_week),
                                  kind="preliminary", name="初评", jurors=[juror],
                                  jurors_per_entry=1, seed=1, actor=editor)
            open_round(session, round_, actor=editor, storage=get_storage(app))
    session.commit()
    return entry, round_, juror


def juror_image(page, url: str) -> tuple[str, np.ndarray]:  # noqa: ANN001
    """Open the juror's scoring page and fetch its poster as the juror: (url, RGB array)."""
    page.goto(url)
    src = page.eval_on_selector("#poster", "el => el.src")  # absolute URL
    response = page.request.get(src)
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.body())) as im:
        return src, np.asarray(im.convert("RGB"), dtype=np.int16)


def box_pixels(pixels: np.ndarray, margin_px: int = 8) -> np.ndarray:
    """The pixels well inside BOX: 8 px in from each edge, past the JPEG ringing of the
    re-encode at the box's border."""
    h, w = pixels.shape[:2]
    x, y, bw, bh = BOX
    return pixels[int(y * h) + margin_px:int((y + bh) * h) - margin_px,
                  int(x * w) + margin_px:int((x + bw) * w) - margin_px]


def is_covered(region: np.ndarray) -> bool:
    return bool(np.all(np.abs(region - np.array(REDACTION_FILL)) <= JPEG_TOLERANCE))


def test_editor_draws_a_box_and_the_jurors_image_changes(page, browser, browser_context_args,
                                                        live_server, session, judged_entry):
    entry, round_, juror = judged_entry
    anon = next(re.anon_code for re in round_.round_entries if re.entry_id == entry.id)
    score_url = f"{live_server}/judge/r/{round_.id}/{anon}"
    original = entry.current_file(FileKind.original)
    original_bytes = get_storage().open(original.storage_key).read()

    juror_context = browser.new_context(**browser_context_args)
    juror_page = juror_context.new_page()
    browser_login(juror_page, live_server, "juror9", f.DEFAULT_PASSWORD)
    juror_page.wait_for_url(f"{live_server}/judge/")
    old_src, before = juror_image(juror_page, score_url)
    assert not is_covered(box_pixels(before))  # the band shows the school's name now

    browser_login(page, live_server, "editor1", f.DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/rounds/{round_.id}")
    page.click(f"a[href$='/admin/rounds/entries/{entry.id}/redact?round={round_.id}']")
    page.wait_for_selector("#redact-image")
    page.wait_for_function("document.getElementById('redact-image').complete")
    old_preview = page.get_attribute("#juror-image", "src")
    img = page.locator("#redact-image").bounding_box()
    x, y, w, h = BOX
    page.mouse.move(img["x"] + x * img["width"], img["y"] + y * img["height"])
    page.mouse.down()
    page.mouse.move(img["x"] + (x + w / 2) * img["width"], img["y"] + (y + h / 2) * img["height"],
                    steps=4)
    page.mouse.move(img["x"] + (x + w) * img["width"], img["y"] + (y + h) * img["height"],
                    steps=4)
    page.mouse.up()
    assert page.locator(".redact-box.pending").count() == 1
    page.click("#save-redactions")
    page.wait_for_selector("#redact-status:has-text('已保存，评委图片已更新')")
    assert page.locator(".redact-box.saved").count() == 1
    assert page.locator(".redact-box.pending").count() == 0
    assert page.get_attribute("#juror-image", "src") != old_preview  # editor sees the rebuild

    session.expire_all()
    (red,) = session.scalars(select(Redaction).where(Redaction.entry_id == entry.id)).all()
    # screen pixels → fractions: within a pixel or two of the drawn box
    assert (red.x, red.y, red.w, red.h) == pytest.approx(BOX, abs=0.006)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "redaction.add"))
    assert event.actor.login == "editor1" and event.new["entry_id"] == entry.id

    new_src, after = juror_image(juror_page, score_url)
    assert new_src != old_src  # a new opaque URL, so no cached copy shows the name
    assert is_covered(box_pixels(after))
    outside = np.abs(after[:int(0.7 * after.shape[0])] - before[:int(0.7 * before.shape[0])])
    assert outside.mean() < 3  # the rest of the poster is unchanged (re-encode noise only)
    assert juror_page.request.get(old_src).status == 404  # the unredacted image is gone
    assert get_storage().open(original.storage_key).read() == original_bytes
    assert hashlib.sha256(original_bytes).hexdigest() == original.sha256

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#saved-list button:has-text('移除')")
    page.wait_for_selector("#redact-status:has-text('已移除，评委图片已更新')")
    assert page.locator(".redact-box.saved").count() == 0
    _src, restored = juror_image(juror_page, score_url)
    assert not is_covered(box_pixels(restored))
    assert np.abs(box_pixels(restored) - box_pixels(before)).mean() < 3
    juror_context.close()
