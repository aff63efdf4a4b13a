"""Database side of duplicate detection: how the in-process search index behaves as the
number of stored fingerprints grows (issue #3, "Search").

For N in 1,000 / 10,000 / 100,000 stored fingerprints (synthetic rows in a fresh SQLite
database under a temporary folder, or DATABASE_URL if it is set: it must be a scratch
database, every table is emptied first) it prints:
- build: first index load from the database (ids + `index_hashes`), ms;
- append: one new row read and appended to the cached index, ms;
- check: the per-query freshness check (one aggregate query), ms;
- query: `service.candidates` for one real fingerprint against all rows, ms (mean of 200),
  next to a plain Python loop over the same rows computing the smallest global-hash
  distance (the naive search the index replaces);
- find: `service.find_matches` end to end for that fingerprint (index, SHA-256 lookup,
  loading and verifying the candidates), ms.

    .venv/bin/python scripts/bench_dedup_db.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from contest import create_app, db  # noqa: E402
from contest.dedup import engine, service  # noqa: E402
from contest.models import ImageFingerprint, ReferenceImage  # noqa: E402


def _poster():  # noqa: ANN202
    from tests.factories import make_poster

    return make_poster((1200, 1700), seed=1, text="BENCH")


def _fill(session, n: int, start: int, rng: np.random.Generator) -> None:  # noqa: ANN001
    """Insert `n` reference images with synthetic fingerprints (random hashes)."""
    refs, fps = [], []
    width = len(engine.index_row(_FP))
    hashes = rng.integers(0, 2**63, size=(n, width), dtype=np.int64).astype(np.uint64)
    hashes ^= rng.integers(0, 2, size=(n, width), dtype=np.int64).astype(np.uint64) << 63
    for i in range(n):
        rid = start + i
        sha = f"{rid:064x}"
        refs.append(dict(id=rid, label="bench", storage_key=f"bench/{rid}.jpg", sha256=sha,
                         format="JPEG", size_bytes=0, width_px=1, height_px=1,
                         original_filename=""))
        row = hashes[i]
        fps.append(dict(id=rid, reference_image_id=rid, sha256=sha,
                        phash=service.phash_hex(int(row[0])),
                        content_phash=service.phash_hex(int(row[1])),
                        index_hashes=row.astype("<u8").tobytes(),
                        algo_version=engine.ALGO_VERSION, features=_FEATURES,
                        low_variance=False))
    for chunk in range(0, n, 5000):
        session.execute(insert(ReferenceImage), refs[chunk:chunk + 5000])
        session.execute(insert(ImageFingerprint), fps[chunk:chunk + 5000])
    session.commit()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bench-dedup-db-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(tmp / "instance"),
                      "DATABASE_URL": url, "UPLOAD_DIR": str(tmp / "uploads")})
    db.create_schema(app)
    rng = np.random.default_rng(7)
    print(f"database: {url.split('@')[-1]}; engine {engine.ALGO_VERSION}")
    print(f"{'N':>8} {'build':>8} {'append':>8} {'check':>8} {'query':>8} {'loop':>9} "
          f"{'find':>8}   (ms)")
    with app.app_context():
        session = db.new_session(app)
        for table in ("image_fingerprints", "reference_images"):
            session.execute(text(f"DELETE FROM {table}"))
        session.commit()
        stored = 0
        for n in sizes:
            _fill(session, n - stored, stored + 1, rng)
            stored = n
            service.reset_index_cache()
            t = time.perf_counter()
            state = service.hash_index(session)
            build = time.perf_counter() - t
            assert len(state.ids) == n
            _fill(session, 1, stored + 1, rng)
            stored += 1
            t = time.perf_counter()
            service.hash_index(session)
            append = time.perf_counter() - t
            t = time.perf_counter()
            for _ in range(50):
                service.hash_index(session)
            check = (time.perf_counter() - t) / 50
            times = []
            for _ in range(200):
                t = time.perf_counter()
                service.candidates(state, _FP)
                times.append(time.perf_counter() - t)
            query = statistics.mean(times)
            rows = [(int(r[0]), int(r[1])) for r in state.segments[0].rows[:, :2]]
            q = (_FP.phash, _FP.content_phash)
            t = time.perf_counter()
            _naive = [min((h ^ x).bit_count() for h in row for x in q) for row in rows]
            loop = time.perf_counter() - t
            t = time.perf_counter()
            service.find_matches(session, _FP, contest_id=0)
            find = time.perf_counter() - t
            print(f"{n:>8} {_ms(build)} {_ms(append)} {_ms(check)} {_ms(query)} "
                  f"{_ms(loop):>9} {_ms(find)}")
            stored = n + 1
        session.close()


_FP = engine.fingerprint_image(_poster(), "f" * 64)
_FEATURES = _FP.to_bytes()

if __name__ == "__main__":
    main()
