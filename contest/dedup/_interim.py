"""TEMPORARY stand-in for `contest.dedup.engine` (engineer C1), same API, so the database and
web side can be built meanwhile. Deleted as soon as the real engine lands."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import imagehash
import numpy as np
from PIL import Image

ALGO_VERSION = "interim-1"
CANDIDATE_MAX_DISTANCE = 12


@dataclass
class Fingerprint:
    sha256: str
    phash: int
    low_variance: bool = False

    def to_bytes(self) -> bytes:
        return struct.pack(">64sQ?", self.sha256.encode(), self.phash, self.low_variance)

    @classmethod
    def from_bytes(cls, b: bytes) -> Fingerprint:
        sha, ph, lv = struct.unpack(">64sQ?", b)
        return cls(sha.decode(), ph, lv)


def fingerprint_image(img: Image.Image, sha256: str) -> Fingerprint:
    grey = np.asarray(img.convert("L").resize((64, 64)), dtype=np.float32)
    return Fingerprint(sha256, int(str(imagehash.phash(img)), 16), float(grey.std()) < 6.0)


def fingerprint_file(path) -> Fingerprint:  # noqa: ANN001
    import hashlib

    data = open(path, "rb").read()
    with Image.open(path) as im:
        return fingerprint_image(im.convert("RGB"), hashlib.sha256(data).hexdigest())


class HashIndex:
    def __init__(self, ids, phashes) -> None:  # noqa: ANN001
        self.ids = np.asarray(ids, dtype=np.int64)
        self.phashes = np.asarray(phashes, dtype=np.uint64)

    def query(self, phash: int, max_distance: int) -> list[tuple[int, int]]:
        d = np.bitwise_count(self.phashes ^ np.uint64(phash))
        hit = np.nonzero(d <= max_distance)[0]
        return [(int(self.ids[i]), int(d[i])) for i in hit]


@dataclass
class PairVerdict:
    kind: str | None
    scores: dict[str, float] = field(default_factory=dict)


def compare(a: Fingerprint, b: Fingerprint) -> PairVerdict:
    dist = (a.phash ^ b.phash).bit_count()
    scores = {"phash_distance": float(dist)}
    if a.sha256 == b.sha256:
        return PairVerdict("exact", scores)
    if a.low_variance or b.low_variance:
        return PairVerdict(None, scores)
    if dist <= 6:
        return PairVerdict("duplicate", scores)
    if dist <= 12:
        return PairVerdict("similar", scores)
    return PairVerdict(None, scores)
