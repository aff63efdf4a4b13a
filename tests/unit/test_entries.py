"""The entries service without HTTP: text rules, submission, codes, quota under concurrency,
deadline, withdrawal, image storage and clean-up."""

from __future__ import annotations

import threading
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from contest import db, entries
from contest.errors import (AlreadySubmitted, DuplicateRefused, InvalidEntry, InvalidImage,
                            PhaseClosed, RulesBroken)
from contest.messages import message_for
from contest.models import AIUse, AuditEvent, Entry, EntryFile, EntryStatus, FileKind, Track
from contest.storage import get_storage
from tests import factories
from tests.entry_helpers import MIB, stored_files, write_poster

COMPLETE = dict(title="匠心筑梦", authors="张三", adviser="", statement="设计说明。",
                caption_time="2024年5月8日", caption_place="实训楼", caption_people="师生",
                caption_event="开放日", ai_use=AIUse.none, content_review_confirmed=True,
                content_reviewer="赵老师", originality_confirmed=True)


def data(**kw) -> entries.EntryData:
    return entries.EntryData(**{**COMPLETE, **kw})


def codes(problems) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(p.code, p.params.get("field", "")) for p in problems]


# ------------------------------------------------------------------------------- text


def test_clean_text_counts_what_the_entrant_sees():
    assert entries.clean_text("  a\r\nb\rc\x00\u200b ") == "a\nb\nc"
    decomposed = unicodedata.normalize("NFD", "é")
    assert entries.count_chars(decomposed) == 1
    assert entries.count_chars("字" * 299 + "\r\n") == 299


@pytest.mark.parametrize("name,expected", [
    ("海报.jpg", "海报.jpg"),
    ("C:/Users/老师/桌面/海报.JPG", "海报.JPG"),
    ("..\\..\\etc\\passwd", "passwd"),
    ("a\nb.png", "a b.png"),
    ("长" * 300 + ".jpg", "长" * 251 + ".jpg"),
    (None, ""),
])
def test_clean_filename_is_display_data(name, expected):
    assert entries.clean_filename(name) == expected


def test_rule_problems_name_every_rule_at_once(contest):
    broken = data(title="", authors=" ", statement="字" * 301, caption_time="",
                  caption_event="", ai_use=None, content_review_confirmed=False,
                  content_reviewer="", originality_confirmed=False)
    got = codes(entries.rule_problems(broken, contest, has_image=False))
    assert got == [("required", "title"), ("required", "authors"),
                   ("caption_missing", "caption_time"), ("caption_missing", "caption_event"),
                   ("too_long", "statement"), ("ai_use_missing", "ai_use"),
                   ("content_review_missing", "content_review_confirmed"),
                   ("content_reviewer_missing", "content_reviewer"),
                   ("originality_missing", "originality_confirmed"),
                   ("image_missing", "image")]
    assert entries.rule_problems(data(), contest, has_image=True) == []


def test_statement_limit_comes_from_the_contest(session, contest):
    assert entries.rule_problems(data(statement="字" * 300), contest, has_image=True) == []
    (p,) = entries.rule_problems(data(statement="字" * 301), contest, has_image=True)
    assert message_for(p) == "设计说明不超过300字（当前：301字）"
    contest.max_statement_chars = 800
    assert entries.rule_problems(data(statement="字" * 801), contest,
                                 has_image=True)[0].params["max"] == 800


def test_fields_longer_than_their_columns_are_refused_even_for_drafts(session, contest):
    unit = factories.make_unit(session)
    with pytest.raises(RulesBroken) as info:
        entries.create_draft(session, contest=contest, track=contest.track("vet_week"),
                             unit=unit, data=data(title="题" * 101), created_by=None)
    assert message_for(info.value.errors[0]) == "作品名称不超过100字（当前：101字）"


# ----------------------------------------------------------------------- submission


def _draft(session, contest, unit=None, track="vet_week", **kw) -> Entry:  # noqa: ANN001
    unit = unit or factories.make_unit(session)
    entry = entries.create_draft(session, contest=contest, track=contest.track(track),
                                 unit=unit, data=data(**kw), created_by=None)
    return entry


def _with_image(session, app, entry: Entry, seed: int, tmp_path: Path) -> None:  # noqa: ANN001
    prepared = _prepare(app, entry.contest, write_poster(tmp_path, f"p{seed}.jpg", seed=seed))
    entries.attach_image(session, entry, prepared, actor=None)


def _prepare(app, contest, path: Path) -> entries.PreparedImage:  # noqa: ANN001
    cfg = app.config
    return entries.prepare_image(path, rules=entries.intake_rules(contest,
                                                                  cfg["MAX_IMAGE_PIXELS"]),
                                 storage=get_storage(app), original_filename=path.name,
                                 preview_long_edge_px=cfg["PREVIEW_LONG_EDGE_PX"],
                                 thumb_long_edge_px=cfg["THUMB_LONG_EDGE_PX"])


def test_submit_hands_out_codes_per_track_and_logs_it(session, app, contest, tmp_path):
    made = []
    for seed, track in ((50, "vet_week"), (51, "lifelong_week"), (52, "vet_week")):
        entry = _draft(session, contest, track=track)
        _with_image(session, app, entry, seed, tmp_path)
        entries.submit_entry(session, entry, actor=None, data=data())
        made.append(entry)
    assert [e.code for e in made] == ["ZJ2024-0001", "ZS2024-0001", "ZJ2024-0002"]
    assert all(e.status == EntryStatus.submitted and e.submitted_at for e in made)
    assert contest.track("vet_week").next_number == 3
    logged = session.scalars(select(AuditEvent).where(AuditEvent.action == "entry.submit"))
    assert sorted(e.new["code"] for e in logged) == sorted(e.code for e in made)
    with pytest.raises(AlreadySubmitted):
        entries.submit_entry(session, made[0], actor=None)


def test_submit_skips_a_code_typed_in_elsewhere(session, app, contest, tmp_path):
    unit = factories.make_unit(session)
    factories.make_entry(session, unit, code="ZJ2024-0001", status=EntryStatus.draft)
    entry = _draft(session, contest)
    _with_image(session, app, entry, 53, tmp_path)
    entries.submit_entry(session, entry, actor=None, data=data())
    assert entry.code == "ZJ2024-0002"


def test_submit_reports_every_problem_and_changes_nothing(session, contest):
    entry = _draft(session, contest, caption_place="")
    with pytest.raises(RulesBroken) as info:
        entries.submit_entry(session, entry, actor=None, data=data(caption_place=""))
    assert codes(info.value.errors) == [("caption_missing", "caption_place"),
                                        ("image_missing", "image")]
    assert entry.status == EntryStatus.draft and entry.code is None
    assert contest.track("vet_week").next_number == 1


def test_a_draft_saved_before_choosing_has_no_ai_use_declaration(session, app, contest,
                                                                 tmp_path):
    entry = _draft(session, contest, ai_use=None)  # saved as a draft before choosing
    _with_image(session, app, entry, 54, tmp_path)
    assert entry.ai_use is None  # nothing is assumed on the entrant's behalf
    with pytest.raises(RulesBroken) as info:
        entries.submit_entry(session, entry, actor=None)  # (no declaration sent)
    assert codes(info.value.errors) == [("ai_use_missing", "ai_use")]
    sent = data(ai_use=AIUse.none)
    entries.update_entry(session, entry, sent)  # the view applies what was sent
    entries.submit_entry(session, entry, actor=None, data=sent)
    assert entry.status == EntryStatus.submitted
    assert entries.EntryData.from_entry(entry).ai_use == AIUse.none


def test_a_draft_saved_with_no_ai_keeps_the_answer_and_can_be_submitted(session, app, contest,
                                                                       tmp_path):
    entry = _draft(session, contest, ai_use=AIUse.none)  # 否 chosen, then 暂存
    _with_image(session, app, entry, 55, tmp_path)
    session.commit()
    session.expire_all()
    assert entries.EntryData.from_entry(entry).ai_use == AIUse.none
    entries.submit_entry(session, entry, actor=None)  # the stored answer counts
    assert entry.status == EntryStatus.submitted


def test_deadline_is_checked_in_utc_and_named_in_china_time(session, app, contest, tmp_path):
    contest.submissions_close_at = datetime(2024, 5, 12, 15, 59, tzinfo=timezone.utc)
    entry = Entry(contest=contest, track=contest.track("vet_week"),
                  unit=factories.make_unit(session), **{k: v for k, v in COMPLETE.items()})
    session.add(entry)
    session.flush()
    before = datetime(2024, 5, 12, 15, 58, 59, tzinfo=timezone.utc)
    after = datetime(2024, 5, 12, 15, 59, tzinfo=timezone.utc)
    assert entries.is_open(contest, before) and not entries.is_open(contest, after)
    with pytest.raises(RulesBroken) as info:
        entries.submit_entry(session, entry, actor=None, data=data(), now=after)
    deadline = next(e for e in info.value.errors if isinstance(e, PhaseClosed))
    assert message_for(deadline) == "已超过截止时间（2024年5月12日 23:59），无法提交"
    with pytest.raises(PhaseClosed):
        entries.update_entry(session, entry, data(title="晚了"), now=after)
    with pytest.raises(PhaseClosed):
        entries.withdraw_entry(session, entry, actor=None, now=after)
    assert not entries.can_edit(entry, after) and entries.can_edit(entry, before)


def test_quota_counts_only_submitted_entries(session, app, contest, tmp_path):
    unit = factories.make_unit(session)
    for i in range(3):
        factories.make_entry(session, unit, title=f"已交{i}")
    factories.make_entry(session, unit, status=EntryStatus.withdrawn)
    factories.make_entry(session, unit, status=EntryStatus.disqualified)
    track = contest.track("vet_week")
    assert entries.remaining_quota(session, unit, track) == 0
    entry = _draft(session, contest, unit=unit)
    _with_image(session, app, entry, 55, tmp_path)
    with pytest.raises(RulesBroken) as info:
        entries.submit_entry(session, entry, actor=None, data=data())
    assert message_for(info.value.errors[0]) == \
        "每个单位在“职业教育活动周”赛道最多提交3件作品（当前已提交：3件）"
    other_track = _draft(session, contest, unit=unit, track="lifelong_week")
    _with_image(session, app, other_track, 56, tmp_path)
    entries.submit_entry(session, other_track, actor=None, data=data())


def test_withdraw_frees_the_place_and_resubmission_keeps_the_code(session, app, contest,
                                                                    tmp_path):
    entry = _draft(session, contest)
    _with_image(session, app, entry, 57, tmp_path)
    entries.submit_entry(session, entry, actor=None, data=data())
    entries.withdraw_entry(session, entry, actor=None)
    assert entry.status == EntryStatus.withdrawn and entry.withdrawn_at
    assert entries.count_submitted(session, entry.unit_id, entry.track_id) == 0
    with pytest.raises(InvalidEntry):
        entries.withdraw_entry(session, entry, actor=None)
    entries.submit_entry(session, entry, actor=None, data=data())
    assert entry.code == "ZJ2024-0001" and entry.withdrawn_at is None


def test_a_submitted_entry_stays_complete_and_a_disqualified_one_is_frozen(session, app,
                                                                            contest, tmp_path):
    entry = _draft(session, contest)
    _with_image(session, app, entry, 58, tmp_path)
    entries.submit_entry(session, entry, actor=None, data=data())
    with pytest.raises(RulesBroken):
        entries.update_entry(session, entry, data(caption_people=""))
    assert entry.caption_people == "师生"
    entries.update_entry(session, entry, data(title="新名称"))
    assert entry.title == "新名称"
    entry.status = EntryStatus.disqualified
    for action in (lambda: entries.update_entry(session, entry, data()),
                   lambda: entries.withdraw_entry(session, entry, actor=None),
                   lambda: entries.submit_entry(session, entry, actor=None)):
        with pytest.raises(InvalidEntry) as info:
            action()
        assert info.value.code == "not_editable"


# ---------------------------------------------------------------------------- images


def test_prepare_stores_the_original_unchanged_and_metadata_free_derivatives(app, contest,
                                                                             tmp_path):
    path = write_poster(tmp_path, "海报.jpg", seed=59)
    prepared = _prepare(app, contest, path)
    storage = get_storage(app)
    assert prepared.original_created
    assert storage.path(prepared.original_key).read_bytes() == path.read_bytes()
    assert prepared.original_key.endswith(f"{prepared.info.sha256}.jpg")
    sizes = {d.kind: (d.width_px, d.height_px) for d in prepared.derivatives}
    assert max(sizes[FileKind.preview]) == app.config["PREVIEW_LONG_EDGE_PX"]
    assert max(sizes[FileKind.thumb]) == app.config["THUMB_LONG_EDGE_PX"]
    for d in prepared.derivatives:
        blob = storage.path(d.key).read_bytes()
        assert blob[:3] == b"\xff\xd8\xff" and b"Exif" not in blob and len(blob) == d.size_bytes


def test_size_and_width_problems_are_reported_together(app, contest, tmp_path):
    path = write_poster(tmp_path, "small.jpg", seed=60, size=(1500, 2000), nbytes=MIB)
    with pytest.raises(RulesBroken) as info:
        _prepare(app, contest, path)
    assert [e.code for e in info.value.errors] == ["size_small", "width"]
    assert all(isinstance(e, InvalidImage) for e in info.value.errors)
    assert stored_files(app.config["UPLOAD_DIR"]) == []


def test_one_problem_only_raises_invalid_image(app, contest, tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 32)
    with pytest.raises(InvalidImage) as info:
        _prepare(app, contest, path)
    assert message_for(info.value) == "图片格式仅支持 JPG、PNG（当前文件实际为 WebP 格式）"


def test_exactly_10_mib_is_accepted(app, contest, tmp_path):
    prepared = _prepare(app, contest, write_poster(tmp_path, "big.jpg", seed=61,
                                                   nbytes=10 * MIB))
    assert prepared.info.size_bytes == 10 * MIB


def test_replacing_keeps_history(session, app, contest, tmp_path):
    entry = _draft(session, contest)
    _with_image(session, app, entry, 62, tmp_path)
    first = entry.current_file(FileKind.original)
    _with_image(session, app, entry, 63, tmp_path)
    second = entry.current_file(FileKind.original)
    assert second.id != first.id and not first.is_current
    assert [f.kind for f in entry.files if f.is_current] == [FileKind.original,
                                                             FileKind.preview, FileKind.thumb]


def test_refused_upload_leaves_no_file_but_shared_originals_stay(session, app, contest,
                                                                 tmp_path, monkeypatch):
    storage = get_storage(app)
    kept = _draft(session, contest)
    _with_image(session, app, kept, 64, tmp_path)
    session.commit()
    before = stored_files(app.config["UPLOAD_DIR"])

    def refuse(*_a, **_kw):  # noqa: ANN002, ANN003, ANN202
        raise DuplicateRefused(entry_code="ZJ2024-0009", same_track=True, kind="exact")

    monkeypatch.setattr("contest.dedup.hooks.image_stored", refuse)
    # a new file refused: everything it wrote is removed
    other = _draft(session, contest)
    fresh = _prepare(app, contest, write_poster(tmp_path, "new.jpg", seed=65))
    with pytest.raises(DuplicateRefused):
        entries.attach_image(session, other, fresh, actor=None)
    session.rollback()
    entries.discard_prepared(session, storage, fresh)
    assert stored_files(app.config["UPLOAD_DIR"]) == before
    # the same bytes as a stored original: its own derivatives go, the original stays
    other = _draft(session, contest)
    same = _prepare(app, contest, write_poster(tmp_path, "p64.jpg", seed=64))
    assert not same.original_created
    with pytest.raises(DuplicateRefused):
        entries.attach_image(session, other, same, actor=None)
    session.rollback()
    entries.discard_prepared(session, storage, same)
    assert stored_files(app.config["UPLOAD_DIR"]) == before
    assert session.scalar(select(EntryFile.id).where(EntryFile.entry_id == other.id)) is None


def test_confirm_stored_rewrites_an_original_removed_by_a_concurrent_refusal(app, contest,
                                                                             tmp_path):
    storage = get_storage(app)
    path = write_poster(tmp_path, "p.jpg", seed=66)
    prepared = _prepare(app, contest, path)
    storage.delete(prepared.original_key)  # what a concurrent refused upload may do
    entries.confirm_stored(storage, prepared)
    assert storage.path(prepared.original_key).read_bytes() == path.read_bytes()


# -------------------------------------------------------------------------- concurrency


def _submit_in_thread(app, entry_id: int, results: dict,  # noqa: ANN001
                      barrier: threading.Barrier) -> None:
    """Submit like a request would: own session, commit, retry SQLite lock conflicts."""
    barrier.wait()
    for _attempt in range(20):
        session = db.new_session(app)
        try:
            entry = session.get(Entry, entry_id)
            entries.submit_entry(session, entry, actor=None, data=data())
            session.commit()
            results[entry_id] = entry.code
            return
        except RulesBroken as err:
            session.rollback()
            results[entry_id] = err.errors[0].code
            return
        except OperationalError:
            session.rollback()
        finally:
            session.close()
    results[entry_id] = "gave up"


def _submit_concurrently(app, ids: list[int]) -> dict:  # noqa: ANN001
    results: dict = {}
    barrier = threading.Barrier(len(ids))
    threads = [threading.Thread(target=_submit_in_thread, args=(app, i, results, barrier))
               for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_submissions_get_distinct_consecutive_codes(session, app, contest,
                                                               tmp_path):
    ids = []
    for seed in range(70, 76):
        entry = _draft(session, contest)  # a unit each
        _with_image(session, app, entry, seed, tmp_path)
        ids.append(entry.id)
    session.commit()
    results = _submit_concurrently(app, ids)
    assert sorted(results.values()) == [f"ZJ2024-{n:04d}" for n in range(1, 7)]
    session.expire_all()
    assert session.get(Track, contest.track("vet_week").id).next_number == 7


def test_concurrent_submissions_cannot_overrun_the_quota(session, app, contest, tmp_path):
    unit = factories.make_unit(session)
    factories.make_entry(session, unit, title="已交1")
    factories.make_entry(session, unit, title="已交2")
    ids = []
    for seed in range(80, 84):
        entry = _draft(session, contest, unit=unit)
        _with_image(session, app, entry, seed, tmp_path)
        ids.append(entry.id)
    session.commit()
    results = _submit_concurrently(app, ids)
    assert sorted(results.values()) == ["ZJ2024-0003", "quota", "quota", "quota"]
    session.expire_all()
    assert entries.count_submitted(session, unit.id, contest.track("vet_week").id) == 3


def test_current_contest_is_the_newest_not_archived(session, contest):
    factories.make_contest(session, year=2023, closes_in_days=-300)
    factories.make_contest(session, year=2025, is_archived=True)
    assert entries.current_contest(session).id == contest.id
