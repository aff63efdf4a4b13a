"""Time the image intake path for typical posters: check_image, load_normalised and the
preview / thumbnail re-encodes (contest/imaging.py). Prints the best of N runs in ms.

    .venv/bin/python scripts/bench_intake.py [--runs 3]

Targets (one upload on one core, best of 3): a 10 MiB A4 JPEG checked + normalised +
both derivatives in under 1.5 s; an A2 (4961x7016) JPEG in under 3 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contest.imaging import IntakeRules, check_image, load_normalised, save_jpeg  # noqa: E402
from tests.factories import make_poster, pad_to, poster_bytes  # noqa: E402

TARGETS_S = {"A4 JPEG 10 MiB": 1.5, "A4 PNG": 1.5, "A2 JPEG": 3.0}


def cases(tmp: Path) -> dict[str, Path]:
    a4 = make_poster((2480, 3508), seed=1)
    a2 = make_poster((4961, 7016), seed=2)
    files = {
        "A4 JPEG 10 MiB": (pad_to(poster_bytes(a4, quality=92), 10 * 1024 * 1024), "a4.jpg"),
        "A4 PNG": (poster_bytes(a4, "PNG"), "a4.png"),
        "A2 JPEG": (poster_bytes(a2, quality=92), "a2.jpg"),
    }
    out = {}
    for name, (data, filename) in files.items():
        path = tmp / filename
        path.write_bytes(data)
        out[name] = path
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rules = IntakeRules.content_only(100_000_000)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in cases(Path(tmp)).items():
            best = None
            for _ in range(args.runs):
                t0 = time.perf_counter()
                check_image(path, rules)
                t1 = time.perf_counter()
                image = load_normalised(path)
                t2 = time.perf_counter()
                save_jpeg(image, io.BytesIO(), long_edge_px=1600)
                save_jpeg(image, io.BytesIO(), long_edge_px=480)
                t3 = time.perf_counter()
                run = (t1 - t0, t2 - t1, t3 - t2, t3 - t0)
                best = run if best is None or run[3] < best[3] else best
            check, norm, derive, total = best
            ok = total <= TARGETS_S[name]
            failed |= not ok
            print(f"{name:16s} {path.stat().st_size / 2**20:5.1f} MiB  check {check * 1000:5.0f} ms"
                  f"  normalise {norm * 1000:5.0f} ms  derivatives {derive * 1000:5.0f} ms"
                  f"  total {total * 1000:5.0f} ms  (target {TARGETS_S[name] * 1000:.0f} ms)"
                  f"{'' if ok else '  SLOW'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
