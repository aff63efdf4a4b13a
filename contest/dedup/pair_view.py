"""Images for the editors' pair view (查重审核): both posters at one scale, B aligned onto A,
and a difference image that shows *where* the two differ.

Editors decide "same poster or not" by looking; a changed headline or a swapped photo must
jump out, while resizing, recompression, borders, padding and small rotations must not.
So B is first aligned onto A (ORB features matched with a ratio test, then a RANSAC
similarity transform: rotation, uniform scale, shift; if that fails, B is stretched onto A's
frame), its brightness and contrast are fitted to A's over the overlap, and only then are
the two compared pixel by pixel. The difference image is A in light grey with changed
areas in red (the stronger, the redder) and the parts of A that B does not cover hatched
in blue.

No Flask and no database here: the view hands in two normalised RGB images.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

RENDER_WIDTH_PX = 900        # width of A's render (and of the aligned and difference images)
ORB_LONG_EDGE_PX = 800       # alignment runs on the images scaled to this long edge
ORB_FEATURES = 2000
RATIO_TEST = 0.8             # Lowe's ratio for ORB matches
RANSAC_REPROJ_PX = 5.0       # px at ORB_LONG_EDGE_PX
MIN_INLIERS = 15             # fewer: the alignment is not trusted (stretch B onto A instead)
DIFF_BLUR_SIGMA = 1.6        # px; hides resampling and JPEG noise, keeps text strokes
DIFF_NOISE_LEVEL = 14.0      # grey levels of |difference| treated as no change
DIFF_GAIN = 5.0              # red intensity per grey level above the noise level
MIN_CHROMA = 4.0             # mean |channel - grey| below this: the image is greyscale
JPEG_QUALITY = 88


@dataclass(frozen=True)
class PairImages:
    """Rendered JPEGs of one pair and what the alignment found.

    `a`, `aligned` and `diff` share A's render size (`width`×`height` px); `b` is B at its
    own aspect. `b_scale`: how many A-render px one px of the `b` render covers, so a
    template shows both at one scale (B's width × b_scale). `aligned_by`: 'features'
    (RANSAC on ORB matches; `inliers` of them) or 'frame' (B stretched onto A's frame).
    `rotation_deg`: B's rotation relative to A. `changed_share`: share of the overlap whose
    difference is above the noise level (0-1). `cover_a`: share of A covered by B (0-1)."""

    a: bytes
    b: bytes
    aligned: bytes
    diff: bytes
    width: int
    height: int
    b_width: int
    b_height: int
    b_scale: float
    aligned_by: str
    inliers: int
    rotation_deg: float
    changed_share: float
    cover_a: float


def _resize_width(img: Image.Image, width: int) -> Image.Image:
    w, h = img.size
    if w == width:
        return img
    return img.resize((width, max(1, round(h * width / w))), Image.Resampling.BICUBIC,
                      reducing_gap=2.0)


def _resize_long(arr: np.ndarray, long_edge: int) -> tuple[np.ndarray, float]:
    h, w = arr.shape[:2]
    s = long_edge / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.resize(arr, size, interpolation=interp), s


def _jpeg(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def align(grey_a: np.ndarray, grey_b: np.ndarray) -> tuple[np.ndarray | None, int]:
    """Similarity transform (2×3, B px → A px) from ORB matches with RANSAC, and its inlier
    count; (None, inliers) when fewer than MIN_INLIERS agree."""
    small_a, sa = _resize_long(grey_a, ORB_LONG_EDGE_PX)
    small_b, sb = _resize_long(grey_b, ORB_LONG_EDGE_PX)
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES, scaleFactor=1.2, nlevels=8,
                         edgeThreshold=15, patchSize=31, fastThreshold=10)
    kp_a, des_a = orb.detectAndCompute(small_a, None)
    kp_b, des_b = orb.detectAndCompute(small_b, None)
    if des_a is None or des_b is None or len(kp_a) < 2 or len(kp_b) < 2:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_b, des_a, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO_TEST * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None, 0
    src = np.float32([kp_b[m.queryIdx].pt for m in good]) / sb
    dst = np.float32([kp_a[m.trainIdx].pt for m in good]) / sa
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                               ransacReprojThreshold=RANSAC_REPROJ_PX / sa,
                                               maxIters=4000, confidence=0.995)
    inliers = int(mask.sum()) if mask is not None else 0
    if matrix is None or inliers < MIN_INLIERS:
        return None, inliers
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if not 0.1 <= scale <= 10:
        return None, inliers
    return matrix, inliers


def _fit_gain(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Gain and offset mapping B's grey levels `y` onto A's `x` (least squares, refitted
    once on the best 80 % so changed regions do not drag the fit); gain kept in 0.4-2.5."""
    sel = np.ones(x.shape, dtype=bool)
    g, o = 1.0, 0.0
    for _ in range(2):
        xx, yy = x[sel], y[sel]
        if yy.size < 16 or yy.var() < 1e-6:
            g, o = 1.0, float(xx.mean() - yy.mean()) if yy.size else 0.0
        else:
            g = float(((yy - yy.mean()) * (xx - xx.mean())).mean() / yy.var())
            g = min(max(g, 0.4), 2.5)
            o = float(xx.mean() - g * yy.mean())
        res = np.abs(x - (g * y + o))
        sel = res <= np.quantile(res, 0.8)
    return g, o


def _difference(rgb_a: np.ndarray, rgb_b: np.ndarray, matrix: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp `rgb_b` onto `rgb_a`'s frame with `matrix` (2×3) and measure the difference:
    returns (aligned RGB, valid mask, change strength 0-1 per px). Brightness and contrast
    are fitted first (a brightened or greyscale copy is no change); colour changes the grey
    levels miss (a red headline turned blue) count too."""
    h, w = rgb_a.shape[:2]
    aligned = cv2.warpAffine(rgb_b, matrix, (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(235, 235, 235))
    valid = cv2.warpAffine(np.full(rgb_b.shape[:2], 255, np.uint8), matrix, (w, h),
                           flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0)
    valid = cv2.erode(valid, np.ones((5, 5), np.uint8)) > 0  # resampled edges are noise
    sigma = DIFF_BLUR_SIGMA * w / RENDER_WIDTH_PX
    ca = cv2.GaussianBlur(rgb_a, (0, 0), sigma).astype(np.float32)
    cb = cv2.GaussianBlur(aligned, (0, 0), sigma).astype(np.float32)
    luma = np.float32([0.299, 0.587, 0.114])  # what a greyscale conversion keeps
    x, y = ca @ luma, cb @ luma
    g, o = _fit_gain(x[valid], y[valid]) if valid.sum() >= 16 else (1.0, 0.0)
    level = np.abs(x - (g * y + o))
    chroma_a, chroma_b = ca - x[..., None], cb - y[..., None]
    if min(np.abs(chroma_a[valid]).mean(), np.abs(chroma_b[valid]).mean()) >= MIN_CHROMA:
        # both in colour: a recoloured element counts (a grey copy of a colour poster
        # is the same poster, so colour is only compared when both have it)
        level = np.maximum(level, 0.6 * np.abs(chroma_a - chroma_b * g).max(axis=2))
    level[~valid] = 0
    strength = np.clip((level - DIFF_NOISE_LEVEL) * DIFF_GAIN, 0, 255) / 255.0
    return aligned, valid, strength


def _changed_share(valid: np.ndarray, strength: np.ndarray) -> float:
    return float((strength[valid] > 0).mean()) if valid.any() else 1.0


def _scaled(matrix: np.ndarray, fa: float, fb: float) -> np.ndarray:
    """`matrix` (B px → A px) for images scaled by `fb` (B) and `fa` (A)."""
    m = matrix.astype(np.float64).copy()
    m[:, :2] *= fa / fb
    m[:, 2] *= fa
    return m


def render_pair(img_a: Image.Image, img_b: Image.Image, *,
                width_px: int = RENDER_WIDTH_PX) -> PairImages:
    """Render the pair view's images from two normalised RGB images (any sizes): A at
    `width_px` wide, B at the same long edge (`b_scale` says how to show it at A's scale),
    B aligned onto A, and the difference image. Two alignments are tried, the RANSAC one
    (if found) and B stretched onto A's frame; the one leaving fewer changed pixels wins
    (repeated letters can fool RANSAC on a template sibling). Never raises for valid
    images."""
    a = _resize_width(img_a.convert("RGB"), width_px)
    rgb_a = np.asarray(a)
    h, w = rgb_a.shape[:2]
    b_full = img_b.convert("RGB")
    b = b_full.resize(_fit_long(b_full.size, max(w, h)), Image.Resampling.BICUBIC,
                      reducing_gap=2.0)
    rgb_b = np.asarray(b)
    hb, wb = rgb_b.shape[:2]
    grey_a = cv2.cvtColor(rgb_a, cv2.COLOR_RGB2GRAY)
    grey_b = cv2.cvtColor(rgb_b, cv2.COLOR_RGB2GRAY)
    matrix, inliers = align(grey_a, grey_b)
    trials = [("frame", np.float64([[w / wb, 0, 0], [0, h / hb, 0]]))]
    if matrix is not None:
        trials.insert(0, ("features", matrix))
    if len(trials) > 1:  # judge both on a quarter-size render
        small_a, fa = _resize_long(rgb_a, 320)
        small_b, fb = _resize_long(rgb_b, 320)
        shares = [_changed_share(*_difference(small_a, small_b, _scaled(m, fa, fb))[1:])
                  for _name, m in trials]
        best = int(np.argmin(np.array(shares) - np.array([0.02, 0.0])))
        trials = [trials[best]]
    aligned_by, matrix = trials[0]
    b_scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    rotation = float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))
    aligned, valid, strength = _difference(rgb_a, rgb_b, matrix)

    grey = grey_a.astype(np.float32)
    base = (0.35 * grey + 160)[..., None]
    red = np.array([220, 20, 30], np.float32)
    s3 = strength[..., None]
    out = base * (1 - s3) + red * s3
    outside = ~valid
    if outside.any():
        hatch = (np.add.outer(np.arange(h), np.arange(w)) // 6) % 2 == 0
        out[outside & hatch] = (150, 180, 230)
        out[outside & ~hatch] = (205, 220, 245)
    diff = np.clip(out, 0, 255).astype(np.uint8)

    return PairImages(a=_jpeg(rgb_a), b=_jpeg(rgb_b), aligned=_jpeg(aligned), diff=_jpeg(diff),
                      width=w, height=h, b_width=wb, b_height=hb,
                      b_scale=round(b_scale, 4), aligned_by=aligned_by,
                      inliers=inliers if aligned_by == "features" else 0,
                      rotation_deg=round(rotation, 1),
                      changed_share=round(_changed_share(valid, strength), 4),
                      cover_a=round(float(valid.mean()), 4))


def _fit_long(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    w, h = size
    s = long_edge / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


class RenderCache:
    """A small thread-safe LRU of `PairImages` by key (e.g. the two storage keys): the pair
    page and its four image requests render once."""

    def __init__(self, size: int = 24) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, PairImages] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], PairImages]) -> PairImages:
        """The cached render for `key`, rendering (outside the lock) on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        images = render()
        with self._lock:
            self._items[key] = images
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return images
