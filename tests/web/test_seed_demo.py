"""seed-demo: the demo contest with accounts and entries whose posters are real files stored
through the entries service. A full demo composes 13 posters (about 1 s each, plus storage
and duplicate detection: ~17 s in all on an idle 2-core machine); the tests make three with
`--entries 3`."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from PIL import Image
from sqlalchemy import func, select

from contest.demo import DEMO_ACCOUNTS, DEMO_ENTRIES, DEMO_PASSWORD, DEMO_UNITS
from contest.models import (City, Contest, Entry, EntryFile, EntryStatus, FileKind, MIB, Role,
                            Unit, User)
from contest.storage import get_storage
from contest.timeutil import to_local, utcnow
from tests.conftest import login_client


def _count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def test_seed_demo_creates_contest_accounts_and_real_entries(app, runner, session):
    result = runner.invoke(args=["seed-demo", "--entries", "3"])
    assert result.exit_code == 0, result.output
    contest = session.scalar(select(Contest))
    today = to_local(utcnow()).date()
    assert contest.year == today.year and contest.name.endswith("（演示）")
    close = to_local(contest.submissions_close_at)
    assert close.date() - today == timedelta(days=21) and (close.hour, close.minute) == (23, 59)
    assert sorted(t.kind.value for t in contest.tracks) == ["lifelong_week", "vet_week"]
    assert _count(session, City) == 11
    assert _count(session, Unit) == len(DEMO_UNITS) >= 20
    assert len({c for _n, c, _t in DEMO_UNITS}) == 11  # every city has a demo unit

    for account in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.login == account.login))
        assert user.role == account.role and not user.must_change_password
        assert account.login in result.output
    school = session.scalar(select(User).where(User.login == "demo_school"))
    assert school.unit.name == "山西工程科技职业大学"
    assert school.check_password(DEMO_PASSWORD) and DEMO_PASSWORD in result.output
    assert {r.value for r in Role} == {a.role.value for a in DEMO_ACCOUNTS}
    assert sum(a.role == Role.juror for a in DEMO_ACCOUNTS) == 5

    entries = list(session.scalars(select(Entry).order_by(Entry.id)))
    assert [e.title for e in entries] == [s.title for s in DEMO_ENTRIES[:3]]
    assert all(e.status == EntryStatus.submitted and e.code for e in entries)
    storage = get_storage(app)
    for entry in entries:
        original = entry.current_file(FileKind.original)
        path = storage.path(original.storage_key)
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == original.sha256
        assert 2 * MIB <= len(data) <= 10 * MIB
        assert (original.width_px, original.height_px) == (2480, 3508)
        assert original.original_filename == f"{entry.unit.name}-{entry.title}.jpg"
        with Image.open(path) as im:
            assert im.format == "JPEG" and im.size == (2480, 3508)
        for kind in (FileKind.preview, FileKind.thumb):
            assert storage.path(entry.current_file(kind).storage_key).is_file()

    # the demo logins work: the entrant's dashboard, the editor's list with the entries
    assert login_client(app, school).get("/submit/").status_code == 200
    editor = session.scalar(select(User).where(User.login == "demo_editor"))
    html = login_client(app, editor).get("/admin/entries/").get_data(as_text=True)
    assert "共 3 件作品" in html and DEMO_ENTRIES[0].title in html


def test_skip_if_present_is_a_no_op_and_a_second_load_is_refused(runner, session):
    assert runner.invoke(args=["seed-demo", "--entries", "0"]).exit_code == 0
    before = (_count(session, Contest), _count(session, Unit), _count(session, User),
              _count(session, EntryFile))
    again = runner.invoke(args=["seed-demo", "--stage", "judging", "--skip-if-present"])
    assert again.exit_code == 0, again.output
    assert "跳过" in again.output and "demo_editor" in again.output
    refused = runner.invoke(args=["seed-demo", "--entries", "0"])
    assert refused.exit_code == 1 and "演示比赛已存在" in refused.output
    after = (_count(session, Contest), _count(session, Unit), _count(session, User),
             _count(session, EntryFile))
    assert after == before


def test_later_stages_run_on_top_of_the_base_and_report_their_steps(runner, session):
    result = runner.invoke(args=["seed-demo", "--stage", "results", "--entries", "0"])
    assert result.exit_code == 0, result.output
    assert _count(session, Contest) == 1
    assert "说明：" in result.output
    contest = session.scalar(select(Contest))
    assert contest.submissions_close_at < utcnow()  # results are final: submissions closed


def test_missing_photos_are_named_and_nothing_is_saved(runner, session, tmp_path):
    result = runner.invoke(args=["seed-demo", "--samples-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "缺少示例照片" in result.output and "coffee.jpg" in result.output
    assert _count(session, Contest) == 0


def test_duplicate_review_cases_point_at_other_units_posters():
    """The two deliberate cases reuse an earlier poster of a *different* unit (a unit's
    own duplicate would be refused at submission, not queued for editors)."""
    copies = [(i, s) for i, s in enumerate(DEMO_ENTRIES) if s.copy_of is not None]
    templates = [(i, s) for i, s in enumerate(DEMO_ENTRIES) if s.template_of is not None]
    assert len(copies) == 1 and len(templates) == 1
    for i, spec in copies + templates:
        other = DEMO_ENTRIES[spec.copy_of if spec.copy_of is not None else spec.template_of]
        assert DEMO_ENTRIES.index(other) < i and other.unit != spec.unit
    assert 2000 <= int(2480 * copies[0][1].scale)  # the resized copy still meets the rule
    # no other two posters share both photo and layout (that would be a third template case)
    own = [(s.photo, s.layout) for s in DEMO_ENTRIES
           if s.copy_of is None and s.template_of is None]
    assert len(own) == len(set(own))


def test_judging_stage_covers_the_unit_names_painted_on_posters(runner, session):
    from contest.models import EntryStatus, FileKind, Redaction

    result = runner.invoke(args=["seed-demo", "--stage", "judging", "--entries", "2"])
    assert result.exit_code == 0, result.output
    assert "已遮挡" in result.output
    submitted = session.scalars(select(Entry).where(Entry.status == EntryStatus.submitted)).all()
    assert submitted
    for entry in submitted:
        (box,) = session.scalars(select(Redaction).where(Redaction.entry_id == entry.id)).all()
        assert box.y > 0.8 and 0 < box.w < 1  # the unit's name sits in the bottom text block
        assert entry.current_file(FileKind.juror_display) is not None
