#!/usr/bin/env python3
"""Judging benchmark (issue #4): assignment time and balance for a large track, juror-image
build time per poster, and the juror queue / scoring page response times.

    .venv/bin/python scripts/bench_judging.py                 # 600 entries, 15 jurors
    .venv/bin/python scripts/bench_judging.py --entries 1500  # a bigger year

Runs on a throw-away SQLite database (or DATABASE_URL) in a temporary folder; nothing of the
real instance is touched. Targets (not asserted in tests): opening a 600-entry round assigns
in well under a second; a juror image of a 2480x3508 poster builds in under a second; the
queue and scoring pages answer in under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=600)
    parser.add_argument("--jurors", type=int, default=15)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--images", type=int, default=9,
                        help="posters to build juror images for")
    args = parser.parse_args()

    from sqlalchemy import select

    from contest import create_app, db
    from contest.anonymise import build_round_images, rebuild_juror_images
    from contest.assignment import record_conflict
    from contest.models import Assignment, Role, TrackKind
    from contest.rounds import create_round, open_round
    from tests import factories as f
    from tests.conftest import login_client, make_test_config

    tmp = Path(tempfile.mkdtemp(prefix="bench-judging-"))
    cfg = make_test_config(tmp)
    if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        cfg["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app = create_app(cfg)
    db.create_schema(app)
    rng = random.Random(1)
    with app.app_context():
        s = db.new_session()
        contest = f.make_contest(s)
        contest.exclude_same_city_jurors = True
        cities = ["太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市",
                  "忻州市", "临汾市", "吕梁市"]
        units = [f.make_unit(s, city=rng.choice(cities)) for _ in range(max(10, args.entries // 3))]
        for i in range(args.entries):
            f.make_entry(s, units[i % len(units)])
        jurors = [f.make_user(s, Role.juror, unit=rng.choice(units + [None] * len(units)))
                  for _ in range(args.jurors)]
        for j in jurors[:5]:
            record_conflict(s, j, unit=rng.choice(units), reason="bench", actor=None)
        s.commit()
        track = contest.track(TrackKind.vet_week)
        t0 = time.perf_counter()
        round_ = create_round(s, track, kind="preliminary", name="初评", jurors=jurors,
                              jurors_per_entry=args.k, seed=7)
        t1 = time.perf_counter()
        report = open_round(s, round_, actor=None)
        t2 = time.perf_counter()
        s.commit()
        loads = Counter(s.scalars(select(Assignment.juror_id).where(
            Assignment.round_id == round_.id, Assignment.is_active.is_(True))))
        print(f"entries {args.entries}, jurors {args.jurors}, k {args.k} (same-city exclusion on, "
              f"5 unit conflicts)")
        print(f"  create_round {1000 * (t1 - t0):.0f} ms; open_round (assign, no images) "
              f"{1000 * (t2 - t1):.0f} ms")
        print(f"  assignments {report.total_active}, shortfalls {len(report.shortfalls)}, "
              f"loads min {min(loads.values())} max {max(loads.values())}")

        # juror images at real poster size: one entry alone, then a batch as open_round does
        posters = [f.poster_bytes(f.make_poster(seed=i)) for i in range(args.images)]
        entries = [round_.round_entries[i].entry for i in range(args.images)]
        for entry, data in zip(entries, posters, strict=True):
            f.attach_original(s, entry, data)
        s.flush()
        t = time.perf_counter()
        rebuild_juror_images(s, entries[0])
        single = time.perf_counter() - t
        for entry in entries[1:]:  # a fresh original makes the batch rebuild them all
            f.attach_original(s, entry, posters[0] + b"\0")
        s.flush()
        t = time.perf_counter()
        built = build_round_images(s, round_)
        batch = time.perf_counter() - t
        s.commit()
        print(f"  juror images (2480x3508 JPEG -> 2560 px display + 480 px thumb): one entry "
              f"{1000 * single:.0f} ms; build_round_images {built} entries "
              f"{1000 * batch / max(built, 1):.0f} ms per entry ({os.cpu_count()} CPUs)")

        juror = max(jurors, key=lambda j: loads[j.id])
        client = login_client(app, juror)
        client.get(f"/judge/r/{round_.id}/")
        anon = s.scalar(select(Assignment).where(Assignment.juror_id == juror.id,
                                                 Assignment.round_id == round_.id))
        code = next(re.anon_code for re in round_.round_entries if re.entry_id == anon.entry_id)
        for label, url in (("queue", f"/judge/r/{round_.id}/"),
                           ("scoring page", f"/judge/r/{round_.id}/{code}")):
            samples = []
            for _ in range(10):
                t = time.perf_counter()
                assert client.get(url).status_code == 200
                samples.append(time.perf_counter() - t)
            print(f"  {label} ({loads[juror.id]} entries in the queue): median "
                  f"{1000 * statistics.median(samples):.0f} ms")
        s.close()


if __name__ == "__main__":
    main()
