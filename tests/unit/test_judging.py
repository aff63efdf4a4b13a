"""Score sheets: bounds, half points, drafts, lock/unlock, audit; rounds and juror images."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from contest.anonymise import add_redaction, juror_files, remove_redaction
from contest.errors import InvalidScore, NotAssigned, RedactionInvalid, RoundError, SheetLocked
from contest.judging import (image_for_juror, juror_queue, juror_rounds, round_progress,
                             save_scores, submit_sheet, unlock_sheet)
from contest.messages import message_for
from contest.models import (Assignment, AuditEvent, EntryFile, EntryStatus, FileKind, Role,
                            RoundStatus, TrackKind)
from contest.rounds import close_round, create_round, eligible_entries, open_round, set_criteria
from contest.storage import get_storage
from contest.timeutil import utcnow
from tests import factories as f


@pytest.fixture
def setup(session, contest):
    """A round of 4 entries, 3 jurors, k=3: every juror has every entry."""
    units = [f.make_unit(session) for _ in range(4)]
    entries = [f.make_entry(session, u) for u in units]
    jurors = [f.make_user(session, Role.juror) for _ in range(3)]
    round_ = create_round(session, contest.track(TrackKind.vet_week), kind="preliminary",
                          name="初评", jurors=jurors, seed=5)
    open_round(session, round_, actor=None)
    return round_, entries, jurors


def _crit(round_):
    return {c.name: c for c in round_.criteria}


def _events(session, action):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


def test_eligible_entries_skip_drafts_withdrawn_and_disqualified(session, contest):
    unit = f.make_unit(session)
    ok = f.make_entry(session, unit)
    f.make_entry(session, unit, status=EntryStatus.draft)
    f.make_entry(session, unit, status=EntryStatus.withdrawn)
    f.make_entry(session, unit, status=EntryStatus.disqualified)
    f.make_entry(session, unit, track=TrackKind.lifelong_week)
    assert eligible_entries(session, contest.track(TrackKind.vet_week)) == [ok]


def test_create_round_gives_shuffled_anon_codes_and_aliases(setup, session):
    round_, entries, _jurors = setup
    codes = [re.anon_code for re in round_.round_entries]
    assert len(set(codes)) == 4
    assert all(c.startswith("A-") and len(c) == 5 for c in codes)
    for re in round_.round_entries:
        assert re.entry.code not in re.anon_code and str(re.entry_id) != re.anon_code[2:]
    assert [rj.alias for rj in round_.jurors] == ["评委A", "评委B", "评委C"]
    assert [c.name for c in round_.criteria] == ["思想性与主题", "创意", "艺术表现", "技术规范"]
    assert round_.max_total == 100
    assert [e.action for e in session.scalars(select(AuditEvent))][:2] == [
        "round.create", "round.assign"]


def test_later_round_takes_only_given_entries(setup, session, contest):
    round_, entries, jurors = setup
    later = create_round(session, contest.track(TrackKind.vet_week), kind="second",
                         name="复评", jurors=jurors, previous_round=round_,
                         entry_ids=[entries[1].id, entries[3].id])
    assert sorted(re.entry_id for re in later.round_entries) == [entries[1].id, entries[3].id]
    assert all(re.anon_code.startswith("B-") for re in later.round_entries)
    other = f.make_entry(session, f.make_unit(session), track=TrackKind.lifelong_week)
    with pytest.raises(RoundError) as err:
        create_round(session, contest.track(TrackKind.vet_week), kind="second", name="复评",
                     jurors=jurors, entry_ids=[other.id])
    assert err.value.code == "round_entry_invalid"


@pytest.mark.parametrize("value, code", [
    (-1, "score_range"), (30.5, "score_range"), ("abc", "score_range"), ("nan", "score_range"),
    ("inf", "score_range"), (12.3, "score_step"), ("7.25", "score_step"), (True, "score_range"),
])
def test_score_bounds_and_half_points(setup, session, value, code):
    round_, entries, jurors = setup
    theme = _crit(round_)["思想性与主题"]  # max 30
    with pytest.raises(InvalidScore) as err:
        save_scores(session, jurors[0], round_, entries[0], {theme.id: value}, "")
    assert err.value.code == code
    assert "思想性与主题" in message_for(err.value)


@pytest.mark.parametrize("value, stored", [(0, 0.0), (30, 30.0), ("12.5", 12.5), ("7，5", 7.5),
                                           (29.5, 29.5)])
def test_valid_points_are_stored(setup, session, value, stored):
    round_, entries, jurors = setup
    theme = _crit(round_)["思想性与主题"]
    review = save_scores(session, jurors[0], round_, entries[0], {str(theme.id): value}, None)
    assert [s.points for s in review.scores] == [stored]


def test_invalid_sheet_changes_nothing(setup, session):
    round_, entries, jurors = setup
    c = _crit(round_)
    save_scores(session, jurors[0], round_, entries[0], {c["创意"].id: 20}, "初稿")
    with pytest.raises(InvalidScore):
        save_scores(session, jurors[0], round_, entries[0],
                    {c["创意"].id: 10, c["技术规范"].id: 16}, "改过")
    review = save_scores(session, jurors[0], round_, entries[0], {}, None)
    assert {s.criterion_id: s.points for s in review.scores} == {c["创意"].id: 20.0}
    assert review.comment == "初稿"


def test_unknown_criterion_and_long_comment(setup, session):
    round_, entries, jurors = setup
    with pytest.raises(InvalidScore) as err:
        save_scores(session, jurors[0], round_, entries[0], {999999: 5}, "")
    assert err.value.code == "score_unknown_criterion"
    with pytest.raises(InvalidScore) as err:
        save_scores(session, jurors[0], round_, entries[0], {}, "好" * 2001)
    assert message_for(err.value) == "评语不超过2000字（当前：2001字）"


def test_score_changes_are_audited_with_old_and_new(setup, session):
    round_, entries, jurors = setup
    c = _crit(round_)
    save_scores(session, jurors[0], round_, entries[0], {c["创意"].id: 20}, "构图好")
    save_scores(session, jurors[0], round_, entries[0], {c["创意"].id: 22.5}, "构图好")
    save_scores(session, jurors[0], round_, entries[0], {c["创意"].id: 22.5}, "构图好")  # same
    save_scores(session, jurors[0], round_, entries[0], {c["创意"].id: ""}, "")
    events = _events(session, "score.update")
    assert len(events) == 3
    assert events[0].old == {"scores": {}, "comment": ""}
    assert events[0].new == {"scores": {"创意": 20.0}, "comment": "构图好"}
    assert events[1].old == {"scores": {"创意": 20.0}}
    assert events[1].new == {"scores": {"创意": 22.5}}
    assert events[2].new == {"scores": {}, "comment": ""}
    assert all(e.actor_id == jurors[0].id for e in events)


def test_not_assigned_juror_cannot_score(setup, session, contest):
    round_, entries, _jurors = setup
    outsider = f.make_user(session, Role.juror)
    with pytest.raises(NotAssigned):
        save_scores(session, outsider, round_, entries[0], {}, "x")
    with pytest.raises(NotAssigned):
        save_scores(session, outsider, round_, round_.round_entries[0].anon_code, {}, "x")
    assert juror_queue(session, outsider, round_) == []


def _score_all(session, round_, juror, value=10):
    for view in juror_queue(session, juror, round_):
        save_scores(session, juror, round_, view.anon_code,
                    {c.id: min(value, c.max_points) for c in view.criteria}, "")


def test_submit_needs_complete_sheet_then_locks_until_unlocked(setup, session, editor):
    round_, entries, jurors = setup
    juror = jurors[0]
    c = _crit(round_)
    save_scores(session, juror, round_, entries[0], {c["创意"].id: 20}, "")
    with pytest.raises(RoundError) as err:
        submit_sheet(session, juror, round_)
    assert message_for(err.value) == "还有4件作品未完成评分，完成后才能提交本轮评分"
    _score_all(session, round_, juror)
    rj = submit_sheet(session, juror, round_)
    assert rj.is_locked
    with pytest.raises(SheetLocked):
        save_scores(session, juror, round_, entries[0], {c["创意"].id: 21}, "")
    with pytest.raises(SheetLocked):
        submit_sheet(session, juror, round_)
    assert all(v.is_locked and not v.can_score for v in juror_queue(session, juror, round_))
    with pytest.raises(RoundError) as err:
        unlock_sheet(session, rj, editor, " ")
    assert err.value.code == "reason_required"
    unlock_sheet(session, rj, editor, "评委申请修改第2件作品评分")
    save_scores(session, juror, round_, entries[0], {c["创意"].id: 21}, "")
    event = _events(session, "sheet.unlock")[0]
    assert event.actor_id == editor.id and event.reason == "评委申请修改第2件作品评分"
    assert event.old["submitted_at"] and event.new == {"submitted_at": None}
    assert _events(session, "sheet.submit")[0].actor_id == juror.id


def test_closed_round_refuses_scores_and_images(setup, session, editor):
    round_, entries, jurors = setup
    close_round(session, round_, editor)
    with pytest.raises(RoundError) as err:
        save_scores(session, jurors[0], round_, entries[0], {}, "x")
    assert err.value.code == "round_not_open"
    assert juror_rounds(session, jurors[0]) == []
    assert _events(session, "round.close")[0].actor_id == editor.id


def test_round_time_window(setup, session):
    round_, entries, jurors = setup
    round_.closes_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(RoundError):
        save_scores(session, jurors[0], round_, entries[0], {}, "x")
    round_.closes_at = None
    round_.opens_at = utcnow() + timedelta(hours=1)
    with pytest.raises(RoundError):
        save_scores(session, jurors[0], round_, entries[0], {}, "x")


def test_rubric_is_fixed_once_scores_exist(setup, session, editor):
    round_, entries, jurors = setup
    set_criteria(session, round_, [("主题", "", 50), ("表现", "说明", 50)], editor)
    assert round_.max_total == 100
    save_scores(session, jurors[0], round_, entries[0], {round_.criteria[0].id: 40}, "")
    with pytest.raises(RoundError) as err:
        set_criteria(session, round_, [("主题", "", 100)], editor)
    assert err.value.code == "round_rubric_locked"


def test_progress_per_juror_and_entry(setup, session):
    round_, entries, jurors = setup
    _score_all(session, round_, jurors[0])
    submit_sheet(session, jurors[0], round_)
    c = _crit(round_)
    save_scores(session, jurors[1], round_, entries[2], {c["创意"].id: 3}, "")  # partial
    progress = round_progress(session, round_)
    by_juror = {p.juror_id: p for p in progress.jurors}
    assert (by_juror[jurors[0].id].assigned, by_juror[jurors[0].id].scored) == (4, 4)
    assert by_juror[jurors[0].id].submitted_at is not None
    assert (by_juror[jurors[1].id].assigned, by_juror[jurors[1].id].scored) == (4, 0)
    assert {p.juror_id for p in progress.late_jurors} == {jurors[1].id, jurors[2].id}
    assert {(p.assigned, p.scored) for p in progress.entries} == {(3, 1)}
    home = juror_rounds(session, jurors[0])
    assert [(r.assigned, r.scored, r.is_locked) for r in home] == [(4, 4, True)]


def _poster(seed=1):
    img = f.make_poster((1200, 1700), seed=seed)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, comment=b"SECRET-COMMENT")
    return buf.getvalue()


def test_juror_images_are_built_resized_and_redacted(session, contest, editor, app):
    unit = f.make_unit(session)
    entry = f.make_entry(session, unit)
    f.attach_original(session, entry, _poster())
    juror = f.make_user(session, Role.juror)
    app.config["JUROR_DISPLAY_LONG_EDGE_PX"] = 1000
    round_ = f.make_round_with_rubric(session, contest.track(TrackKind.vet_week), [juror])
    files = juror_files(entry)
    display, thumb = files[FileKind.juror_display], files[FileKind.juror_thumb]
    assert (display.width_px, display.height_px) == (706, 1000)
    assert max(thumb.width_px, thumb.height_px) == 480
    assert len(display.public_token) == 32 and display.public_token != thumb.public_token
    storage = get_storage()
    data = storage.path(display.storage_key).read_bytes()
    assert b"SECRET-COMMENT" not in data
    old_tokens = {display.public_token, thumb.public_token}
    old_keys = [display.storage_key, thumb.storage_key]
    assert image_for_juror(session, juror, display.public_token) is display

    red = add_redaction(session, entry, 0.1, 0.2, 0.5, 0.25, editor)
    session.commit()
    new = juror_files(entry)
    assert {x.public_token for x in new.values()}.isdisjoint(old_tokens)
    assert all(image_for_juror(session, juror, t) is None for t in old_tokens)
    assert not any(storage.path(k).exists() for k in old_keys)
    with Image.open(storage.path(new[FileKind.juror_display].storage_key)) as im:
        px = im.convert("RGB").load()
        w, h = im.size
        for fx, fy in [(0.12, 0.22), (0.35, 0.3), (0.58, 0.44)]:
            r, g, b = px[int(fx * w), int(fy * h)]
            assert abs(r - 128) <= 3 and abs(g - 128) <= 3 and abs(b - 128) <= 3
    ev = _events(session, "redaction.add")[0]
    assert ev.actor_id == editor.id and ev.new["w"] == 0.5
    # the original is untouched
    original = entry.current_file(FileKind.original)
    assert storage.path(original.storage_key).read_bytes() == _poster()
    remove_redaction(session, red, editor)
    session.commit()
    assert _events(session, "redaction.remove")[0].old["x"] == 0.1
    assert len(session.scalars(select(EntryFile).where(
        EntryFile.entry_id == entry.id, EntryFile.kind == FileKind.juror_display)).all()) == 1
    assert round_.status == RoundStatus.open


@pytest.mark.parametrize("box", [(-0.5, 0, 0.2, 0.2), (0.5, 0.5, 0.0005, 0.2),
                                 (1.2, 0, 0.1, 0.1), ("x", 0, 0.1, 0.1), (0, float("nan"), 1, 1)])
def test_redaction_outside_the_image_is_refused(session, contest, editor, box):
    entry = f.make_entry(session, f.make_unit(session))
    with pytest.raises(RedactionInvalid):
        add_redaction(session, entry, *box, actor=editor)


def test_image_only_for_assigned_juror_in_open_round(setup, session, contest, editor):
    round_, entries, jurors = setup
    entry = entries[0]
    f.attach_original(session, entry, _poster(3))
    from contest.anonymise import rebuild_juror_images

    files = rebuild_juror_images(session, entry)
    token = files[FileKind.juror_display].public_token
    assert image_for_juror(session, jurors[0], token) is not None
    outsider = f.make_user(session, Role.juror)
    assert image_for_juror(session, outsider, token) is None
    original = entry.current_file(FileKind.original)
    original.public_token = "original-token-for-test"
    assert image_for_juror(session, jurors[0], "original-token-for-test") is None
    a = session.scalar(select(Assignment).where(Assignment.entry_id == entry.id,
                                                Assignment.juror_id == jurors[0].id))
    a.is_active = False
    assert image_for_juror(session, jurors[0], token) is None
    a.is_active = True
    close_round(session, round_, editor)
    assert image_for_juror(session, jurors[0], token) is None


def test_round_images_skip_an_undecodable_original_and_build_the_rest(session, contest, app):
    good = f.make_entry(session, f.make_unit(session))
    bad = f.make_entry(session, f.make_unit(session))
    f.attach_original(session, good, _poster(7))
    original = f.attach_original(session, bad, _poster(8))
    get_storage().path(original.storage_key).write_bytes(b"\xff\xd8\xff\xe0 truncated")
    juror = f.make_user(session, Role.juror)
    f.make_round_with_rubric(session, contest.track(TrackKind.vet_week), [juror])
    assert set(juror_files(good)) == {FileKind.juror_display, FileKind.juror_thumb}
    assert juror_files(bad) == {}
    views = {v.anon_code: v for v in juror_queue(session, juror, _round_of(session))}
    assert sorted(v.display_url is None for v in views.values()) == [False, True]


def _round_of(session):
    from contest.models import Round

    return session.scalar(select(Round))


def test_outside_the_time_window_no_image_urls_are_handed_out(setup, session):
    round_, entries, jurors = setup
    f.attach_original(session, entries[0], _poster(2))
    from contest.anonymise import rebuild_juror_images

    rebuild_juror_images(session, entries[0])
    assert any(v.display_url for v in juror_queue(session, jurors[0], round_))
    round_.opens_at = utcnow() + timedelta(days=1)
    views = juror_queue(session, jurors[0], round_)
    assert all(v.display_url is None and v.thumb_url is None and not v.can_score for v in views)


def test_create_round_command_opens_and_assigns(runner, session, contest):
    units = [f.make_unit(session) for _ in range(3)]
    for u in units:
        f.make_entry(session, u)
    for login in ("ja", "jb", "jc", "jd"):
        f.make_user(session, Role.juror, login=login)
    session.commit()
    result = runner.invoke(args=["create-round", "--track", "vet_week", "--name", "初评",
                                 "--jurors-per-entry", "2", "--juror", "ja", "--juror", "jb",
                                 "--juror", "jc", "--juror", "jd"])
    assert result.exit_code == 0, result.output
    round_id = int(result.output.strip().splitlines()[-1])
    from contest.models import Round

    session.expire_all()
    round_ = session.get(Round, round_id)
    assert round_.status == RoundStatus.open and round_.jurors_per_entry == 2
    assert len(session.scalars(select(Assignment).where(Assignment.round_id == round_id)).all()) \
        == 6
    bad = runner.invoke(args=["create-round", "--track", "vet_week", "--name", "初评",
                              "--juror", "nobody"])
    assert bad.exit_code != 0 and "评委账号不存在：nobody" in bad.output
    bad = runner.invoke(args=["create-round", "--track", "lifelong_week", "--name", "初评",
                              "--juror", "ja"])
    assert bad.exit_code != 0 and "本轮没有可评审的作品" in bad.output


def test_entry_disqualified_mid_round_leaves_jurors_queues(setup, session):
    round_, entries, jurors = setup
    f.attach_original(session, entries[1], _poster(4))
    from contest.anonymise import rebuild_juror_images

    token = rebuild_juror_images(session, entries[1])[FileKind.juror_display].public_token
    code = next(re.anon_code for re in round_.round_entries if re.entry_id == entries[1].id)
    assert image_for_juror(session, jurors[0], token) is not None
    entries[1].status = EntryStatus.disqualified
    session.flush()
    assert code not in {v.anon_code for v in juror_queue(session, jurors[0], round_)}
    assert image_for_juror(session, jurors[0], token) is None
    with pytest.raises(NotAssigned):
        save_scores(session, jurors[0], round_, code, {}, "x")
    _score_all(session, round_, jurors[0])
    submit_sheet(session, jurors[0], round_)  # three entries left, all scored
    assert juror_rounds(session, jurors[0])[0].assigned == 3
