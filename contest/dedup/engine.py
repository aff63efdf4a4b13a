"""Duplicate-detection engine (issue #3): pure library code, no database, no Flask.

Two stages (bench/README.md: global hashes cannot tell a resubmission from a template sibling
and fail on crops, borders, padding, screenshots and rotations):

1. Candidate search, vectorised over every stored fingerprint (`CandidateIndex`; the plain
   whole-image pHash search is `HashIndex`): global pHash and margin-trimmed pHash, 80 crop
   windows, 4 rotations and a 3x3 grid of tiles, all XOR + popcount over numpy uint64 arrays.
2. Local verification of each candidate pair (`compare`): ORB keypoints matched and a RANSAC
   affine transform, refined by ECC on greyscale thumbnails, then a cell-by-cell comparison of
   the aligned images. "duplicate" when at most 10 % of the informative overlap cells changed
   (a logo, one text line), "similar" (for an editor) when more changed but the two share a
   large part of one picture (template siblings), else no match.

Public API (re-exported from the modules of this package):

- fingerprint.py: `ALGO_VERSION` (store beside every fingerprint; recompute on change),
  `Fingerprint` (`to_bytes()` / `Fingerprint.from_bytes()` for a LargeBinary column: npz,
  no pickle, ~45 kB), `fingerprint_file(path)` (the decode path for stored and new images:
  `contest.imaging.load_normalised` with a JPEG draft), `fingerprint_image(img, sha256)`,
  `sha256_file(path)`, `to_signed64` / `from_signed64` (unsigned 64-bit hash <-> BIGINT);
- search.py: `HashIndex(ids, phashes).query(phash, max_distance)`, `CandidateIndex`
  (`from_fingerprints(items)`, `CandidateIndex(ids, rows)`, `add(ids, rows)`,
  `candidates(fp)` -> [(id, phash_bits)]), `index_row(fp)` (the INDEX_ROW_LEN uint64 values
  the index keeps per image; store them to rebuild the index without loading fingerprints),
  `CANDIDATE_MAX_DISTANCE`, `WINDOW_MAX_DISTANCE`, `INDEX_ROW_LEN`;
- verify.py: `compare(a, b)` -> `PairVerdict(kind, scores)`, `find_matches(query, candidates,
  index=None)`, `KINDS` = ("exact", "duplicate", "similar").
"""

from contest.dedup.fingerprint import (ALGO_VERSION, Fingerprint, fingerprint_file,
                                       fingerprint_image, from_signed64, sha256_file,
                                       to_signed64)
from contest.dedup.search import (CANDIDATE_MAX_DISTANCE, INDEX_ROW_LEN, WINDOW_MAX_DISTANCE,
                                  CandidateIndex, HashIndex, index_row)
from contest.dedup.verify import KINDS, PairVerdict, compare, find_matches

__all__ = ["ALGO_VERSION", "Fingerprint", "fingerprint_file", "fingerprint_image",
           "sha256_file", "to_signed64", "from_signed64", "CANDIDATE_MAX_DISTANCE",
           "WINDOW_MAX_DISTANCE", "INDEX_ROW_LEN", "HashIndex", "CandidateIndex", "index_row",
           "PairVerdict", "compare", "find_matches", "KINDS"]
