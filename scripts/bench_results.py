"""Timing of the results area on a large round (not a test; prints numbers).

Builds a throwaway SQLite database with ENTRIES entries scored by 3 of JURORS jurors each on
the default rubric, then times: loading and ranking under all three methods, juror agreement,
placing awards, and the CSV / XLSX exports.

    .venv/bin/python scripts/bench_results.py [ENTRIES] [JURORS]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contest import awards, create_app, db, export, scoring  # noqa: E402
from contest.models import (DEFAULT_RUBRIC, Contest, Criterion, Entry, EntryStatus,  # noqa: E402
                            Review, Role, Round, RoundEntry, RoundJuror, Score, Track,
                            TrackKind, Unit, User)


def build(session, n_entries: int, n_jurors: int) -> Round:  # noqa: ANN001
    now = datetime.now(timezone.utc)
    contest = Contest(name="bench", year=2024, submissions_close_at=now)
    session.add(contest)
    track = Track(contest=contest, kind=TrackKind.vet_week, name="职业教育活动周", code_prefix="ZJ")
    session.add(track)
    jurors = [User(login=f"j{i}", role=Role.juror, password_hash="x") for i in range(n_jurors)]
    units = [Unit(name=f"单位{i}") for i in range(max(1, n_entries // 3))]
    session.add_all(jurors + units)
    round_ = Round(track=track, name="初评", status="closed")
    for pos, (name, desc, mx) in enumerate(DEFAULT_RUBRIC):
        round_.criteria.append(Criterion(position=pos, name=name, description=desc,
                                         max_points=mx))
    for i, j in enumerate(jurors):
        round_.jurors.append(RoundJuror(juror=j, alias=scoring.alias_for(i), submitted_at=now))
    session.add(round_)
    session.flush()
    rng = random.Random(1)
    for i in range(n_entries):
        entry = Entry(contest=contest, track=track, unit=units[i % len(units)],
                      code=f"ZJ2024-{i + 1:04d}", title=f"作品{i}",
                      status=EntryStatus.submitted)
        session.add(entry)
        session.flush()
        session.add(RoundEntry(round_id=round_.id, entry_id=entry.id, anon_code=f"A-{i:04d}"))
        quality = rng.uniform(0.5, 0.95)
        for j in rng.sample(jurors, 3):
            review = Review(round_id=round_.id, entry_id=entry.id, juror_id=j.id, comment="好")
            review.scores = [Score(criterion_id=c.id,
                                   points=round(min(1, quality + rng.gauss(0, .05))
                                                * c.max_points * 2) / 2)
                             for c in round_.criteria]
            session.add(review)
    session.flush()
    return round_


def timed(label: str, fn):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    value = fn()
    print(f"{label:<38} {1000 * (time.perf_counter() - start):8.1f} ms")
    return value


def main() -> None:
    n_entries = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    n_jurors = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                          "INSTANCE_PATH": tmp, "SECRET_KEY": "bench", "UPLOAD_DIR": tmp})
        db.create_schema(app)
        with app.app_context():
            session = db.new_session(app)
            round_ = timed(f"build {n_entries} entries × 3 of {n_jurors} jurors",
                           lambda: build(session, n_entries, n_jurors))
            session.commit()
            rows = timed("load score rows", lambda: scoring.load_score_rows(session, round_))
            timed("rank under all three methods",
                  lambda: scoring.compute_all_methods(session, round_, rows))
            timed("juror agreement (W, ICC, per juror)",
                  lambda: scoring.agreement(session, round_, rows))
            timed("compute_results (load + rank)", lambda: scoring.compute_results(session,
                                                                                   round_))
            timed("apply_placement", lambda: awards.apply_placement(session, round_.track,
                                                                    None))
            csv = timed("results CSV", lambda: export.results_csv(session, round_, None))
            xlsx = timed("results XLSX", lambda: export.results_xlsx(session, round_, None))
            print(f"CSV {len(csv)} bytes, XLSX {len(xlsx)} bytes")
            session.close()
        db.get_engine(app).dispose()


if __name__ == "__main__":
    main()
