"""A juror scores in a real browser: three entries with the keyboard only (Enter to the next
criterion, Ctrl+S to save, PageDown to the next entry), 回避 on the fourth, then submits the
round. CSRF is on, so the autosave fetch must send X-CSRFToken."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from contest.models import (Assignment, ConflictOfInterest, Review, Role, RoundJuror,
                            TrackKind)
from tests import factories as f
from tests.browser.conftest import browser_login
from tests.conftest import make_test_config
from tests.factories import DEFAULT_PASSWORD

SHEETS = [("25", "20", "26.5", "12", "构图饱满"), ("18", "15.5", "20", "10", ""),
          ("30", "25", "30", "15", "主题鲜明")]


@pytest.fixture
def app_config(tmp_path):  # noqa: ANN001, ANN201
    return make_test_config(tmp_path, WTF_CSRF_ENABLED=True)


@pytest.fixture
def scoring_round(session, contest):  # noqa: ANN001, ANN201
    """5 entries, 4 jurors, 3 per entry: loads 4/4/4/3. Returns (round, juror with 4)."""
    for i in range(5):
        e = f.make_entry(session, f.make_unit(session), title=f"海报{i}")
        f.attach_original(session, e, f.poster_bytes(f.make_poster((600, 850), seed=i)))
    jurors = [f.make_user(session, Role.juror, login=f"bjuror{i}", display_name=f"评委{i}")
              for i in range(4)]
    round_ = f.make_round_with_rubric(session, contest.track(TrackKind.vet_week), jurors,
                                      seed=17)
    session.commit()
    loads = Counter(session.scalars(select(Assignment.juror_id).where(
        Assignment.round_id == round_.id, Assignment.is_active.is_(True))))
    juror = next(j for j in jurors if loads[j.id] == 4)
    return round_, juror


def test_juror_scores_with_keyboard_declares_conflict_and_submits(page, live_server, session,
                                                                  scoring_round):
    round_, juror = scoring_round
    browser_login(page, live_server, juror.login, DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/judge/")
    assert "已评 0 / 4 件" in page.inner_text("main")
    page.goto(f"{live_server}/judge/r/{round_.id}/")
    codes = page.locator(".judge-tile-meta b").all_inner_texts()
    assert len(codes) == 4
    page.goto(f"{live_server}/judge/r/{round_.id}/{codes[0]}")

    for i, sheet in enumerate(SHEETS):
        assert page.inner_text(".judge-code b") == codes[i]
        assert page.evaluate("document.activeElement.name").startswith("c")  # autofocus
        *points, comment = sheet
        for value in points:
            page.keyboard.type(value)
            page.keyboard.press("Enter")  # next criterion; after the last: the comment
        assert page.evaluate("document.activeElement.name") == "comment"
        expected_total = sum(float(p) for p in points)
        assert float(page.inner_text("#total")) == expected_total  # summed as typed
        if comment:
            page.keyboard.type(comment)
        if i == 0:
            page.keyboard.press("Control+s")
            page.wait_for_function(
                "document.getElementById('save-status').textContent.startsWith('已保存')")
        page.keyboard.press("PageDown")  # saves, then the next entry of my own order
        page.wait_for_url(f"{live_server}/judge/r/{round_.id}/{codes[i + 1]}")

    # zoom from the keyboard once focus has left the inputs (panzoom on the poster)
    page.keyboard.press("Escape")
    page.keyboard.press("+")
    page.wait_for_function("new DOMMatrix(getComputedStyle("
                           "document.getElementById('poster')).transform).a > 1.2")
    page.keyboard.press("0")
    page.wait_for_function("new DOMMatrix(getComputedStyle("
                           "document.getElementById('poster')).transform).a < 1.01")

    # the fourth entry: 回避 with a reason
    assert "第 4 / 4 件" in page.inner_text(".judge-pos")
    assert "已评 3 / 4" in page.inner_text(".judge-pos")
    page.click(".judge-conflict summary")
    page.fill(".judge-conflict textarea[name=reason]", "认出是本人指导过的学生作品")
    page.click(".judge-conflict button[type=submit]")
    page.wait_for_url(f"{live_server}/judge/r/{round_.id}/")
    assert f"已对作品 {codes[3]} 回避" in page.inner_text(".flashes")
    assert page.locator(".judge-tile").count() == 3
    assert "已评 3 / 3 件" in page.inner_text(".judge-bar")

    page.check("input[name=confirm]")
    page.click(".judge-submit button[type=submit]")
    assert "本轮评分已提交，评分表已锁定" in page.inner_text(".flashes")
    assert "评分表已锁定" in page.inner_text("main")

    session.expire_all()
    by_code = {re.anon_code: re.entry_id for re in round_.round_entries}
    criteria = [c.id for c in round_.criteria]
    for code, sheet in zip(codes[:3], SHEETS, strict=True):
        review = session.scalar(select(Review).where(Review.juror_id == juror.id,
                                                     Review.entry_id == by_code[code]))
        got = {s.criterion_id: s.points for s in review.scores}
        assert got == {cid: float(v) for cid, v in zip(criteria, sheet[:4], strict=True)}
        assert review.comment == sheet[4]
    coi = session.scalar(select(ConflictOfInterest).where(
        ConflictOfInterest.juror_id == juror.id))
    assert coi.entry_id == by_code[codes[3]] and coi.reason == "认出是本人指导过的学生作品"
    holders = session.scalars(select(Assignment.juror_id).where(
        Assignment.entry_id == by_code[codes[3]], Assignment.is_active.is_(True))).all()
    assert len(holders) == 3 and juror.id not in holders
    rj = session.scalar(select(RoundJuror).where(RoundJuror.juror_id == juror.id))
    assert rj.is_locked
