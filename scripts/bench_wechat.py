"""Time the WeChat package (contest/wechat.py) for a realistic track: 30 winners with A4
originals (2480x3508, JPEG q92), every sixth of them colour noise that forces the
quality loop. Prints the package build, the per-winner cost, one preview body image and one
cover, best of N runs, on a throwaway SQLite database.

    .venv/bin/python scripts/bench_wechat.py [--runs 3] [--winners 30]

Targets (one core, best of 3): the whole package in under 0.5 s per winner (15 s for 30);
one preview body image (what each <img> of the 375 px preview costs) under 0.5 s; one
cover crop under 0.5 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contest import create_app, db, wechat  # noqa: E402
from contest.storage import get_storage  # noqa: E402
from tests import factories  # noqa: E402
from tests.wechat_helpers import noisy_poster, seed_winners  # noqa: E402

TARGET_PER_WINNER_S = 0.5
TARGET_PREVIEW_IMAGE_S = 0.5
TARGET_COVER_S = 0.5


def best_of(runs: int, fn) -> tuple[float, object]:  # noqa: ANN001
    best, result = None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--winners", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                          "INSTANCE_PATH": str(tmp_path / "instance"),
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
                          "UPLOAD_DIR": str(tmp_path / "uploads")})
        db.create_schema(app)
        with app.app_context():
            session = db.new_session(app)
            factories.make_contest(session)
            storage = get_storage(app)
            unique = [noisy_poster()] + [factories.make_poster((2480, 3508), seed=i)
                                         for i in range(1, 6)]
            posters = [unique[i % len(unique)] for i in range(args.winners)]
            t0 = time.perf_counter()
            seeded = seed_winners(session, storage, posters=posters,
                                  quotas=(1, 2, 3, args.winners))
            print(f"seeded {args.winners} winners in {time.perf_counter() - t0:.1f} s")
            build_s, data = best_of(args.runs, lambda: wechat.build_package(
                session, seeded.track, storage=storage))
            session.rollback()  # the audit rows of the timing runs
            plan = wechat.plan_package(session, seeded.track, storage=storage)
            item = plan.items[0]
            image_s, _ = best_of(args.runs, lambda: wechat.body_jpegs(
                wechat.load_original(item.entry, storage), item.images))
            cover_s, _ = best_of(args.runs, lambda: wechat.cover_jpeg(
                wechat.load_original(item.entry, storage), "2.35x1", (0.5, 0.4)))
            session.close()
    per = build_s / args.winners
    rows = [("package", build_s, TARGET_PER_WINNER_S * args.winners),
            ("per winner", per, TARGET_PER_WINNER_S),
            ("preview body image (noisy A4)", image_s, TARGET_PREVIEW_IMAGE_S),
            ("cover 2.35:1", cover_s, TARGET_COVER_S)]
    failed = False
    for name, seconds, target in rows:
        ok = seconds <= target
        failed |= not ok
        print(f"{name:32s} {seconds * 1000:9.0f} ms  (target {target * 1000:.0f} ms)"
              f"  {'ok' if ok else 'SLOW'}")
    print(f"ZIP: {len(data) / 1024 / 1024:.1f} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
