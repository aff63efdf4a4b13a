"""Vectorised candidate search over stored fingerprints (issue #3, "Search").

`HashIndex` holds one 64-bit hash per stored image in a numpy uint64 array and answers a query
with one XOR + popcount over the whole array (bench/README.md: 0.11 ms per query at 100,000
hashes; a BK-tree prunes almost nothing at useful radii).

Global hashes miss crops of 8 % or more and rotations of 5 degrees (bench/README.md), so
`CandidateIndex` also compares, in the same vectorised way, the query's whole-image hashes with
every stored image's 80 crop-window hashes (the query is a crop of a stored poster), the query's
window and rotation hashes with every stored whole-image hash (a stored poster is a crop or a
rotation of the query). Everything it proposes is verified locally (`verify.compare`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from contest.dedup.fingerprint import Fingerprint

# Hamming radius (bits of 64) of the global-hash search. Wide on purpose: every candidate is
# verified locally, and an 8 % crop or a 2-degree rotation moves pHash 12-18 bits.
CANDIDATE_MAX_DISTANCE = 14
# Radius for window / rotation hashes against whole-image hashes: tighter, since each pair is
# compared 2 x 84 times (bench: <= 10 bits finds every crop up to 15 % and rotation up to 5
# degrees, with under one false candidate per query among 1,218 posters).
WINDOW_MAX_DISTANCE = 10
MASK64 = 0xFFFFFFFFFFFFFFFF


class HashIndex:
    """Stored 64-bit hashes with integer ids; Hamming search in one vectorised operation."""

    def __init__(self, ids: Sequence[int], phashes: Sequence[int]) -> None:
        """`ids`: one integer per stored image (e.g. a fingerprint row id); `phashes`: the
        unsigned 64-bit hashes in the same order (Python ints 0..2**64-1, or a uint64 array).
        Raises ValueError if the lengths differ."""
        if len(ids) != len(phashes):
            raise ValueError("ids and phashes differ in length")
        self.ids = np.asarray(ids, dtype=np.int64)
        if isinstance(phashes, np.ndarray) and phashes.dtype == np.uint64:
            self.hashes = phashes
        else:
            self.hashes = np.array([int(h) & MASK64 for h in phashes], dtype=np.uint64)

    def __len__(self) -> int:
        return int(self.ids.size)

    def distances(self, phash: int) -> np.ndarray:
        """Hamming distance (bits, 0-64) from `phash` to every stored hash: uint8 array in
        storage order."""
        return np.bitwise_count(self.hashes ^ np.uint64(int(phash) & MASK64))

    def query(self, phash: int, max_distance: int) -> list[tuple[int, int]]:
        """Stored images within `max_distance` bits (inclusive) of `phash`: list of
        (id, distance_bits), nearest first (ties in storage order)."""
        dist = self.distances(phash)
        hit = np.flatnonzero(dist <= max_distance)
        order = hit[np.argsort(dist[hit], kind="stable")]
        return [(int(self.ids[i]), int(dist[i])) for i in order]


def index_row(fp: Fingerprint) -> np.ndarray:
    """The hashes `CandidateIndex` keeps for one stored fingerprint: uint64 array
    [phash, content_phash, 80 window hashes] (82 values, 656 bytes)."""
    return np.concatenate([np.array([fp.phash & MASK64, fp.content_phash & MASK64],
                                    dtype=np.uint64), fp.window_hashes.astype(np.uint64)])


class CandidateIndex:
    """Which stored fingerprints deserve a local verification against a query.

    Holds, per stored image, `index_row(fp)` (82 uint64 values, kept column-major); a query is
    ~170 vectorised XOR + popcount passes over n values (no Python loop over rows; ~15 ms at
    100,000 stored images). Cache it per process and `add` new fingerprints; rebuild after
    deletions.

    A stored image S is a candidate for the query Q when
    - Q's whole or margin-trimmed hash is within CANDIDATE_MAX_DISTANCE of S's (format, scale,
      colour, small edits; borders, padding and screenshot frames after trimming), or
    - Q's whole/trimmed hash is within WINDOW_MAX_DISTANCE of one of S's crop windows
      (Q is a crop of S), or
    - one of Q's crop-window or rotation hashes is within WINDOW_MAX_DISTANCE of S's whole
      hash (S is a crop or slight rotation of Q).
    """

    def __init__(self, ids: Sequence[int] = (), rows: np.ndarray | None = None) -> None:
        """`ids`: integer per stored image; `rows`: (n, 82) uint64 from `index_row`.
        Raises ValueError if the lengths differ."""
        self.ids = np.zeros(0, dtype=np.int64)
        self._cols = np.zeros((82, 0), dtype=np.uint64)   # column-major: one pass per hash
        if rows is not None or len(ids):
            self.add(ids, rows if rows is not None else np.zeros((0, 82), np.uint64))

    @classmethod
    def from_fingerprints(cls, items: Iterable[tuple[int, Fingerprint]]) -> "CandidateIndex":
        """Index over (id, Fingerprint) pairs."""
        items = list(items)
        rows = np.stack([index_row(fp) for _, fp in items]) if items else None
        return cls([i for i, _ in items], rows)

    def add(self, ids: Sequence[int], rows: np.ndarray) -> None:
        """Append stored images (`rows`: (k, 82) uint64 from `index_row`). Raises ValueError
        if the lengths differ."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = np.asarray(rows, dtype=np.uint64).reshape(-1, 82)
        if len(ids) != len(rows):
            raise ValueError("ids and rows differ in length")
        self.ids = np.concatenate([self.ids, ids])
        self._cols = np.ascontiguousarray(np.concatenate([self._cols, rows.T], axis=1))

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def rows(self) -> np.ndarray:
        """The stored `index_row`s, (n, 82) uint64 (a read-only view; column 0 = pHash)."""
        view = self._cols.T
        view.flags.writeable = False
        return view

    def scores(self, query: Fingerprint) -> np.ndarray:
        """Per stored image (storage order): int16 "distance" = the smallest global-hash
        distance (bits) when that is within CANDIDATE_MAX_DISTANCE, else the smallest
        window/rotation distance when within WINDOW_MAX_DISTANCE, else 99. About 170
        vectorised passes over n values (no Python loop over rows)."""
        n = len(self)
        if not n:
            return np.zeros(0, dtype=np.int16)
        whole, content, windows = self._cols[0], self._cols[1], self._cols[2:]
        qp = np.uint64(query.phash & MASK64)
        qc = np.uint64(query.content_phash & MASK64)
        d_global = np.bitwise_count(whole ^ qp)
        for stored, q in ((whole, qc), (content, qp), (content, qc)):
            np.minimum(d_global, np.bitwise_count(stored ^ q), out=d_global)
        d_local = np.full(n, 255, dtype=np.uint8)
        for k in range(len(windows)):              # the query is a crop of a stored image
            np.minimum(d_local, np.bitwise_count(windows[k] ^ qp), out=d_local)
        for h in np.concatenate([query.window_hashes, query.turn_hashes]).astype(np.uint64):
            np.minimum(d_local, np.bitwise_count(whole ^ h), out=d_local)  # stored is a crop
        out = np.full(n, 99, dtype=np.int16)
        local = d_local <= WINDOW_MAX_DISTANCE
        out[local] = d_local[local]
        glob = d_global <= CANDIDATE_MAX_DISTANCE
        out[glob] = d_global[glob]
        return out

    def candidates(self, query: Fingerprint) -> list[tuple[int, int]]:
        """Stored images worth verifying against `query`: list of (id, distance), most
        promising first (see `scores`)."""
        score = self.scores(query)
        hit = np.flatnonzero(score < 99)
        order = hit[np.argsort(score[hit], kind="stable")]
        return [(int(self.ids[i]), int(score[i])) for i in order]
