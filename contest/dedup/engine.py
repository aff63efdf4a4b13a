"""Duplicate-detection engine (issue #3): pure library code, no database, no Flask.

Public API (re-exported from the modules of this package):

- `ALGO_VERSION`, `Fingerprint`, `fingerprint_file`, `fingerprint_image`, `sha256_file`,
  `to_signed64` / `from_signed64` (fingerprint.py);
- `CANDIDATE_MAX_DISTANCE`, `WINDOW_MAX_DISTANCE`, `INDEX_ROW_LEN`, `HashIndex`,
  `CandidateIndex`, `index_row` (search.py);
- `PairVerdict`, `compare`, `find_matches`, `KINDS` (verify.py).
"""

from contest.dedup.fingerprint import (ALGO_VERSION, Fingerprint, fingerprint_file,
                                       fingerprint_image, from_signed64, sha256_file,
                                       to_signed64)
from contest.dedup.search import (CANDIDATE_MAX_DISTANCE, INDEX_ROW_LEN, WINDOW_MAX_DISTANCE,
                                  CandidateIndex, HashIndex, index_row)
from contest.dedup.verify import KINDS, PairVerdict, compare, find_matches

__all__ = ["ALGO_VERSION", "Fingerprint", "fingerprint_file", "fingerprint_image",
           "sha256_file", "to_signed64", "from_signed64", "CANDIDATE_MAX_DISTANCE",
           "WINDOW_MAX_DISTANCE", "INDEX_ROW_LEN", "HashIndex", "CandidateIndex", "index_row", "PairVerdict",
           "compare", "find_matches", "KINDS"]
