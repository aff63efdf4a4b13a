"""Every file of ../shared/corpus/manifest.tsv through the entrant's web form: its `full`
verdict under the notice's default rules, its `content` verdict on a contest with the width
and size rules switched off; never a 500; a refused file leaves nothing in storage.

Each file is posted as a new draft ("暂存") of a fresh unit, so duplicate detection between
corpus files (the same photo in eight orientations) does not decide the outcome."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from contest.models import Contest, Entry, FileKind, Role
from tests import factories
from tests.conftest import login_client
from tests.corpus_cases import expected_verdicts
from tests.entry_helpers import stored_files


def _outcomes(html: str) -> set[str]:
    """The reason codes of the image problems shown in the error summary."""
    return set(re.findall(r'<li data-rule="[a-z_]+" data-reason="([a-z_]+)">'
                          r'<a href="#field-image">', html))


def _walk(app, session, shared_dir, mode: str) -> list[str]:  # noqa: ANN001
    failures = []
    upload_dir = app.config["UPLOAD_DIR"]
    for case in expected_verdicts(shared_dir):
        unit = factories.make_unit(session)
        user = factories.make_user(session, Role.entrant, unit=unit)
        session.commit()
        client = login_client(app, user)
        before = stored_files(upload_dir)
        with case.path.open("rb") as fh:
            r = client.post("/submit/entries/new?track=vet_week",
                            data={"title": case.rel, "action": "draft",
                                  "image": (fh, case.path.name)},
                            content_type="multipart/form-data")
        if r.status_code == 302:
            entry = session.scalar(select(Entry).where(Entry.unit_id == unit.id))
            session.refresh(entry)
            got = {"ok"} if entry is not None and entry.current_file(FileKind.original) \
                else {"saved without image"}
        elif r.status_code == 422:
            got = _outcomes(r.get_data(as_text=True)) or {"422 without an image reason"}
            if stored_files(upload_dir) != before:
                failures.append(f"{case.rel}: refused but left files behind")
            if session.scalar(select(Entry).where(Entry.unit_id == unit.id)) is not None:
                failures.append(f"{case.rel}: refused but an entry was saved")
        else:
            got = {f"HTTP {r.status_code}"}
        if not all(case.allows(mode, g) for g in got):
            failures.append(f"{case.rel}: {mode} expected {sorted(case.expected(mode) or '*')}, "
                            f"got {sorted(got)}")
    return failures


def test_corpus_full_verdicts_under_the_notice_rules(app, session, contest, shared_dir):
    failures = _walk(app, session, shared_dir, "full")
    assert failures == []


@pytest.fixture
def content_only_contest(session, contest):  # noqa: ANN001, ANN201
    c = session.get(Contest, contest.id)
    c.min_width_px = None
    c.min_size_bytes = None
    c.max_size_bytes = None
    session.commit()
    return c


def test_corpus_content_verdicts_with_width_and_size_rules_off(app, session,
                                                                content_only_contest,
                                                                shared_dir):
    failures = _walk(app, session, shared_dir, "content")
    assert failures == []

