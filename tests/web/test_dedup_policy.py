"""The duplicate submission policy (issue #3, point 4) through the entrant's web form
(`POST /submit/entries/new`, `POST /submit/entries/<id>/image`): every row of the policy,
on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from contest.models import (DuplicateFlag, Entry, EntryStatus, ImageFingerprint, Role,
                            TrackKind)
from tests import dedup_support as ds
from tests.conftest import login_client
from tests.entry_helpers import ENTRY_FIELDS
from tests.factories import make_user


@pytest.fixture
def world(app, session, contest, entrant):  # noqa: ANN001, ANN201
    ds.relax_rules(session, contest)
    other = make_user(session, Role.entrant, login="school2", display_name="另一所学校")
    session.commit()

    class World:
        pass

    w = World()
    w.app, w.session, w.contest = app, session, contest
    w.entrant, w.other = entrant, other
    w.client = login_client(app, entrant)
    w.other_client = login_client(app, other)
    return w




def submit_new(client, data: bytes, *, track: str = "vet_week",  # noqa: ANN001, ANN201
               filename: str = "海报.jpg", action: str = "submit"):
    form = {**ENTRY_FIELDS, "action": action, "image": (io.BytesIO(data), filename)}
    return client.post(f"/submit/entries/new?track={track}", data=form,
                       content_type="multipart/form-data")


def replace(client, entry_id: int, data: bytes, filename: str = "新海报.jpg"):  # noqa: ANN001, ANN201
    return client.post(f"/submit/entries/{entry_id}/image",
                       data={"image": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _entries(session, unit_id: int) -> list[Entry]:  # noqa: ANN001
    session.expire_all()
    return list(session.scalars(select(Entry).where(Entry.unit_id == unit_id)
                                .order_by(Entry.id)))


def _accepted(response) -> None:  # noqa: ANN001
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


# ------------------------------------------------------------- refused rows

@pytest.mark.parametrize("variant, kind", [
    ("exact", "exact"),            # the same file again
    ("resized", "duplicate"),      # resized and recompressed
    ("exif_rotated", "duplicate"),  # stored turned, displayed upright (EXIF orientation 6)
    ("transparent", "duplicate"),  # RGBA PNG over noise, displayed on white
])
def test_same_unit_same_track_copy_is_refused_naming_the_entry(world, variant, kind):
    img = ds.poster(40)
    first_bytes = ds.jpeg(ds.white_bordered(img) if variant == "transparent" else img)
    _accepted(submit_new(world.client, first_bytes))
    (first,) = _entries(world.session, world.entrant.unit_id)
    second = {"exact": first_bytes, "resized": ds.jpeg(ds.resized_copy(img), quality=80),
              "exif_rotated": ds.exif_rotated_jpeg(img),
              "transparent": ds.transparent_png(img)}[variant]
    response = submit_new(world.client, second, filename="海报（终稿）.png")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f"该图片与本单位已提交的作品 {first.code} 重复" in text
    assert "替换图片" in text
    assert [e.id for e in _entries(world.session, world.entrant.unit_id)] == [first.id]
    assert world.session.scalar(select(func.count(ImageFingerprint.id))) == 1
    assert world.session.scalar(select(func.count(DuplicateFlag.id))) == 0


def test_same_unit_other_track_duplicate_is_refused(world):
    img = ds.poster(41)
    _accepted(submit_new(world.client, ds.jpeg(img), track="vet_week"))
    (first,) = _entries(world.session, world.entrant.unit_id)
    response = submit_new(world.client, ds.png(ds.resized_copy(img)), track="lifelong_week")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f"该图片与本单位在另一赛道提交的作品 {first.code} 重复" in text
    assert "同一作品只能参加一个赛道" in text
    assert len(_entries(world.session, world.entrant.unit_id)) == 1


def test_same_unit_draft_counts_and_is_named_by_title(world):
    img = ds.poster(42)
    _accepted(submit_new(world.client, ds.jpeg(img), action="draft"))
    response = submit_new(world.client, ds.jpeg(ds.resized_copy(img)), action="draft")
    assert response.status_code == 422
    assert f"暂存的作品《{ENTRY_FIELDS['title']}》重复" in response.get_data(as_text=True)


def test_replacing_with_a_copy_of_another_own_entry_is_refused(world):
    a, b = ds.poster(43), ds.poster(44)
    _accepted(submit_new(world.client, ds.jpeg(a)))
    _accepted(submit_new(world.client, ds.jpeg(b)))
    first, second = _entries(world.session, world.entrant.unit_id)
    response = replace(world.client, second.id, ds.jpeg(ds.resized_copy(a)))
    assert response.status_code == 422
    assert first.code in response.get_data(as_text=True)
    world.session.expire_all()
    assert world.session.get(Entry, second.id).current_file().sha256 == ds.sha256(ds.jpeg(b))


# ------------------------------------------------------------- accepted rows

def test_replacing_an_image_with_a_near_copy_of_itself_is_allowed(world):
    img = ds.poster(45)
    _accepted(submit_new(world.client, ds.jpeg(img)))
    (entry,) = _entries(world.session, world.entrant.unit_id)
    _accepted(replace(world.client, entry.id, ds.jpeg(ds.resized_copy(img), quality=75)))
    world.session.expire_all()
    assert world.session.scalar(select(func.count(ImageFingerprint.id))) == 2
    assert world.session.scalar(select(func.count(DuplicateFlag.id))) == 0


def test_another_units_copy_is_accepted_silently_and_flagged(world):
    img = ds.poster(46)
    _accepted(submit_new(world.client, ds.jpeg(img)))
    (first,) = _entries(world.session, world.entrant.unit_id)
    response = submit_new(world.other_client, ds.jpeg(ds.resized_copy(img)))
    _accepted(response)
    page = world.other_client.get(response.headers["Location"], follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "作品已提交" in text
    # the entrant is told nothing about another unit's entry
    assert first.code not in text and world.entrant.unit.name not in text and "重复" not in text
    (second,) = _entries(world.session, world.other.unit_id)
    assert second.status == EntryStatus.submitted
    (flag,) = world.session.scalars(select(DuplicateFlag)).all()
    assert (flag.entry_a_id, flag.entry_b_id, flag.kind) == (first.id, second.id, "duplicate")


def test_template_sibling_of_another_unit_is_flagged_similar(world):
    _accepted(submit_new(world.client, ds.jpeg(ds.sibling(47, "ALPHA"))))
    _accepted(submit_new(world.other_client, ds.jpeg(ds.sibling(47, "OMEGA")),
                         track="lifelong_week"))
    (flag,) = world.session.scalars(select(DuplicateFlag)).all()
    assert flag.kind == "similar"


def test_reference_library_copy_is_accepted_and_flagged(world, runner, tmp_path):
    img = ds.poster(48)
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "2023一等奖.jpg").write_bytes(ds.jpeg(img))
    result = runner.invoke(args=["import-reference", str(tmp_path / "ref"),
                                 "--label", "2023 获奖作品"])
    assert result.exit_code == 0, result.output
    _accepted(submit_new(world.client, ds.png(ds.white_bordered(img))))
    (entry,) = _entries(world.session, world.entrant.unit_id)
    (flag,) = world.session.scalars(select(DuplicateFlag)).all()
    assert flag.entry_a_id == entry.id and flag.reference_image_id is not None
    assert flag.kind == "duplicate"


def test_blank_posters_of_one_unit_are_not_refused_as_duplicates(world):
    """PITFALLS.md #9: different flat images share every global hash."""
    _accepted(submit_new(world.client, ds.png(ds.flat((255, 255, 255)))))
    _accepted(submit_new(world.client, ds.png(ds.flat((30, 60, 200)))))
    assert len(_entries(world.session, world.entrant.unit_id)) == 2


def test_withdrawn_entry_does_not_block_its_poster(world):
    img = ds.poster(49)
    _accepted(submit_new(world.client, ds.jpeg(img)))
    (first,) = _entries(world.session, world.entrant.unit_id)
    _accepted(world.client.post(f"/submit/entries/{first.id}/withdraw", data={"confirm": "y"}))
    _accepted(submit_new(world.client, ds.jpeg(img), track="lifelong_week"))
    assert [e.status for e in _entries(world.session, world.entrant.unit_id)] == [
        EntryStatus.withdrawn, EntryStatus.submitted]
    assert _entries(world.session, world.entrant.unit_id)[1].track.kind == TrackKind.lifelong_week


def test_withdrawn_entry_cannot_come_back_once_its_poster_was_entered_again(world):
    img = ds.poster(50)
    _accepted(submit_new(world.client, ds.jpeg(img)))
    (first,) = _entries(world.session, world.entrant.unit_id)
    _accepted(world.client.post(f"/submit/entries/{first.id}/withdraw", data={"confirm": "y"}))
    _accepted(submit_new(world.client, ds.jpeg(img)))
    second = _entries(world.session, world.entrant.unit_id)[1]
    r = world.client.post(f"/submit/entries/{first.id}/submit", follow_redirects=True)
    text = r.get_data(as_text=True)
    assert r.status_code in (200, 409)
    assert second.code in text and "重复" in text
    assert _entries(world.session, world.entrant.unit_id)[0].status == EntryStatus.withdrawn
