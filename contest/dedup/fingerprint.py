"""Fingerprints of posters for duplicate detection (issue #3).

A fingerprint is computed once per stored image, on the image *as displayed* (EXIF orientation
applied, sRGB, alpha flattened on white; PITFALLS #10), from a JPEG draft decode (only the
resolution the hashes need; stored and new images go through the same decode path because draft
decoding shifts hashes by up to 2 bits). It holds:

- `sha256` of the original file bytes (class `exact`);
- two 64-bit perceptual hashes for the vectorised candidate search: `phash` of the whole image
  and `content_phash` of the image with uniform margins trimmed (borders, padding, screenshot
  frames: bench/README.md shows global hashes fail on those);
- ORB keypoints + descriptors for geometric verification (crops, rotations, screenshots);
- a small greyscale thumbnail (JPEG-encoded) for the aligned region-by-region comparison that
  tells a resubmission from a template sibling;
- `low_variance`: near-blank image, never matched on hash equality alone (PITFALLS #9).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from contest.imaging import load_normalised

# Bump whenever anything that goes into a fingerprint changes; stored fingerprints with another
# version must be recomputed from the stored files (PITFALLS #10).
ALGO_VERSION = "phash64+win80+tile9+orb+thumb/3"

# JPEG draft request (px, each side): libjpeg picks the smallest DCT scale (1/2, 1/4, 1/8) whose
# output still covers this box, so a 2480x3508 poster decodes at 1/8 (310x439). Entropy decoding
# then dominates; the hashes and ORB need no more (bench: same accuracy as full decode).
DRAFT_MIN_SIDE_PX = 256
ORB_LONG_EDGE_PX = 448       # ORB runs on the image scaled to this long edge
ORB_MIN_SIDE_PX = 64  # below this ORB (31 px patches, 8 pyramid levels) cannot run
ORB_FEATURES = 500           # keypoints kept
ORB_CANDIDATES = 10000       # keypoints detected before spreading them over the grid (fewer:
#                              text corners crowd out every photo corner)
# Keypoints are spread over a grid of cells, each keeping its strongest ones: left alone, ORB
# puts ~97 % of its keypoints on text glyphs (the strongest corners), so a crop of a
# text-heavy poster would have to be aligned on text that template siblings change.
ORB_GRID = (4, 6)            # columns, rows
THUMB_LONG_EDGE_PX = 320     # greyscale thumbnail for the aligned region comparison
THUMB_JPEG_QUALITY = 92
# Near-blank: standard deviation of the 64x64 greyscale image below this (grey levels 0-255).
LOW_VARIANCE_STD = 6.0
# Margin trimming: a row/column is "uniform" when at least this share of its pixels lies within
# MARGIN_TOLERANCE grey levels (per RGB channel) of its median colour.
MARGIN_UNIFORM_SHARE = 0.97
MARGIN_TOLERANCE = 20
MARGIN_MAX_SHARE = 0.45      # never trim more than this share of a side
# Crop windows for the candidate search: every combination of trimming 0, 7.5 or 15 % from each
# side (80 windows besides the whole image). A crop of up to 15 % per side then lies within
# 3.75 % per side of one window, where pHash stays within ~10 bits (bench: crop_3 <= 10 bits).
WINDOW_STEPS = (0.0, 0.075, 0.15)
# Rotations (degrees) of the query for the candidate search (bench: 5 degrees moves pHash
# up to 20 bits; rotated back within 2.5 degrees it is close again).
TURN_DEGREES = (-5.0, -2.5, 2.5, 5.0)
# Tiles for the candidate search of template siblings (same layout, some text changed): a 3x3
# grid; siblings share most tiles at the same place. Near-flat tiles (std below TILE_FLAT_STD
# grey levels) are left out, or every two posters with a white corner would share one.
TILE_GRID = 3
TILE_FLAT_STD = 4.0
HASH_LONG_EDGE_PX = 256      # every pHash is taken from the image scaled to this long edge
TRIM_LONG_EDGE_PX = 160      # margins are found on the image scaled to this long edge


@dataclass
class Fingerprint:
    """Everything duplicate detection needs about one image; see the module docstring.

    Coordinates of `keypoints` are px in the ORB image (`orb_size` = (w, h)); `content_box` is
    (x0, y0, x1, y1) as fractions of the image's width/height. `thumb` is a uint8 greyscale
    array (h, w) with long edge THUMB_LONG_EDGE_PX. `mean_rgb` and `grey_std` describe the
    64x64 image (0-255 levels). `size` is (w, h) px of the decoded (draft) image.
    """

    sha256: str
    phash: int
    content_phash: int
    low_variance: bool
    mean_rgb: tuple[float, float, float]
    grey_std: float
    content_box: tuple[float, float, float, float]
    size: tuple[int, int]
    orb_size: tuple[int, int]
    window_hashes: np.ndarray = field(repr=False)  # uint64 (80,): pHash of crop windows
    turn_hashes: np.ndarray = field(repr=False)    # uint64 (4,): pHash of slight rotations
    tile_hashes: np.ndarray = field(repr=False)    # uint64 (9,): pHash of 3x3 grid tiles
    tile_flat: int = field(repr=False)             # bit k set: tile k is near-flat (unused)
    keypoints: np.ndarray = field(repr=False)     # float32 (n, 2)
    descriptors: np.ndarray = field(repr=False)   # uint8 (n, 32)
    thumb: np.ndarray = field(repr=False)         # uint8 (h, w)
    algo_version: str = ALGO_VERSION

    def to_bytes(self) -> bytes:
        """Serialise to a compact byte string (an uncompressed .npz: numpy arrays plus a JSON
        header; no pickle) for a LargeBinary column. Typically 20-30 kB."""
        meta = {
            "algo_version": self.algo_version, "sha256": self.sha256,
            "phash": f"{self.phash:016x}", "content_phash": f"{self.content_phash:016x}",
            "low_variance": self.low_variance, "mean_rgb": list(self.mean_rgb),
            "grey_std": self.grey_std, "content_box": list(self.content_box),
            "size": list(self.size), "orb_size": list(self.orb_size),
            "tile_flat": int(self.tile_flat),
        }
        ok, thumb_jpeg = cv2.imencode(".jpg", self.thumb,
                                      [cv2.IMWRITE_JPEG_QUALITY, THUMB_JPEG_QUALITY])
        if not ok:  # pragma: no cover - cv2 encodes any uint8 2-D array
            raise ValueError("thumbnail encoding failed")
        buf = io.BytesIO()
        np.savez(buf,
                 meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
                 window_hashes=self.window_hashes.astype(np.uint64),
                 turn_hashes=self.turn_hashes.astype(np.uint64),
                 tile_hashes=self.tile_hashes.astype(np.uint64),
                 keypoints=self.keypoints.astype(np.float32),
                 descriptors=self.descriptors.astype(np.uint8),
                 thumb=np.asarray(thumb_jpeg, dtype=np.uint8).ravel())
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Fingerprint":
        """Inverse of `to_bytes`. Raises ValueError on bytes that are not a fingerprint, or on a
        fingerprint of another ALGO_VERSION (recompute it from the stored image)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
                keypoints = z["keypoints"].reshape(-1, 2).astype(np.float32)
                descriptors = z["descriptors"].reshape(-1, 32).astype(np.uint8)
                thumb_jpeg = z["thumb"]
                window_hashes = z["window_hashes"].astype(np.uint64)
                turn_hashes = z["turn_hashes"].astype(np.uint64)
                tile_hashes = z["tile_hashes"].astype(np.uint64)
        except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a fingerprint: {exc}") from exc
        if meta.get("algo_version") != ALGO_VERSION:
            raise ValueError(f"fingerprint version {meta.get('algo_version')!r}, "
                             f"expected {ALGO_VERSION!r}")
        thumb = cv2.imdecode(thumb_jpeg, cv2.IMREAD_GRAYSCALE)
        if thumb is None:
            raise ValueError("fingerprint thumbnail does not decode")
        return cls(
            sha256=meta["sha256"], phash=int(meta["phash"], 16),
            content_phash=int(meta["content_phash"], 16), low_variance=bool(meta["low_variance"]),
            mean_rgb=tuple(meta["mean_rgb"]), grey_std=float(meta["grey_std"]),
            content_box=tuple(meta["content_box"]), size=tuple(meta["size"]),
            orb_size=tuple(meta["orb_size"]), window_hashes=window_hashes,
            turn_hashes=turn_hashes, tile_hashes=tile_hashes,
            tile_flat=int(meta["tile_flat"]), keypoints=keypoints, descriptors=descriptors,
            thumb=thumb, algo_version=meta["algo_version"])


# --- signed storage helpers -------------------------------------------------------------------

def to_signed64(value: int) -> int:
    """Map an unsigned 64-bit hash to the signed range of a SQL BIGINT (two's complement), so it
    survives SQLite and PostgreSQL. Inverse: `from_signed64`."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= (1 << 63) else value


def from_signed64(value: int) -> int:
    """Inverse of `to_signed64`: a BIGINT back to the unsigned 64-bit hash."""
    return value & 0xFFFFFFFFFFFFFFFF


# --- hashes ------------------------------------------------------------------------------------

def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float32)


_DCT8 = _dct_matrix(32)[:8]  # the 8 lowest frequencies of an orthonormal 32-point DCT-II
_BIT_WEIGHTS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64))


def phash_batch(smalls: np.ndarray) -> np.ndarray:
    """64-bit pHashes of a stack of 32x32 greyscale images (n, 32, 32): uint64 array (n,)."""
    low = _DCT8 @ smalls.astype(np.float32) @ _DCT8.T          # (n, 8, 8)
    flat = low.reshape(len(smalls), 64)
    bits = flat > np.median(flat, axis=1, keepdims=True)
    return (bits.astype(np.uint64) * _BIT_WEIGHTS).sum(axis=1, dtype=np.uint64)


def phash64(grey: np.ndarray) -> int:
    """64-bit DCT perceptual hash of a greyscale uint8 array (imagehash.phash's algorithm:
    32x32 area-resampled image, 8x8 lowest DCT frequencies, bit = coefficient > median;
    first coefficient is the most significant bit)."""
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA)
    return int(phash_batch(small[None])[0])


def box_hashes(grey: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """pHashes (uint64, n) of the boxes (n, 4) = (x0, y0, x1, y1) as fractions of `grey`'s
    width/height: each box is area-averaged onto 32x32 through one integral image (block
    edges rounded to whole pixels), all boxes in one vectorised pass."""
    h, w = grey.shape
    integral = cv2.integral(grey, sdepth=cv2.CV_64F)              # (h+1, w+1)
    steps = np.linspace(0.0, 1.0, 33)
    xs = np.rint((boxes[:, [0]] + (boxes[:, [2]] - boxes[:, [0]]) * steps) * w).astype(np.int64)
    ys = np.rint((boxes[:, [1]] + (boxes[:, [3]] - boxes[:, [1]]) * steps) * h).astype(np.int64)
    xs = np.maximum.accumulate(np.clip(xs, 0, w), axis=1)
    ys = np.maximum.accumulate(np.clip(ys, 0, h), axis=1)
    corner = integral[ys[:, :, None], xs[:, None, :]]             # (n, 33, 33)
    sums = corner[:, 1:, 1:] - corner[:, :-1, 1:] - corner[:, 1:, :-1] + corner[:, :-1, :-1]
    area = (np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :])
    return phash_batch(sums / np.maximum(area, 1))


_WINDOW_BOXES = np.array([(left, top, 1.0 - right, 1.0 - bottom)
                          for left, top, right, bottom in itertools.product(WINDOW_STEPS, repeat=4)
                          if (left, top, right, bottom) != (0, 0, 0, 0)], dtype=np.float64)


_TILE_BOXES = np.array([(i / TILE_GRID, j / TILE_GRID, (i + 1) / TILE_GRID, (j + 1) / TILE_GRID)
                        for j in range(TILE_GRID) for i in range(TILE_GRID)], dtype=np.float64)


def flat_tiles(grey_small: np.ndarray) -> int:
    """Bit mask (bit k = tile k of the TILE_GRID grid, row-major) of near-flat tiles."""
    h, w = grey_small.shape
    mask = 0
    for k, (x0, y0, x1, y1) in enumerate(_TILE_BOXES):
        tile = grey_small[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]
        if tile.size == 0 or float(tile.std()) < TILE_FLAT_STD:
            mask |= 1 << k
    return mask


def turn_hashes(grey_small: np.ndarray) -> np.ndarray:
    """pHashes (uint64, len(TURN_DEGREES)) of `grey_small` rotated about its centre (edges
    replicated into the corners)."""
    h, w = grey_small.shape
    stack = []
    for degrees in TURN_DEGREES:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
        turned = cv2.warpAffine(grey_small, m, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        stack.append(cv2.resize(turned, (32, 32), interpolation=cv2.INTER_AREA))
    return phash_batch(np.stack(stack))


def _uniform_runs(lines: np.ndarray) -> np.ndarray:
    """For an array (n_lines, n_px, 3): True where a line is uniform (one colour +- tolerance)."""
    med = np.median(lines, axis=1, keepdims=True)
    close = (np.abs(lines - med) <= MARGIN_TOLERANCE).all(axis=2)
    return close.mean(axis=1) >= MARGIN_UNIFORM_SHARE


def _leading(flags: np.ndarray) -> int:
    idx = np.flatnonzero(~flags)
    return int(idx[0]) if idx.size else len(flags)


def content_box(rgb_small: np.ndarray) -> tuple[int, int, int, int]:
    """Box (x0, y0, x1, y1) px of `rgb_small` (h, w, 3 int16) without uniform margins (borders,
    padding, screenshot frames: any colour, several colours in a row): uniform rows first, then
    uniform columns within the kept rows. At most MARGIN_MAX_SHARE of each side is trimmed; a
    uniform image keeps its full box."""
    h, w = rgb_small.shape[:2]
    rows = _uniform_runs(rgb_small)
    top, bottom = _leading(rows), _leading(rows[::-1])
    if top + bottom >= h:
        return 0, 0, w, h
    y0, y1 = min(top, int(h * MARGIN_MAX_SHARE)), h - min(bottom, int(h * MARGIN_MAX_SHARE))
    cols = _uniform_runs(rgb_small[y0:y1].transpose(1, 0, 2))
    left, right = _leading(cols), _leading(cols[::-1])
    if left + right >= w:
        return 0, y0, w, y1
    x0, x1 = min(left, int(w * MARGIN_MAX_SHARE)), w - min(right, int(w * MARGIN_MAX_SHARE))
    return x0, y0, x1, y1


def _resize_long(arr: np.ndarray, long_edge: int) -> np.ndarray:
    h, w = arr.shape[:2]
    s = long_edge / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(arr, size, interpolation=interp)


_LOCAL = threading.local()


def _orb():
    """One ORB detector per thread (OpenCV Feature2D objects are not safe to share between
    the server's request threads)."""
    orb = getattr(_LOCAL, "orb", None)
    if orb is None:
        orb = _LOCAL.orb = cv2.ORB_create(nfeatures=ORB_CANDIDATES, scaleFactor=1.2, nlevels=8,
                                          edgeThreshold=15, patchSize=31, fastThreshold=10)
    return orb


def spread_keypoints(kps, shape: tuple[int, int]) -> list:
    """At most ORB_FEATURES of `kps`: each ORB_GRID cell first keeps its strongest
    ORB_FEATURES / cells keypoints, the budget left over goes to the strongest of the rest."""
    if len(kps) <= ORB_FEATURES:
        return list(kps)
    h, w = shape
    cols, rows = ORB_GRID
    pts = cv2.KeyPoint_convert(kps).reshape(-1, 2)
    response = np.fromiter((k.response for k in kps), dtype=np.float32, count=len(kps))
    cell = (np.minimum((pts[:, 1] * rows / h).astype(int), rows - 1) * cols
            + np.minimum((pts[:, 0] * cols / w).astype(int), cols - 1))
    order = np.lexsort((-response, cell))                 # by cell, strongest first
    rank = np.empty(len(kps), dtype=np.int64)
    starts = np.searchsorted(cell[order], np.arange(cols * rows))
    rank[order] = np.arange(len(kps)) - starts[cell[order]]
    quota = ORB_FEATURES // (cols * rows)
    chosen = rank < quota
    rest = np.flatnonzero(~chosen)
    extra = ORB_FEATURES - int(chosen.sum())
    if extra > 0:
        chosen[rest[np.argsort(-response[rest], kind="stable")[:extra]]] = True
    return [kps[i] for i in np.flatnonzero(chosen)]


# --- public ------------------------------------------------------------------------------------

def fingerprint_image(img: Image.Image, sha256: str) -> Fingerprint:
    """Fingerprint an already-normalised image (RGB as displayed; any size, typically the draft
    decode from `fingerprint_file`). `sha256`: hex digest of the original file's bytes.
    Returns a Fingerprint; never raises for a valid PIL image."""
    img = img if img.mode == "RGB" else img.convert("RGB")
    # Full-size input (PNG, or a JPEG decoded without draft) is box-reduced by the factor a JPEG
    # draft would have used (1, 2, 4 or 8), so both paths reach the same working resolution.
    factor = 1
    while factor < 8 and min(img.size) // (factor * 2) >= DRAFT_MIN_SIDE_PX:
        factor *= 2
    if factor > 1:
        img = img.reduce(factor)
    rgb = np.asarray(img)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape

    small_rgb = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA)
    grey_std = float(cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY).std())
    mean_rgb = tuple(float(c) for c in small_rgb.reshape(-1, 3).mean(axis=0))

    trim_rgb = _resize_long(rgb, TRIM_LONG_EDGE_PX).astype(np.int16)
    th, tw = trim_rgb.shape[:2]
    bx0, by0, bx1, by1 = content_box(trim_rgb)
    box = (bx0 / tw, by0 / th, bx1 / tw, by1 / th)

    orb_img = _resize_long(grey, ORB_LONG_EDGE_PX)
    hash_img = _resize_long(grey, HASH_LONG_EDGE_PX)
    hashes = box_hashes(hash_img, np.vstack([[0.0, 0.0, 1.0, 1.0], box, _WINDOW_BOXES,
                                             _TILE_BOXES]))
    # ORB's scale pyramid asserts on slivers (a 2000x1 PNG passes content-only intake):
    # such an image simply has no local features.
    if min(orb_img.shape[:2]) >= ORB_MIN_SIDE_PX:
        kps, desc = _orb().compute(orb_img, spread_keypoints(_orb().detect(orb_img, None),
                                                             orb_img.shape))
    else:
        kps, desc = (), None
    if desc is None or not kps:
        pts = np.zeros((0, 2), np.float32)
        desc = np.zeros((0, 32), np.uint8)
    else:
        pts = np.array([k.pt for k in kps], dtype=np.float32)

    return Fingerprint(
        sha256=sha256,
        phash=int(hashes[0]), content_phash=int(hashes[1]),
        low_variance=grey_std < LOW_VARIANCE_STD,
        mean_rgb=mean_rgb, grey_std=grey_std, content_box=box,
        size=(w * factor, h * factor),
        orb_size=(orb_img.shape[1], orb_img.shape[0]),
        window_hashes=hashes[2:2 + len(_WINDOW_BOXES)], turn_hashes=turn_hashes(hash_img),
        tile_hashes=hashes[2 + len(_WINDOW_BOXES):], tile_flat=flat_tiles(hash_img),
        keypoints=pts, descriptors=np.ascontiguousarray(desc, dtype=np.uint8),
        thumb=_resize_long(grey, THUMB_LONG_EDGE_PX),
    )


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_file(path: Path) -> Fingerprint:
    """Fingerprint an image file (JPEG/PNG) through the decode path every stored image takes:
    `contest.imaging.load_normalised` with a JPEG draft of DRAFT_MIN_SIDE_PX (stored and new
    images must share it: draft decoding shifts hashes by up to 2 bits). Raises
    `InvalidImage('corrupt')` / `InvalidImage('bomb')` for files that cannot be decoded, and
    OSError if the file cannot be read."""
    path = Path(path)
    img = load_normalised(path, draft_size=(DRAFT_MIN_SIDE_PX, DRAFT_MIN_SIDE_PX))
    return fingerprint_image(img, sha256_file(path))
