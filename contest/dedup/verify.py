"""Local verification of one candidate pair (issue #3, "Classes").

Global hashes cannot tell a resubmitted poster from a template sibling (bench/README.md: median
pHash distance 4 of 64 bits for both), and they fail on crops, borders and rotations. So each
candidate pair is verified locally:

1. Geometric verification: ORB descriptors matched with Lowe's ratio test, then a RANSAC affine
   transform (rotation, scale per axis, shift: covers crops, borders, padding, screenshots,
   aspect changes and slight rotations), refined by ECC on the thumbnails. Fallback for plain
   posters or close global hashes: content box onto content box.
2. Aligned region comparison: B is warped into A's thumbnail frame and the overlap compared in
   8 px cells. A cell has changed when a per-cell linear fit of B onto A leaves a large
   residual (different structure: text, shapes; brightness, contrast and grey conversion fit
   away) or when its level jumps after one global fit (a flat panel over a flat area).
3. Decision: "duplicate" when at most DUPLICATE_MAX_CHANGED of the informative overlap cells
   changed and one image lies inside the other; "similar" when up to SIMILAR_MAX_CHANGED
   changed, or when ORB inliers cover at least SIMILAR_MIN_SPREAD of A (a large part of the
   same picture: template siblings with a new text band or panel); else no match. Near-blank
   images are never matched on hashes (PITFALLS #9).
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from contest.dedup.fingerprint import ORB_GRID, Fingerprint
from contest.dedup.search import CANDIDATE_MAX_DISTANCE, CandidateIndex

KINDS = ("exact", "duplicate", "similar")

RATIO_TEST = 0.8             # Lowe's ratio for ORB matches
RANSAC_REPROJ_PX = 4.0       # px in the ORB image (long edge 448)
MIN_INLIERS = 12             # fewer RANSAC inliers: the geometry is not verified
ECC_ITERATIONS = 20           # ECC converges in under 10 on every benchmark pair
REFINE_MIN_INLIERS = 40      # fewer inliers: compare without ECC refinement (saves ~50 ms)
MIN_KEYPOINTS = 100          # fewer ORB keypoints: a plain poster, align by content boxes
MAX_ANISOTROPY = 1.6         # singular-value ratio of the affine part (aspect changes to 0.8)
CELL_PX = 8                  # cell side in thumbnail px (long edge 320 -> 40 cells)
BLUR_PX = 1.0                # Gaussian sigma before comparing (thumbnail px)
EDGE_PX = 3                  # margin ignored along each frame's edge (thumbnail px)
CELL_MIN_VALID = 0.6         # share of a cell's pixels inside the overlap for it to count
CELL_CHANGED_LEVEL = 8.0     # local residual (grey levels) above which a cell has changed
CELL_LEVEL_JUMP = 30.0       # mean |difference| after the global fit: a changed flat cell
CELL_INFO_STD = 3.0          # a cell with less texture in both images is uninformative
# Changed share of informative overlap cells up to which a pair is a duplicate (bench: every
# duplicate <= 0.072, a logo or one changed text line ~0.01-0.05; template siblings >= 0.17).
DUPLICATE_MAX_CHANGED = 0.10
SIMILAR_MAX_CHANGED = 0.35   # ... similar (template sibling, heavy edit) up to this
# ... or similar whatever changed, when ORB inliers cover this share of A's ORB_GRID cells: a
# large part of the two images is the same picture (bench: template siblings >= 0.29, other
# posters <= 0.25, their inliers sitting on shared words in the text band).
SIMILAR_MIN_SPREAD = 0.3
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, 1e-5)
MIN_COVER = 0.85             # one image must lie at least this much inside the other
MIN_CELLS = 20               # fewer informative overlap cells: no verdict
ORB_TRUSTED_ECC = 0.9        # an ORB alignment this good needs no content-box second opinion
BOX_MIN_ECC = 0.7            # content-box alignment must correlate at least this well (bench:
#                              pairs decided on it correlate >= 0.9)
LOW_VARIANCE_RGB_TOLERANCE = 12.0  # two near-blank images of (nearly) one colour: similar


@dataclass
class PairVerdict:
    """Verdict on one pair. `kind`: "exact" (same bytes), "duplicate" (same poster),
    "similar" (needs a human: template sibling, heavy edit, near-blank), or None.
    `scores`: numbers shown to editors (see `compare`)."""

    kind: str | None
    scores: dict[str, float] = field(default_factory=dict)


def _popcount(x: int) -> int:
    return int(x & 0xFFFFFFFFFFFFFFFF).bit_count()


def _orb_transform(a: Fingerprint, b: Fingerprint) -> tuple[np.ndarray | None, int, int, float]:
    """Affine map (2x3) from B's ORB px to A's ORB px, or None when the geometry is not
    verified; with (inliers, ratio-test matches, inlier_spread = share of the ORB_GRID cells
    of A holding at least one inlier)."""
    if len(a.descriptors) < 2 or len(b.descriptors) < 2:
        return None, 0, 0, 0.0
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(b.descriptors, a.descriptors, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < RATIO_TEST * m[1].distance]
    if len(good) < MIN_INLIERS:
        return None, 0, len(good), 0.0
    src = b.keypoints[[m.queryIdx for m in good]]
    dst = a.keypoints[[m.trainIdx for m in good]]
    matrix, mask = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC,
                                        ransacReprojThreshold=RANSAC_REPROJ_PX,
                                        maxIters=2000, confidence=0.995, refineIters=10)
    if matrix is None:
        return None, 0, len(good), 0.0
    inlier = mask.ravel().astype(bool)
    cols, rows = ORB_GRID
    w, h = a.orb_size
    pts = dst[inlier]
    cell = (np.minimum((pts[:, 1] * rows / h).astype(int), rows - 1) * cols
            + np.minimum((pts[:, 0] * cols / w).astype(int), cols - 1))
    spread = len(np.unique(cell)) / (cols * rows)
    inliers = int(inlier.sum())
    sv = np.linalg.svd(matrix[:, :2], compute_uv=False)
    if (inliers < MIN_INLIERS or np.linalg.det(matrix[:, :2]) <= 0 or sv[1] < 1e-3
            or sv[0] / sv[1] > MAX_ANISOTROPY or not 0.2 <= sv[1] <= 5.0):
        return None, inliers, len(good), spread
    return matrix, inliers, len(good), spread


def _scale(fp: Fingerprint, from_size: tuple[int, int]) -> np.ndarray:
    th, tw = fp.thumb.shape
    return np.diag([tw / from_size[0], th / from_size[1], 1.0])


def _orb_to_thumb(a: Fingerprint, b: Fingerprint, m: np.ndarray) -> np.ndarray:
    full = np.vstack([m, [0, 0, 1]])
    return (_scale(a, a.orb_size) @ full @ np.linalg.inv(_scale(b, b.orb_size)))[:2]


def _box_to_thumb(a: Fingerprint, b: Fingerprint) -> np.ndarray:
    ha, wa = a.thumb.shape
    hb, wb = b.thumb.shape
    ax0, ay0, ax1, ay1 = a.content_box
    bx0, by0, bx1, by1 = b.content_box
    sx = (ax1 - ax0) * wa / max(1e-6, (bx1 - bx0) * wb)
    sy = (ay1 - ay0) * ha / max(1e-6, (by1 - by0) * hb)
    return np.array([[sx, 0, ax0 * wa - bx0 * wb * sx],
                     [0, sy, ay0 * ha - by0 * hb * sy]], dtype=np.float64)


def refine(a: Fingerprint, b: Fingerprint, m: np.ndarray) -> tuple[np.ndarray, float]:
    """Refine `m` (2x3, B thumb px -> A thumb px) by ECC maximisation on the thumbnails
    (keypoint positions from ORB's image pyramid are only good to ~1 px, which the per-cell
    comparison would read as change along every edge). Returns (matrix, correlation 0-1);
    the input matrix and 0.0 when ECC does not converge."""
    warp = cv2.invertAffineTransform(m).astype(np.float32)
    try:
        cc, warp = cv2.findTransformECC(a.thumb, b.thumb, warp, cv2.MOTION_AFFINE,
                                        ECC_CRITERIA, None, 3)
    except cv2.error:
        return m, 0.0
    return cv2.invertAffineTransform(warp).astype(np.float64), float(cc)


def _fit_residual(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|x - clip(g*y + o)| with gain/offset fitted on all pixels, then refitted without the
    worst 20 % (changed regions must not drag the fit)."""
    g, o = 1.0, 0.0
    sel = np.ones(x.shape, dtype=bool)
    for _ in range(2):
        yy, xx = y[sel], x[sel]
        var = yy.var()
        if var < 1e-6:
            g, o = 1.0, float(xx.mean() - yy.mean())
        else:
            g = float(((yy - yy.mean()) * (xx - xx.mean())).mean() / var)
            # Gain within what brightness/contrast edits do; an unrelated image would fit
            # with g ~ 0 (a flat prediction) and look "unchanged" in smooth regions.
            g = min(max(g, 0.4), 2.5)
            o = float(xx.mean() - g * yy.mean())
        res = np.abs(x - np.clip(g * y + o, 0, 255))
        sel = res <= np.quantile(res[::7], 0.8)   # a sample is enough for the cut-off
    return np.abs(x - np.clip(g * y + o, 0, 255))


def cell_stats(a: Fingerprint, b: Fingerprint, m: np.ndarray) -> dict[str, np.ndarray | float]:
    """Per-cell statistics of A's thumbnail against B's warped by `m` (2x3, B thumb px ->
    A thumb px), on CELL_PX squares of A's frame: `counted` (enough overlap), `global_diff`
    (mean |difference| after one gain/offset fit over the whole overlap), `local_resid` (std of
    the residual after a per-cell linear fit, in grey levels: ~0 when the cell shows the same
    structure at another brightness/contrast, large when text or shapes differ), `std_a`,
    `std_b`; plus cover_a / cover_b (share of each image inside the overlap)."""
    ta, tb = a.thumb, b.thumb
    ha, wa = ta.shape
    hb, wb = tb.shape
    det = abs(np.linalg.det(m[:, :2]))
    scale = float(np.sqrt(det))          # B px -> A px
    # Compare at the coarser of the two resolutions: a poster that fills only part of its
    # file (border, screenshot) has less detail than its original, which is not a change.
    src = cv2.GaussianBlur(tb, (0, 0), BLUR_PX * max(1.0, 1.0 / scale))
    warped = cv2.warpAffine(src, m, (wa, ha), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    valid = cv2.warpAffine(np.full((hb, wb), 255, np.uint8), m, (wa, ha),
                           flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # Ignore EDGE_PX along both frames: thumbnail resampling mixes in what lies beyond an edge
    # (a rotation's fill, a border).
    valid[:EDGE_PX], valid[-EDGE_PX:], valid[:, :EDGE_PX], valid[:, -EDGE_PX:] = 0, 0, 0, 0
    valid = cv2.erode(valid, np.ones((2 * EDGE_PX + 1,) * 2, np.uint8)) > 0
    out: dict = {"cover_a": float(valid.mean()),
                 "cover_b": float(min(1.0, valid.sum() / max(1.0, det * hb * wb)))}
    if valid.sum() < 0.1 * ha * wa:
        return out
    x = cv2.GaussianBlur(ta, (0, 0), BLUR_PX * max(1.0, scale)).astype(np.float32)
    y = warped.astype(np.float32)
    diff = np.zeros_like(x)
    diff[valid] = np.minimum(_fit_residual(x[valid], y[valid]), _fit_residual(y[valid], x[valid]))
    ch, cw = ha // CELL_PX, wa // CELL_PX
    v = valid[:ch * CELL_PX, :cw * CELL_PX].astype(np.float32)

    def cell_sum(arr):
        arr = arr[:ch * CELL_PX, :cw * CELL_PX] * v
        return arr.reshape(ch, CELL_PX, cw, CELL_PX).sum(axis=(1, 3))

    n = cell_sum(np.ones_like(x))
    nn = np.maximum(n, 1)
    mx, my = cell_sum(x) / nn, cell_sum(y) / nn
    vx = np.maximum(cell_sum(x * x) / nn - mx * mx, 0)
    vy = np.maximum(cell_sum(y * y) / nn - my * my, 0)
    cov = cell_sum(x * y) / nn - mx * my
    r2 = np.where((vx > 1e-3) & (vy > 1e-3), cov * cov / np.maximum(vx * vy, 1e-6), 0.0)
    r2 = np.where(cov > 0, np.minimum(r2, 1.0), 0.0)   # an inverted cell is a changed cell
    out.update(counted=n >= CELL_MIN_VALID * CELL_PX * CELL_PX,
               global_diff=cell_sum(diff) / nn,
               local_resid=np.sqrt(np.maximum(vx, vy) * (1 - r2)),
               std_a=np.sqrt(vx), std_b=np.sqrt(vy))
    return out


def region_compare(a: Fingerprint, b: Fingerprint, m: np.ndarray) -> dict[str, float]:
    """Compare A with B aligned by `m` (see `cell_stats`). A cell has changed when its local
    residual exceeds CELL_CHANGED_LEVEL (different structure) or its level differs by more than
    CELL_LEVEL_JUMP after the global fit (a flat panel over a flat area). Returns
    changed_share = changed / informative overlap cells (informative: some texture in either
    image, or changed), cells (informative overlap cells), cover_a, cover_b."""
    st = cell_stats(a, b, m)
    scores = {"cover_a": round(st["cover_a"], 3), "cover_b": round(st["cover_b"], 3)}
    if "counted" not in st:
        return {**scores, "changed_share": 1.0, "cells": 0}
    counted = st["counted"]
    changed = counted & ((st["local_resid"] > CELL_CHANGED_LEVEL)
                         | (st["global_diff"] > CELL_LEVEL_JUMP))
    informative = counted & ((st["std_a"] > CELL_INFO_STD) | (st["std_b"] > CELL_INFO_STD))
    relevant = informative | changed
    n_info = int(relevant.sum())
    share = int(changed.sum()) / max(1, n_info)
    return {**scores, "changed_share": round(share, 4), "cells": n_info}


def _is_duplicate(trial: dict[str, float]) -> bool:
    return (trial["cells"] >= MIN_CELLS and trial["changed_share"] <= DUPLICATE_MAX_CHANGED
            and max(trial["cover_a"], trial["cover_b"]) >= MIN_COVER)


def compare(a: Fingerprint, b: Fingerprint) -> PairVerdict:
    """Classify one pair of fingerprints (see the module docstring).

    Scores: phash_bits / content_bits (global hash distances, 0-64), inliers and matches (ORB),
    inlier_spread (share of A's grid cells holding an inlier, 0-1), ecc (alignment correlation),
    changed_share (share of informative overlap cells that differ after alignment, 0-1),
    cover_a / cover_b (share of each image inside the overlap), aligned_by (1 = ORB, 0 = box).
    Near-blank images are never duplicates unless byte-identical (PITFALLS #9): two near-blank
    images of nearly one colour are "similar", otherwise no match. Never raises.
    """
    scores: dict[str, float] = {
        "phash_bits": _popcount(a.phash ^ b.phash),
        "content_bits": _popcount(a.content_phash ^ b.content_phash),
    }
    if a.sha256 == b.sha256:
        return PairVerdict("exact", scores)
    if a.low_variance or b.low_variance:
        scores["low_variance"] = 1
        colour = max(abs(x - y) for x, y in zip(a.mean_rgb, b.mean_rgb))
        scores["colour_diff"] = round(colour, 1)
        if a.low_variance and b.low_variance and colour <= LOW_VARIANCE_RGB_TOLERANCE:
            return PairVerdict("similar", scores)
        return PairVerdict(None, scores)

    matrix, inliers, matches, spread = _orb_transform(a, b)
    scores.update(inliers=inliers, matches=matches, inlier_spread=round(spread, 3))
    trials = []
    if matrix is not None:
        m = _orb_to_thumb(a, b, matrix)
        cc = 0.0
        if inliers >= REFINE_MIN_INLIERS:
            # Weaker geometry is never a duplicate or a sibling (bench: those have >= 100
            # inliers, other posters <= 70): skip the costly refinement for it.
            m, cc = refine(a, b, m)
        trials.append((1, {**region_compare(a, b, m), "ecc": round(cc, 4)}))
    near = min(scores["phash_bits"], scores["content_bits"]) <= CANDIDATE_MAX_DISTANCE
    plain = min(len(a.descriptors), len(b.descriptors)) < MIN_KEYPOINTS
    box = _box_to_thumb(a, b)
    sx, sy = box[0, 0], box[1, 1]
    # The ORB trial settles it when it already says duplicate, or when it aligned well (ECC
    # correlation >= ORB_TRUSTED_ECC): the box trial would cost a second refinement for nothing.
    settled = bool(trials) and (_is_duplicate(trials[0][1])
                                or trials[0][1]["ecc"] >= ORB_TRUSTED_ECC)
    if (not settled and (near or (matrix is None and plain))
            and max(sx, sy) <= MAX_ANISOTROPY * min(sx, sy)):
        # Content boxes onto each other: for posters too plain for ORB, and as a second
        # opinion when the global hashes agree. Unrelated textured pairs skip it (saves ~20 ms).
        m, cc = refine(a, b, box)
        if cc >= BOX_MIN_ECC:  # otherwise the boxes do not show the same picture
            trials.append((0, {**region_compare(a, b, m), "ecc": round(cc, 4)}))
    if not trials:
        return PairVerdict(None, scores)
    by, best = min(trials, key=lambda t: (t[1]["changed_share"], -t[0]))
    scores.update(best, aligned_by=by)
    share = best["changed_share"]
    if best["cells"] < MIN_CELLS:
        return PairVerdict(None, scores)    # too little overlap to say anything
    if _is_duplicate(best):
        return PairVerdict("duplicate", scores)
    if share <= SIMILAR_MAX_CHANGED or (by == 1 and spread >= SIMILAR_MIN_SPREAD):
        return PairVerdict("similar", scores)
    return PairVerdict(None, scores)


def find_matches(query: Fingerprint,
                 candidates: (Iterable[tuple[Hashable, Fingerprint]]
                              | Mapping[Hashable, Fingerprint]),
                 index: CandidateIndex | None = None) -> list[tuple[Hashable, PairVerdict]]:
    """Stored fingerprints that match `query`: list of (key, PairVerdict) with kind not None,
    ordered exact, duplicate, similar, then by changed_share.

    `candidates`: (key, Fingerprint) pairs or a mapping key -> Fingerprint. `index`: a
    `CandidateIndex` whose ids are these keys (ints), to reuse between queries; without it one
    is built over `candidates`. Only the pairs the index proposes, plus byte-identical files,
    are verified (the pre-selection is vectorised; verification costs ~10-60 ms a pair).
    """
    items = list(candidates.items() if isinstance(candidates, Mapping) else candidates)
    lookup = dict(items)
    if index is None:
        index = CandidateIndex.from_fingerprints((pos, fp) for pos, (_, fp) in enumerate(items))
        proposed = [items[pos][0] for pos, _ in index.candidates(query)]
    else:
        proposed = [key for key, _ in index.candidates(query)]
    same_bytes = [key for key, fp in items if fp.sha256 == query.sha256]
    out = []
    for key in dict.fromkeys(same_bytes + proposed):
        fp = lookup.get(key)
        if fp is None:
            continue
        verdict = compare(query, fp)
        if verdict.kind is not None:
            out.append((key, verdict))
    out.sort(key=lambda kv: (KINDS.index(kv[1].kind), kv[1].scores.get("changed_share", 0.0)))
    return out
