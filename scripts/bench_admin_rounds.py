"""Time the editors' 评审轮次 pages at contest scale on a temporary SQLite database: the
rounds list, a round's detail page (progress per juror and entry), the audit log filtered by
round, and saving redaction boxes on an A4 poster (each box rebuilds the juror images).
Prints the best of N runs in ms and exits 1 when a target is missed.

    .venv/bin/python scripts/bench_admin_rounds.py [--runs 3] [--entries 600]

Targets (one request on one core, best of N): list, detail and audit pages under 1 s with
600 entries × 3 jurors (1,800 assignments, 900 complete reviews) and 20,000 audit events;
one redaction box on an A4 (2480 × 3508) poster under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from contest import create_app, db  # noqa: E402
from contest.models import (Assignment, AuditEvent, Review, Role, Score,  # noqa: E402
                            TrackKind)
from contest.rounds import create_round, open_round  # noqa: E402
from tests import factories as f  # noqa: E402
from tests.conftest import login_client, make_test_config  # noqa: E402

TARGETS_MS = {"rounds list": 1000, "round detail": 1000, "audit log, one round": 1000,
              "audit log, all": 1000, "redaction box (A4)": 2000}


def seed(app, n_entries: int) -> tuple[int, int, object]:  # noqa: ANN001
    with app.app_context():
        s = db.new_session(app)
        contest = f.make_contest(s)
        editor = f.make_user(s, Role.editor, login="bench-editor")
        units = [f.make_unit(s) for _ in range(max(1, n_entries // 3))]
        entries = [f.make_entry(s, units[i % len(units)]) for i in range(n_entries)]
        jurors = [f.make_user(s, Role.juror) for _ in range(15)]
        f.attach_original(s, entries[0], f.poster_bytes(f.make_poster((2480, 3508), seed=1)))
        round_ = create_round(s, contest.track(TrackKind.vet_week), kind="preliminary",
                              name="初评", jurors=jurors, seed=1, actor=editor)
        open_round(s, round_, actor=editor)
        assignments = list(s.scalars(select(Assignment).order_by(Assignment.id)))
        for a in assignments[: len(assignments) // 2]:
            review = Review(round_id=round_.id, entry_id=a.entry_id, juror_id=a.juror_id)
            review.scores = [Score(criterion_id=c.id, points=c.max_points / 2)
                             for c in round_.criteria]
            s.add(review)
        s.flush()
        s.add_all(AuditEvent(actor_id=editor.id, action="score.update", object_type="reviews",
                             object_id=i, old={"scores": {"创意": 10}},
                             new={"scores": {"创意": 12}}) for i in range(20_000))
        s.commit()
        return round_.id, entries[0].id, editor


def best_ms(fn, runs: int) -> float:  # noqa: ANN001
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t0) * 1000
        best = ms if best is None else min(best, ms)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_test_config(Path(tmp)))
        db.create_schema(app)
        round_id, entry_id, editor = seed(app, args.entries)
        client = login_client(app, editor)

        def get(url: str):  # noqa: ANN202
            def run() -> None:
                r = client.get(url)
                assert r.status_code == 200, (url, r.status_code)
            return run

        def redact() -> None:
            r = client.post(f"/admin/rounds/entries/{entry_id}/redactions",
                            json={"rects": [{"x": 0.1, "y": 0.8, "w": 0.5, "h": 0.1}]})
            assert r.status_code == 200, r.get_data(True)

        timings = {
            "rounds list": best_ms(get("/admin/rounds/"), args.runs),
            "round detail": best_ms(get(f"/admin/rounds/{round_id}"), args.runs),
            "audit log, one round": best_ms(get(f"/admin/rounds/audit?round={round_id}"),
                                            args.runs),
            "audit log, all": best_ms(get("/admin/rounds/audit?page=200"), args.runs),
            "redaction box (A4)": best_ms(redact, args.runs),
        }
    failed = False
    for name, ms in timings.items():
        target = TARGETS_MS[name]
        ok = ms <= target
        failed |= not ok
        print(f"{name:24s} {ms:8.1f} ms   target {target} ms   {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
