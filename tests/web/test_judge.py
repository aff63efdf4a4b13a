"""Juror routes through the test client: role walls, 404 for anything not assigned, saving,
locking, 回避, submitting, and the image route's headers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contest.models import (Assignment, AuditEvent, EntryFile, FileKind, Review, Role,
                            RoundJuror, TrackKind)
from tests import factories as f
from tests.conftest import login_client


@pytest.fixture
def judged(session, contest, juror):
    """4 entries with images, jurors juror1 + juror2 + juror3, k=1: each juror has some
    entries and not others."""
    entries = []
    for i in range(4):
        e = f.make_entry(session, f.make_unit(session), title=f"作品{i}")
        f.attach_original(session, e, f.poster_bytes(f.make_poster((600, 850), seed=i)))
        entries.append(e)
    others = [f.make_user(session, Role.juror, login=f"juror{i}") for i in (2, 3)]
    round_ = f.make_round_with_rubric(session, contest.track(TrackKind.vet_week),
                                      [juror, *others], jurors_per_entry=1, seed=3)
    session.commit()
    return round_, entries, others


def _mine(session, round_, user):
    ids = set(session.scalars(select(Assignment.entry_id).where(
        Assignment.round_id == round_.id, Assignment.juror_id == user.id,
        Assignment.is_active.is_(True))))
    return [re for re in round_.round_entries if re.entry_id in ids]


def _not_mine(session, round_, user):
    mine = {re.entry_id for re in _mine(session, round_, user)}
    return [re for re in round_.round_entries if re.entry_id not in mine]


def _token(session, entry_id, kind=FileKind.juror_display):
    return session.scalar(select(EntryFile.public_token).where(
        EntryFile.entry_id == entry_id, EntryFile.kind == kind, EntryFile.is_current.is_(True)))


def _form(round_, **points):
    data = {"save": "1", "comment": points.pop("comment", "")}
    names = [c.id for c in round_.criteria]
    for cid, value in zip(names, points.get("values", []), strict=False):
        data[f"c{cid}"] = value
    return data


def test_home_and_queue_show_only_my_entries(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    home = juror_client.get("/judge/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert "初评" in text and "已评 <b>0</b> / 2 件" in text
    queue = juror_client.get(f"/judge/r/{round_.id}/").get_data(as_text=True)
    for re in _mine(session, round_, juror):
        assert re.anon_code in queue
    for re in _not_mine(session, round_, juror):
        assert re.anon_code not in queue


def test_juror_gets_404_for_entry_or_image_not_assigned(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    mine, theirs = _mine(session, round_, juror)[0], _not_mine(session, round_, juror)[0]
    assert juror_client.get(f"/judge/r/{round_.id}/{mine.anon_code}").status_code == 200
    assert juror_client.get(f"/judge/r/{round_.id}/{theirs.anon_code}").status_code == 404
    assert juror_client.post(f"/judge/r/{round_.id}/{theirs.anon_code}",
                             data=_form(round_, values=["10"])).status_code == 404
    assert juror_client.post(f"/judge/r/{round_.id}/{theirs.anon_code}/conflict",
                             data={"reason": "x"}).status_code == 404
    assert juror_client.get(f"/judge/r/{round_.id}/A-000").status_code == 404
    assert juror_client.get(f"/judge/r/{round_.id + 99}/").status_code == 404
    for kind in (FileKind.juror_display, FileKind.juror_thumb):
        assert juror_client.get(f"/judge/img/{_token(session, mine.entry_id, kind)}") \
            .status_code == 200
        assert juror_client.get(f"/judge/img/{_token(session, theirs.entry_id, kind)}") \
            .status_code == 404
    assert juror_client.get("/judge/img/not-a-token").status_code == 404
    assert session.scalar(select(Review)) is None


def test_originals_and_previews_are_never_served_by_token(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    mine = _mine(session, round_, juror)[0]
    original = session.scalar(select(EntryFile).where(EntryFile.entry_id == mine.entry_id,
                                                      EntryFile.kind == FileKind.original))
    original.public_token = "a-token-someone-put-on-an-original"
    session.commit()
    assert juror_client.get("/judge/img/a-token-someone-put-on-an-original").status_code == 404


@pytest.mark.parametrize("who", ["entrant", "editor", "anonymous", "other_round_juror"])
def test_others_get_nothing_from_juror_routes(judged, session, app, client, entrant, editor, who):
    round_, _entries, _others = judged
    re = round_.round_entries[0]
    token = _token(session, re.entry_id)
    thumb = _token(session, re.entry_id, FileKind.juror_thumb)
    if who == "anonymous":
        c = client
    elif who == "other_round_juror":
        c = login_client(app, f.make_user(session, Role.juror, login="outsider"))
        session.commit()
    else:
        c = login_client(app, {"entrant": entrant, "editor": editor}[who])
    urls = ["/judge/", f"/judge/r/{round_.id}/", f"/judge/r/{round_.id}/{re.anon_code}",
            f"/judge/img/{token}", f"/judge/img/{thumb}"]
    for url in urls:
        r = c.get(url)
        if who == "anonymous":
            assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
        elif who == "other_round_juror":
            assert r.status_code == (200 if url == "/judge/" else 404)
        else:
            assert r.status_code == 403
        assert r.mimetype != "image/jpeg"
    r = c.post(f"/judge/r/{round_.id}/{re.anon_code}", data=_form(round_, values=["5"]))
    assert r.status_code in (302, 403, 404) and session.scalar(select(Review)) is None


def test_save_by_form_and_by_fetch(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    first, second = _mine(session, round_, juror)[:2]
    queue_codes = [re.anon_code for re in _mine(session, round_, juror)]
    url = f"/judge/r/{round_.id}/{first.anon_code}"
    r = juror_client.post(url, data=_form(round_, values=["20", "12.5", "", ""], comment="色彩好"))
    assert r.status_code == 302 and r.headers["Location"].endswith(url)
    r = juror_client.post(url, data=_form(round_, values=["20", "12.5", "25", "10"]),
                          headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] and body["total"] == 67.5 and body["complete"] and body["scored"] == 1
    assert set(body) == {"ok", "total", "complete", "scored", "assigned", "saved_at"}
    review = session.scalar(select(Review).where(Review.juror_id == juror.id))
    session.refresh(review)
    assert review.total == 67.5 and review.comment == ""
    # 保存并下一件 goes to the next entry of the juror's own order
    data = _form(round_, values=["20", "12.5", "25", "10"])
    data.pop("save")
    data["save_next"] = "1"
    r = juror_client.post(url, data=data)
    nxt = queue_codes[queue_codes.index(first.anon_code) + 1] if \
        queue_codes.index(first.anon_code) + 1 < len(queue_codes) else None
    assert r.headers["Location"].endswith(
        f"/judge/r/{round_.id}/{nxt}" if nxt else f"/judge/r/{round_.id}/")
    assert second.anon_code in queue_codes


def test_invalid_points_are_refused_in_chinese(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    mine = _mine(session, round_, juror)[0]
    url = f"/judge/r/{round_.id}/{mine.anon_code}"
    r = juror_client.post(url, data=_form(round_, values=["31", "12.3"]))
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "“思想性与主题”的得分应在0～30分之间（当前：31）" in text
    assert "“创意”的得分只能是整数或半分（当前：12.3）" in text
    assert 'value="31"' in text  # what was typed is kept
    r = juror_client.post(url, data=_form(round_, values=["-1"]),
                          headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert r.status_code == 422 and r.get_json()["ok"] is False
    assert "c%d" % round_.criteria[0].id in r.get_json()["errors"]
    assert session.scalar(select(Review)) is None


def _score_everything(client, session, round_, juror):
    for re in _mine(session, round_, juror):
        r = client.post(f"/judge/r/{round_.id}/{re.anon_code}",
                        data=_form(round_, values=["20", "20", "20", "10"]))
        assert r.status_code == 302


def test_submit_round_locks_the_sheet(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    url = f"/judge/r/{round_.id}/submit"
    r = juror_client.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "还有2件作品未完成评分" in r.get_data(as_text=True)
    _score_everything(juror_client, session, round_, juror)
    r = juror_client.post(url, data={}, follow_redirects=True)
    assert "请勾选确认后再提交" in r.get_data(as_text=True)
    r = juror_client.post(url, data={"confirm": "y"}, follow_redirects=True)
    assert "本轮评分已提交，评分表已锁定" in r.get_data(as_text=True)
    rj = session.scalar(select(RoundJuror).where(RoundJuror.juror_id == juror.id))
    session.refresh(rj)
    assert rj.is_locked
    # a locked sheet refuses every change
    mine = _mine(session, round_, juror)[0]
    r = juror_client.post(f"/judge/r/{round_.id}/{mine.anon_code}",
                          data=_form(round_, values=["1", "1", "1", "1"]))
    assert r.status_code == 409
    assert "评分表已锁定" in r.get_data(as_text=True)
    r = juror_client.post(f"/judge/r/{round_.id}/{mine.anon_code}",
                          data=_form(round_, values=["1"]),
                          headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert r.status_code == 409 and r.get_json()["ok"] is False
    r = juror_client.post(f"/judge/r/{round_.id}/{mine.anon_code}/conflict",
                          data={"reason": "迟到的回避"}, follow_redirects=True)
    assert "评分表已锁定" in r.get_data(as_text=True)
    reviews = session.scalars(select(Review).where(Review.juror_id == juror.id)).all()
    for review in reviews:
        session.refresh(review)
        assert review.total == 70
    page = juror_client.get(f"/judge/r/{round_.id}/{mine.anon_code}").get_data(as_text=True)
    assert "<fieldset disabled>" in page


def test_declare_conflict_reassigns_and_hides_the_entry(judged, session, juror_client, juror):
    round_, _entries, others = judged
    mine = _mine(session, round_, juror)[0]
    url = f"/judge/r/{round_.id}/{mine.anon_code}/conflict"
    r = juror_client.post(url, data={"reason": ""}, follow_redirects=True)
    assert "请填写回避原因" in r.get_data(as_text=True)
    r = juror_client.post(url, data={"reason": "是我指导的学生作品"})
    assert r.status_code == 302
    assert juror_client.get(f"/judge/r/{round_.id}/{mine.anon_code}").status_code == 404
    token = _token(session, mine.entry_id)
    assert juror_client.get(f"/judge/img/{token}").status_code == 404
    holders = set(session.scalars(select(Assignment.juror_id).where(
        Assignment.entry_id == mine.entry_id, Assignment.is_active.is_(True))))
    assert holders and holders <= {o.id for o in others}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "conflict.declare"))


def test_image_headers_are_private_and_anonymous(judged, session, juror_client, juror):
    round_, _entries, _others = judged
    mine = _mine(session, round_, juror)[0]
    r = juror_client.get(f"/judge/img/{_token(session, mine.entry_id)}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers["Cache-Control"] == "private, max-age=3600"
    assert "Content-Disposition" not in r.headers and "Last-Modified" not in r.headers
    etag = r.headers["ETag"]
    again = juror_client.get(f"/judge/img/{_token(session, mine.entry_id)}",
                             headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_csrf_is_required_for_saving(tmp_path, juror, session, contest):
    from contest import create_app
    from tests.conftest import make_test_config

    e = f.make_entry(session, f.make_unit(session))
    round_ = f.make_round_with_rubric(session, contest.track(TrackKind.vet_week), [juror])
    session.commit()
    app = create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True))
    c = login_client(app, juror)
    code = round_.round_entries[0].anon_code
    assert e.id == round_.round_entries[0].entry_id
    r = c.post(f"/judge/r/{round_.id}/{code}", data=_form(round_, values=["5"]))
    assert r.status_code == 400
    assert "页面已过期" in r.get_data(as_text=True)
