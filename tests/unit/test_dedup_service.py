"""Duplicate detection in the database (contest/dedup/service.py): fingerprints stored on
intake, the search scope, the submission policy, flags, clusters, decisions, rehash and the
in-process index cache. Images go through the real intake path (tests/dedup_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from contest.dedup import service
from contest.errors import ContestError, DuplicateRefused
from contest.messages import message_for
from contest.models import (AuditEvent, DuplicateFlag, Entry, EntryStatus, FlagStatus,
                            ImageFingerprint, TrackKind)
from contest.storage import get_storage
from tests import dedup_support as ds
from tests.factories import make_unit


@pytest.fixture
def dd(app, session, contest, editor):  # noqa: ANN001, ANN201
    """Arranged world: the contest with small-poster rules, two units, an editor."""
    ds.relax_rules(session, contest)
    session.commit()

    class World:
        pass

    w = World()
    w.app, w.session, w.contest, w.editor = app, session, contest, editor
    w.unit1, w.unit2, w.unit3 = make_unit(session), make_unit(session), make_unit(session)
    session.commit()
    return w


def _flags(session) -> list[DuplicateFlag]:  # noqa: ANN001
    session.expire_all()
    return list(session.scalars(select(DuplicateFlag).order_by(DuplicateFlag.id)))


def _count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- storage of hashes

def test_unsigned_64_bit_hashes_survive_the_database_as_text(dd):
    entry = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.poster(1)))
    row = dd.session.scalar(select(ImageFingerprint))
    assert row.entry_file.entry_id == entry.id and row.algo_version
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1, 0x8000_0000_0000_0001):
        row.phash = service.phash_hex(value)
        dd.session.commit()
        dd.session.expire_all()
        stored = dd.session.get(ImageFingerprint, row.id).phash
        assert len(stored) == 16 and int(stored, 16) == value
        assert service.phash_array([stored])[0] == value


# ---------------------------------------------------------------- submission policy

def test_same_unit_same_track_exact_copy_is_refused_naming_the_entry(dd):
    data = ds.jpeg(ds.poster(1))
    first = ds.new_entry(dd.session, dd.app, dd.unit1, data)
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, data)
    assert err.value.params["entry_code"] == first.code
    assert err.value.params["same_track"] is True and err.value.params["kind"] == "exact"
    text = message_for(err.value)
    assert first.code in text and "替换图片" in text
    # nothing of the refused attempt is left
    assert _count(dd.session, Entry) == 1
    assert _count(dd.session, ImageFingerprint) == 1
    assert _flags(dd.session) == []


def test_same_unit_same_track_resized_copy_is_refused_as_duplicate(dd):
    img = ds.poster(2)
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img))
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.resized_copy(img), quality=80))
    assert err.value.params == {**err.value.params, "entry_code": first.code,
                                "same_track": True, "kind": "duplicate"}


def test_same_unit_other_track_duplicate_is_refused(dd):
    img = ds.poster(3)
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img), track=TrackKind.vet_week)
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.png(ds.resized_copy(img)),
                     track=TrackKind.lifelong_week)
    assert err.value.params["same_track"] is False
    assert err.value.params["entry_code"] == first.code
    text = message_for(err.value)
    assert first.code in text and "另一赛道" in text


def test_replacing_an_entry_image_with_a_near_copy_of_itself_is_allowed(dd):
    img = ds.poster(4)
    entry = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img))
    ds.store_image(dd.session, dd.app, entry, ds.jpeg(ds.resized_copy(img), quality=75))
    ds.store_image(dd.session, dd.app, entry, ds.jpeg(img))  # and back to the same bytes
    assert _count(dd.session, ImageFingerprint) == 3
    assert _flags(dd.session) == []


def test_other_units_copy_is_accepted_and_flagged_for_editors(dd):
    data = ds.jpeg(ds.poster(5))
    first = ds.new_entry(dd.session, dd.app, dd.unit1, data)
    second = ds.new_entry(dd.session, dd.app, dd.unit2, data)  # no error: entrant told nothing
    copy = ds.new_entry(dd.session, dd.app, dd.unit3, ds.jpeg(ds.resized_copy(ds.poster(5))))
    flags = _flags(dd.session)
    pairs = {(f.entry_a_id, f.entry_b_id): f for f in flags}
    assert pairs[(first.id, second.id)].kind == "exact"
    assert pairs[(first.id, copy.id)].kind == "duplicate"
    assert pairs[(second.id, copy.id)].kind == "duplicate"
    assert all(f.status == FlagStatus.open and f.contest_id == dd.contest.id for f in flags)
    assert all(f.entry_a_id < f.entry_b_id for f in flags)
    assert pairs[(first.id, copy.id)].file_a.entry_id == first.id
    assert pairs[(first.id, copy.id)].file_b.entry_id == copy.id


def test_template_siblings_are_similar_never_duplicate_and_not_refused(dd):
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.sibling(6, "ALPHA")))
    # the same unit's second poster on its own template: accepted
    own = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.sibling(6, "BRAVO")))
    other = ds.new_entry(dd.session, dd.app, dd.unit2, ds.jpeg(ds.sibling(6, "CHARLIE")))
    flags = _flags(dd.session)
    assert flags, "template siblings must reach an editor"
    assert {f.kind for f in flags} == {"similar"}
    assert {first.id, own.id, other.id} >= {f.entry_a_id for f in flags}


def test_distinct_posters_are_not_flagged(dd):
    for seed, unit in ((11, dd.unit1), (12, dd.unit2), (13, dd.unit1)):
        ds.new_entry(dd.session, dd.app, unit, ds.jpeg(ds.poster(seed)))
    assert _flags(dd.session) == []


def test_withdrawn_entries_do_not_count(dd):
    data = ds.jpeg(ds.poster(7))
    gone = ds.new_entry(dd.session, dd.app, dd.unit1, data, status=EntryStatus.withdrawn)
    again = ds.new_entry(dd.session, dd.app, dd.unit1, data)
    assert again.code and gone.status == EntryStatus.withdrawn
    ds.new_entry(dd.session, dd.app, dd.unit2, data)
    flagged = {(f.entry_a_id, f.entry_b_id) for f in _flags(dd.session)}
    assert flagged == {(again.id, again.id + 1)}


def test_submitting_a_withdrawn_entry_again_is_checked_against_the_unit(dd):
    """While an entry is withdrawn its poster may enter again as a new entry; then the
    withdrawn one cannot be submitted again (hooks.entry_submitting)."""
    from contest.dedup import hooks

    data = ds.jpeg(ds.poster(36))
    gone = ds.new_entry(dd.session, dd.app, dd.unit1, data, status=EntryStatus.withdrawn)
    again = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.resized_copy(ds.poster(36))))
    with pytest.raises(DuplicateRefused) as err:
        hooks.entry_submitting(dd.session, dd.session.get(Entry, gone.id))
    assert err.value.params["entry_code"] == again.code
    other = ds.new_entry(dd.session, dd.app, dd.unit2, ds.jpeg(ds.poster(37)),
                         status=EntryStatus.draft)
    hooks.entry_submitting(dd.session, dd.session.get(Entry, other.id))  # nothing to refuse


def test_the_units_own_drafts_count_for_the_policy(dd):
    img = ds.poster(8)
    draft = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img), status=EntryStatus.draft,
                         title="草稿海报")
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.resized_copy(img)))
    assert err.value.params["is_draft"] is True and err.value.params["entry_code"] is None
    assert err.value.params["entry_title"] == draft.title
    text = message_for(err.value)
    assert "草稿海报" in text and "暂存" in text


def test_flags_with_a_draft_stay_hidden_until_it_is_submitted(dd):
    data = ds.jpeg(ds.poster(9))
    ds.new_entry(dd.session, dd.app, dd.unit1, data)
    draft = ds.new_entry(dd.session, dd.app, dd.unit2, data, status=EntryStatus.draft)
    assert len(_flags(dd.session)) == 1
    assert service.open_flags(dd.session, dd.contest.id) == []
    ds.set_status(dd.session, dd.session.get(Entry, draft.id), EntryStatus.submitted)
    assert len(service.open_flags(dd.session, dd.contest.id)) == 1


def test_reference_library_match_is_flagged(dd, tmp_path):
    img = ds.poster(10)
    path = tmp_path / "往届一等奖.png"
    path.write_bytes(ds.png(img))
    res = _add_reference(dd, path)
    assert res.status == "added"
    assert _add_reference(dd, path).status == "exists"  # the same bytes again: a no-op
    entry = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.resized_copy(img)))
    (flag,) = _flags(dd.session)
    assert flag.entry_a_id == entry.id and flag.reference_image_id == res.reference.id
    assert flag.entry_b_id is None and flag.kind == "duplicate"


def _add_reference(dd, path, label="2023 获奖作品"):  # noqa: ANN001, ANN202
    res = service.add_reference(dd.session, path, label=label, original_filename=path.name,
                                storage=get_storage(dd.app),
                                max_pixels=dd.app.config["MAX_IMAGE_PIXELS"],
                                preview_long_edge_px=800, thumb_long_edge_px=300)
    dd.session.commit()
    return res


def test_importing_a_reference_flags_entries_already_stored(dd, tmp_path):
    img = ds.poster(34)
    entry = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img))
    draft = ds.new_entry(dd.session, dd.app, dd.unit2, ds.jpeg(ds.resized_copy(img)),
                         status=EntryStatus.draft)
    ds.new_entry(dd.session, dd.app, dd.unit3, ds.jpeg(ds.poster(35)))  # unrelated
    path = tmp_path / "template.png"
    path.write_bytes(ds.png(ds.white_bordered(img)))
    dd.session.execute(DuplicateFlag.__table__.delete())  # only the reference's flags below
    dd.session.commit()
    res = _add_reference(dd, path)
    assert res.status == "added" and res.flagged == 2
    flags = _flags(dd.session)
    assert {(f.entry_a_id, f.reference_image_id, f.kind) for f in flags} == {
        (entry.id, res.reference.id, "duplicate"), (draft.id, res.reference.id, "duplicate")}
    assert [f.entry_a_id for f in service.open_flags(dd.session, dd.contest.id)] == [entry.id]


def test_reference_import_refuses_non_images_by_content(dd, tmp_path):
    fake = tmp_path / "poster.jpg"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    res = _add_reference(dd, fake)
    assert res.status == "refused" and res.error.code == "format"


# ---------------------------------------------------------------- pitfalls

def test_blank_images_never_match_each_other_on_hashes_alone(dd):
    """PITFALLS.md #9: a flat white and a flat blue poster share every global hash."""
    ds.new_entry(dd.session, dd.app, dd.unit1, ds.png(ds.flat((255, 255, 255))))
    # the same unit's blue blank poster is not refused as a duplicate of the white one
    ds.new_entry(dd.session, dd.app, dd.unit1, ds.png(ds.flat((20, 60, 200))))
    ds.new_entry(dd.session, dd.app, dd.unit2, ds.png(ds.flat((200, 30, 30))))
    assert [f for f in _flags(dd.session) if f.kind != "similar"] == []


def test_transparent_png_is_compared_as_displayed_on_white(dd):
    """PITFALLS.md #10: the hidden RGB under transparency must not matter."""
    img = ds.poster(14)
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.white_bordered(img)))
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.transparent_png(img))
    assert err.value.params["entry_code"] == first.code
    # two transparent PNGs with different hidden noise from two units: one poster
    a = ds.new_entry(dd.session, dd.app, dd.unit2, ds.transparent_png(img))
    flags = [f for f in _flags(dd.session) if a.id in (f.entry_a_id, f.entry_b_id)]
    assert [f.kind for f in flags] == ["duplicate"]


def test_exif_rotated_copy_is_the_same_poster(dd):
    img = ds.poster(15)
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img))
    with pytest.raises(DuplicateRefused) as err:
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.exif_rotated_jpeg(img))
    assert err.value.params["entry_code"] == first.code
    assert err.value.params["kind"] == "duplicate"


# ---------------------------------------------------------------- flags over time

def test_replacing_an_image_refreshes_open_flags(dd):
    data = ds.jpeg(ds.poster(16))
    ds.new_entry(dd.session, dd.app, dd.unit1, data)
    copier = ds.new_entry(dd.session, dd.app, dd.unit2, data)
    assert len(_flags(dd.session)) == 1
    ds.store_image(dd.session, dd.app, copier, ds.jpeg(ds.poster(17)))
    assert _flags(dd.session) == []


def test_decided_pairs_never_come_back(dd):
    data = ds.jpeg(ds.poster(18))
    first = ds.new_entry(dd.session, dd.app, dd.unit1, data)
    second = ds.new_entry(dd.session, dd.app, dd.unit2, data)
    (flag,) = _flags(dd.session)
    service.decide_flag(dd.session, flag, actor=dd.editor, decision="not_duplicate",
                        reason="两校联合制作，经核实为同一作品的授权使用")
    dd.session.commit()
    summary = service.rescan_contest(dd.session, dd.contest.id)
    dd.session.commit()
    assert summary.entries == 2 and summary.added == 0
    # a new image of either entry that still matches does not reopen the pair either
    ds.store_image(dd.session, dd.app, second, ds.jpeg(ds.resized_copy(ds.poster(18))))
    (flag,) = _flags(dd.session)
    assert flag.status == FlagStatus.not_duplicate
    assert flag.decided_by_id == dd.editor.id and flag.decided_at is not None
    assert service.open_flags(dd.session, dd.contest.id) == []
    assert first.id == flag.entry_a_id


def test_rescan_restores_missing_open_flags_and_keeps_ids(dd):
    data = ds.jpeg(ds.poster(19))
    ds.new_entry(dd.session, dd.app, dd.unit1, data)
    ds.new_entry(dd.session, dd.app, dd.unit2, data)
    ds.new_entry(dd.session, dd.app, dd.unit3, data)
    before = {(f.entry_a_id, f.entry_b_id): f.id for f in _flags(dd.session)}
    dd.session.delete(dd.session.get(DuplicateFlag, min(before.values())))
    dd.session.commit()
    summary = service.rescan_contest(dd.session, dd.contest.id)
    dd.session.commit()
    after = {(f.entry_a_id, f.entry_b_id): f.id for f in _flags(dd.session)}
    assert set(after) == set(before) and summary.added == 1 and summary.removed == 0
    assert all(after[k] == v for k, v in before.items() if v != min(before.values()))


def test_disqualifying_records_reason_status_and_audit(dd):
    data = ds.jpeg(ds.poster(20))
    ds.new_entry(dd.session, dd.app, dd.unit1, data)
    copier = ds.new_entry(dd.session, dd.app, dd.unit2, data)
    (flag,) = _flags(dd.session)
    with pytest.raises(ContestError) as err:
        service.decide_flag(dd.session, flag, actor=dd.editor, decision="disqualify",
                            reason="  ", disqualify_entry_id=copier.id)
    assert err.value.code == "reason_required"
    with pytest.raises(ContestError) as err:
        service.decide_flag(dd.session, flag, actor=dd.editor, decision="disqualify",
                            reason="x", disqualify_entry_id=9999)
    assert err.value.code == "dedup_bad_decision"
    service.decide_flag(dd.session, flag, actor=dd.editor, decision="disqualify",
                        reason="与其他单位作品完全相同", disqualify_entry_id=copier.id)
    dd.session.commit()
    dd.session.expire_all()
    copier = dd.session.get(Entry, copier.id)
    assert copier.status == EntryStatus.disqualified
    assert copier.status_reason == "与其他单位作品完全相同"
    flag = dd.session.get(DuplicateFlag, flag.id)
    assert flag.status == FlagStatus.disqualified and flag.disqualified_entry_id == copier.id
    actions = {(e.action, e.actor_id) for e in dd.session.scalars(select(AuditEvent))}
    assert {("entry.disqualify", dd.editor.id), ("dedup.decide", dd.editor.id)} <= actions
    with pytest.raises(ContestError) as err:
        service.decide_flag(dd.session, flag, actor=dd.editor, decision="not_duplicate",
                            reason="再次处理")
    assert err.value.code == "dedup_already_decided"


def test_clusters_are_connected_components(dd):
    a = ds.jpeg(ds.poster(21))
    b = ds.jpeg(ds.poster(22))
    e1 = ds.new_entry(dd.session, dd.app, dd.unit1, a)
    e2 = ds.new_entry(dd.session, dd.app, dd.unit2, a)
    e3 = ds.new_entry(dd.session, dd.app, dd.unit3, ds.jpeg(ds.resized_copy(ds.poster(21))))
    e4 = ds.new_entry(dd.session, dd.app, dd.unit1, b)
    e5 = ds.new_entry(dd.session, dd.app, dd.unit2, b)
    groups = service.clusters(service.open_flags(dd.session, dd.contest.id))
    assert [sorted(e.id for e in g.entries) for g in groups] == [[e1.id, e2.id, e3.id],
                                                                  [e4.id, e5.id]]
    assert groups[0].kind == "exact" and len(groups[0].flags) == 3
    counts = service.kind_counts(service.open_flags(dd.session, dd.contest.id))
    assert counts == {"exact": 2, "duplicate": 2, "similar": 0}


# ---------------------------------------------------------------- index cache, rehash

def test_index_cache_appends_new_rows_and_rebuilds_after_deletes_and_rollbacks(dd):
    service.reset_index_cache()
    ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.poster(23)))
    state = service.hash_index(dd.session)
    rebuilds = state.rebuilds
    ds.new_entry(dd.session, dd.app, dd.unit2, ds.jpeg(ds.poster(24)))
    state = service.hash_index(dd.session)
    assert state.rebuilds == rebuilds and state.appends >= 1 and len(state.ids) == 2
    # a rolled-back fingerprint (a refused upload) must not stay in the index, even when
    # SQLite hands its id to the next row
    with pytest.raises(DuplicateRefused):
        ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.poster(23)))
    data = ds.jpeg(ds.poster(25))
    third = ds.new_entry(dd.session, dd.app, dd.unit3, data)
    state = service.hash_index(dd.session)
    stored = set(dd.session.scalars(select(ImageFingerprint.id)))
    assert set(state.ids.tolist()) == stored
    row = dd.session.scalar(select(ImageFingerprint).where(
        ImageFingerprint.entry_file_id == third.current_file().id))
    pos = state.ids.tolist().index(row.id)
    assert int(state.phashes[pos]) == int(row.phash, 16)
    dd.session.delete(dd.session.get(Entry, third.id))
    dd.session.commit()
    state = service.hash_index(dd.session)
    assert len(state.ids) == 2 and state.rebuilds == rebuilds + 1


def test_rehash_recomputes_other_versions_and_adds_missing(dd):
    from contest import imaging

    entry = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(ds.poster(26)))
    row = dd.session.scalar(select(ImageFingerprint))
    created, phash = row.created_at, row.phash
    row.algo_version = "old/0"
    dd.session.commit()
    state = service.hash_index(dd.session)
    assert len(state.ids) == 0  # rows of another version are not searched
    storage = get_storage(dd.app)
    summary = service.rehash(dd.session, lambda key: imaging.load_normalised(storage.path(key)))
    dd.session.commit()
    assert summary.recomputed == 1 and summary.added == 0 and summary.failed == []
    (row,) = dd.session.scalars(select(ImageFingerprint)).all()
    assert row.created_at > created and row.phash == phash
    state = service.hash_index(dd.session)  # the replaced row is noticed
    assert state.ids.tolist() == [row.id]
    assert row.algo_version == service.dedup_engine.ALGO_VERSION
    dd.session.delete(row)
    dd.session.commit()
    summary = service.rehash(dd.session, lambda key: imaging.load_normalised(storage.path(key)))
    dd.session.commit()
    assert summary.added == 1
    assert dd.session.scalar(select(ImageFingerprint)).entry_file.entry_id == entry.id


# ---------------------------------------------------------------- commands

def test_import_reference_adds_images_by_content_and_reimport_is_a_no_op(dd, runner, tmp_path):
    from contest.models import ReferenceImage

    folder = tmp_path / "往届"
    (folder / "二等奖").mkdir(parents=True)
    (folder / "一等奖 海报.JPG").write_bytes(ds.jpeg(ds.poster(30)))
    (folder / "二等奖" / "named.jpg").write_bytes(ds.png(ds.poster(31)))  # a PNG named .jpg
    (folder / "说明.txt").write_text("往届获奖名单", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    result = runner.invoke(args=["import-reference", str(folder), "--label", "2023 获奖作品"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    statuses = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in lines[:-1]}
    assert statuses == {"一等奖 海报.JPG": "added", "named.jpg": "added", "说明.txt": "refused"}
    assert "新增 2 张" in lines[-1] and "未导入 1 个文件" in lines[-1]
    refs = dd.session.scalars(select(ReferenceImage).order_by(ReferenceImage.id)).all()
    assert [(r.label, r.format, r.original_filename) for r in refs] == [
        ("2023 获奖作品", "JPEG", "一等奖 海报.JPG"), ("2023 获奖作品", "PNG", "named.jpg")]
    assert all(r.fingerprint is not None and get_storage(dd.app).exists(r.storage_key)
               and r.thumb_key and r.preview_key for r in refs)
    again = runner.invoke(args=["import-reference", str(folder), "--label", "另一个标签"])
    assert again.exit_code == 0 and "已存在 2 张" in again.output
    assert _count(dd.session, ReferenceImage) == 2
    assert service.reference_labels(dd.session) == [("2023 获奖作品", 2)]


def test_dedup_rehash_command_recomputes_and_rescans(dd, runner):
    data = ds.jpeg(ds.poster(32))
    ds.new_entry(dd.session, dd.app, dd.unit1, data)
    ds.new_entry(dd.session, dd.app, dd.unit2, data)
    for row in dd.session.scalars(select(ImageFingerprint)):
        row.algo_version = "old/0"
    dd.session.execute(DuplicateFlag.__table__.delete())
    dd.session.commit()
    result = runner.invoke(args=["dedup-rehash"])
    assert result.exit_code == 0, result.output
    assert "重新计算 2 个" in result.output and "新增标记 1" in result.output
    assert {r.algo_version for r in dd.session.scalars(select(ImageFingerprint))} == {
        service.dedup_engine.ALGO_VERSION}
    assert len(_flags(dd.session)) == 1
    result = runner.invoke(args=["dedup-rehash"])
    assert "重新计算 0 个" in result.output and "新增标记 0" in result.output


def test_prepare_before_the_transaction_is_reused_by_the_hook(dd, monkeypatch):
    """hooks.prepare verifies candidates early; image_stored then verifies nothing again."""
    from contest.dedup import hooks

    img = ds.poster(33)
    first = ds.new_entry(dd.session, dd.app, dd.unit1, ds.jpeg(img))
    copy = ds.resized_copy(img)
    entry = ds.make_entry(dd.session, dd.unit2, status=EntryStatus.draft)
    dd.session.commit()
    hooks.prepare(copy, "f" * 64, session=dd.session, entry=entry)
    calls = []
    real = service.dedup_engine.compare
    monkeypatch.setattr(service.dedup_engine, "compare", lambda a, b: calls.append(1) or real(a, b))
    monkeypatch.setattr(service.dedup_engine, "fingerprint_image",
                        lambda *a: pytest.fail("fingerprinted twice"))
    from contest.models import EntryFile, FileKind

    ef = EntryFile(entry=entry, kind=FileKind.original, storage_key="originals/x.jpg",
                   sha256="f" * 64, size_bytes=1, format="JPEG", width_px=1, height_px=1)
    dd.session.add(ef)
    dd.session.flush()
    matches = service.check_new_image(dd.session, entry, ef, copy)
    assert calls == [] and [m.entry.id for m in matches] == [first.id]
