"""Vectorised candidate search over stored fingerprints (issue #3, "Search").

`HashIndex` holds one 64-bit hash per stored image in a numpy uint64 array and answers a query
with one XOR + popcount over the whole array (bench/README.md: 0.11 ms per query at 100,000
hashes; a BK-tree prunes almost nothing at useful radii).

Global hashes miss crops of 8 % or more and rotations of 5 degrees (bench/README.md), so
`CandidateIndex` also compares, in the same vectorised way, the query's whole-image hashes with
every stored image's 80 crop-window hashes (the query is a crop of a stored poster), the query's
window and rotation hashes with every stored whole-image hash (a stored poster is a crop or a
rotation of the query), and 3x3 tiles place by place (template siblings). Everything it
proposes is verified locally (`verify.compare`).
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
# Template siblings: at least TILE_MIN_MATCHES of the 3x3 tiles (not near-flat) within
# TILE_MAX_DISTANCE bits at the same place (bench: every sibling found, ~0.1 other posters
# per query among 1,218).
TILE_MAX_DISTANCE = 4
TILE_MIN_MATCHES = 2
N_WINDOWS, N_TILES = 80, 9
INDEX_ROW_LEN = 2 + N_WINDOWS + N_TILES + 1
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
    """The hashes `CandidateIndex` keeps for one stored fingerprint: uint64 array of
    INDEX_ROW_LEN (92) values = [phash, content_phash, 80 crop-window hashes, 9 tile hashes,
    near-flat tile mask] (736 bytes)."""
    return np.concatenate([
        np.array([fp.phash & MASK64, fp.content_phash & MASK64], dtype=np.uint64),
        fp.window_hashes.astype(np.uint64), fp.tile_hashes.astype(np.uint64),
        np.array([fp.tile_flat], dtype=np.uint64)])


class CandidateIndex:
    """Which stored fingerprints deserve a local verification against a query.

    Holds, per stored image, `index_row(fp)` (INDEX_ROW_LEN uint64 values, kept column-major);
    a query is ~180 vectorised XOR + popcount passes over n values (no Python loop over rows;
    ~25 ms at 100,000 stored images, ~3 ms at 10,000). Cache it per process and `add` new
    fingerprints; rebuild after deletions.

    A stored image S is a candidate for the query Q when
    - Q's whole or margin-trimmed pHash is within CANDIDATE_MAX_DISTANCE of S's (format,
      scale, colour, small edits; borders, padding and screenshot frames after trimming), or
    - Q's whole pHash is within WINDOW_MAX_DISTANCE of one of S's 80 crop windows (Q is a crop
      of S), or one of Q's windows or rotations is within it of S's whole pHash (S is a crop
      or a slight rotation of Q), or
    - at least TILE_MIN_MATCHES of the 3x3 tiles match at the same place (template siblings:
      same layout, text changed).
    """

    def __init__(self, ids: Sequence[int] = (), rows: np.ndarray | None = None) -> None:
        """`ids`: integer per stored image; `rows`: (n, INDEX_ROW_LEN) uint64 from
        `index_row`. Raises ValueError if the lengths differ."""
        self.ids = np.zeros(0, dtype=np.int64)
        self._cols = np.zeros((INDEX_ROW_LEN, 0), dtype=np.uint64)  # one pass per hash column
        if rows is not None or len(ids):
            self.add(ids, rows if rows is not None else np.zeros((0, INDEX_ROW_LEN), np.uint64))

    @classmethod
    def from_fingerprints(cls, items: Iterable[tuple[int, Fingerprint]]) -> "CandidateIndex":
        """Index over (id, Fingerprint) pairs."""
        items = list(items)
        rows = np.stack([index_row(fp) for _, fp in items]) if items else None
        return cls([i for i, _ in items], rows)

    def add(self, ids: Sequence[int], rows: np.ndarray) -> None:
        """Append stored images (`rows`: (k, INDEX_ROW_LEN) uint64 from `index_row`).
        Raises ValueError if the lengths differ or a row has another length."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = np.asarray(rows, dtype=np.uint64)
        if rows.size % INDEX_ROW_LEN or len(ids) != rows.size // INDEX_ROW_LEN:
            raise ValueError(f"expected {len(ids)} rows of {INDEX_ROW_LEN} hashes")
        rows = rows.reshape(-1, INDEX_ROW_LEN)
        self.ids = np.concatenate([self.ids, ids])
        self._cols = np.ascontiguousarray(np.concatenate([self._cols, rows.T], axis=1))

    def __len__(self) -> int:
        return int(self.ids.size)

    @property
    def rows(self) -> np.ndarray:
        """The stored `index_row`s, (n, INDEX_ROW_LEN) uint64 (read-only view; column 0 =
        whole-image pHash)."""
        view = self._cols.T
        view.flags.writeable = False
        return view

    def _priority(self, query: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
        """(priority, phash_bits) per stored image: priority = global-hash distance (0-14),
        else 20 + window/rotation distance (0-10), else 40 - matching tiles, else 99."""
        n = len(self)
        cols = self._cols
        whole, content = cols[0], cols[1]
        windows = cols[2:2 + N_WINDOWS]
        tiles = cols[2 + N_WINDOWS:2 + N_WINDOWS + N_TILES]
        flat = cols[INDEX_ROW_LEN - 1]
        qp = np.uint64(query.phash & MASK64)
        qc = np.uint64(query.content_phash & MASK64)
        phash_bits = np.bitwise_count(whole ^ qp)
        d_global = phash_bits.copy()
        for stored, q in ((whole, qc), (content, qp), (content, qc)):
            np.minimum(d_global, np.bitwise_count(stored ^ q), out=d_global)
        d_local = np.full(n, 255, dtype=np.uint8)
        for k in range(N_WINDOWS):                       # Q is a crop of S
            np.minimum(d_local, np.bitwise_count(windows[k] ^ qp), out=d_local)
        for h in np.concatenate([query.window_hashes, query.turn_hashes]).astype(np.uint64):
            np.minimum(d_local, np.bitwise_count(whole ^ h), out=d_local)  # S is a crop of Q
        tile_hits = np.zeros(n, dtype=np.uint8)
        for k in range(N_TILES):
            if query.tile_flat >> k & 1:
                continue
            hit = np.bitwise_count(tiles[k] ^ np.uint64(query.tile_hashes[k])) <= TILE_MAX_DISTANCE
            hit &= (flat >> np.uint64(k)) & np.uint64(1) == 0
            tile_hits += hit
        priority = np.full(n, 99, dtype=np.int16)
        sel = tile_hits >= TILE_MIN_MATCHES
        priority[sel] = 40 - tile_hits[sel].astype(np.int16)
        sel = d_local <= WINDOW_MAX_DISTANCE
        priority[sel] = 20 + d_local[sel].astype(np.int16)
        sel = d_global <= CANDIDATE_MAX_DISTANCE
        priority[sel] = d_global[sel]
        return priority, phash_bits

    def candidates(self, query: Fingerprint) -> list[tuple[int, int]]:
        """Stored images worth verifying against `query`: list of (id, phash_bits), where
        phash_bits is the Hamming distance (0-64) of the whole-image pHashes; ordered most
        promising first (global-hash hits by distance, then crop/rotation hits, then tile
        hits). Empty index: []."""
        if not len(self):
            return []
        priority, phash_bits = self._priority(query)
        hit = np.flatnonzero(priority < 99)
        order = hit[np.lexsort((phash_bits[hit], priority[hit]))]
        return [(int(self.ids[i]), int(phash_bits[i])) for i in order]
