"""Poster image intake: validation, normalisation and re-encoding (STYLE.md §4).

Three steps, each usable alone:

- `check_image(path, rules)` decides whether an uploaded file is acceptable and returns its
  `ImageInfo` (detected format, size as displayed, byte count, SHA-256), or raises
  `InvalidImage` with a stable `code` and the values `contest.messages` needs.
- `load_normalised(path)` returns the picture as a person sees it: orientation applied,
  colours in sRGB, transparency flattened on white, 8-bit RGB, no metadata.
- `save_jpeg(img, dest)` re-encodes pixels only (no EXIF/XMP/IPTC/ICC/COM): previews,
  juror images and exports never carry a byte of the entrant's metadata.

Decisions (documented here, tested in tests/unit/test_imaging.py):

- Format is decided by content. Magic bytes are sniffed before Pillow so a refused file is
  named for what it really is (WebP, HEIC, SVG, HTML, ...); the file name is never used.
- One poster = one frame. MPO (stereo / multi-picture JPEG, which Pillow reports as format
  "MPO") is refused as a format; animated PNG (APNG) and any other multi-frame file is refused
  with code `animated`. Keeping "frame 0 only" would silently store something other than
  what the entrant's software shows.
- Arithmetic-coded JPEGs (SOF9/SOF10) are accepted when the deployed decoder decodes them
  in full (this build's libjpeg-turbo does; so does Debian's chromium), and everything
  derived from them is re-encoded as baseline JPEG anyway. Lossless (SOF3/7/11/15) and
  hierarchical (SOF5-7, SOF13-15) JPEGs are refused with code `unsupported_jpeg`: Pillow
  cannot decode them and browsers show nothing ("re-export as standard JPEG").
- Orientation comes from the EXIF Orientation tag only (JPEG APP1 Exif, PNG eXIf chunk),
  and only values 1-8 count; anything else, or EXIF that fails to parse, means "upright".
  XMP `tiff:Orientation` is ignored for every format (Pillow's `getexif()` would apply it):
  browsers and image viewers do not honour it, so the entrant sees such a PNG unrotated,
  and the in-browser width check must agree with the server.
- Colours: an embedded ICC profile is converted to sRGB with LittleCMS (relative
  colorimetric + black-point compensation, Photoshop's default). A profile that cannot be
  parsed, or whose colour space does not match the pixels, is ignored (logged). A CMYK/YCCK
  JPEG *without* a profile cannot be colour-managed: it is converted with Pillow's
  built-in formula R = (255-C)(255-K)/255 (PR #2699), which is what Chromium/Skia and
  Firefox display for such files; Pillow already undoes Adobe's inverted CMYK (APP14).
- Decompression bombs: the product's cap (`MAX_IMAGE_PIXELS`, default 100 Mpx: A1 at
  300 dpi is ~70 Mpx, and a <=10 MiB poster does not need more) is checked from the file
  header before Pillow is involved, then again on Pillow's size before any decode. Pillow's
  own `Image.MAX_IMAGE_PIXELS` is raised to the same cap when lower, and its
  `DecompressionBombWarning` / `DecompressionBombError` are both turned into `bomb`.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, ImageCms, UnidentifiedImageError

from contest.errors import InvalidImage

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# RULES.md (attachment 2 of the notice): JPG/PNG, width >= 2000 px, 2 MB <= size <= 10 MB,
# MB = 1024x1024 bytes (our default).
NOTICE_FORMATS = frozenset({"JPEG", "PNG"})
NOTICE_MIN_WIDTH_PX = 2000
NOTICE_MIN_SIZE_BYTES = 2 * MIB
NOTICE_MAX_SIZE_BYTES = 10 * MIB
# Our default (the notice is silent): a poster is at least 100 px tall and its long side is
# at most 20 times its short side. Catches strips such as 2000x1 that pass the width rule.
MIN_HEIGHT_PX = 100
MAX_ASPECT_RATIO = 20.0

WHITE = (255, 255, 255)  # background for flattening transparency (display, thumbnails, hash)
SNIFF_BYTES = 4096
_HASH_CHUNK = 1024 * 1024

# The six stable reason codes of `validate` and the manifest (issue #2).
REASONS = ("format", "width", "size_small", "size_large", "corrupt", "bomb")


@dataclass(frozen=True)
class IntakeRules:
    """The image rules one upload is judged by.

    `formats`: allowed Pillow format names, e.g. {"JPEG", "PNG"}. `min_width_px`: width as
    displayed (after EXIF orientation), px. `min_size_bytes` / `max_size_bytes`: byte
    bounds, both inclusive (an exactly-10 MiB file is accepted). `max_pixels`: bomb cap,
    width x height. `min_height_px` / `max_aspect_ratio`: sanity limits (our default),
    on only when the dimension rules are. `None` switches a limit off.
    """

    formats: frozenset[str]
    min_width_px: int | None
    min_size_bytes: int | None
    max_size_bytes: int | None
    max_pixels: int
    min_height_px: int | None = None
    max_aspect_ratio: float | None = None

    @classmethod
    def from_contest(cls, contest: Any, max_pixels: int) -> IntakeRules:
        """Rules of `contest` (its intake-rule columns); `contest=None` gives the notice's
        defaults (RULES.md). `max_pixels`: config MAX_IMAGE_PIXELS."""
        if contest is None:
            return cls.notice_defaults(max_pixels)
        formats = frozenset(contest.formats) or NOTICE_FORMATS
        return cls(formats=formats, min_width_px=contest.min_width_px,
                   min_size_bytes=contest.min_size_bytes, max_size_bytes=contest.max_size_bytes,
                   max_pixels=max_pixels,
                   min_height_px=MIN_HEIGHT_PX if contest.min_width_px else None,
                   max_aspect_ratio=MAX_ASPECT_RATIO if contest.min_width_px else None)

    @classmethod
    def notice_defaults(cls, max_pixels: int) -> IntakeRules:
        """The notice's rules (RULES.md): JPG/PNG, width >= 2000 px, 2-10 MiB."""
        return cls(formats=NOTICE_FORMATS, min_width_px=NOTICE_MIN_WIDTH_PX,
                   min_size_bytes=NOTICE_MIN_SIZE_BYTES, max_size_bytes=NOTICE_MAX_SIZE_BYTES,
                   max_pixels=max_pixels, min_height_px=MIN_HEIGHT_PX,
                   max_aspect_ratio=MAX_ASPECT_RATIO)

    @classmethod
    def content_only(cls, max_pixels: int,
                     formats: frozenset[str] = NOTICE_FORMATS) -> IntakeRules:
        """Content checks only (format, integrity, frames, bomb): width and size rules off,
        as the manifest's `content` column assumes."""
        return cls(formats=frozenset(formats), min_width_px=None, min_size_bytes=None,
                   max_size_bytes=None, max_pixels=max_pixels)


@dataclass(frozen=True)
class ImageInfo:
    """What intake learned about an accepted file. `format`: "JPEG" | "PNG" (detected from
    content); `width_px`/`height_px`: as displayed (EXIF orientation applied);
    `size_bytes`: the file's byte count; `sha256`: hex digest of the original bytes."""

    format: str
    width_px: int
    height_px: int
    size_bytes: int
    sha256: str


# --------------------------------------------------------------------------- sniffing

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_format(head: bytes) -> str | None:
    """The real format of a file from its first bytes (at least 32, ideally 4 KiB).

    Returns a Pillow-style name ("JPEG", "PNG", "GIF", "WEBP", "HEIF", "AVIF", "TIFF",
    "BMP", "ICO", "PDF", "SVG", "HTML", "XML", "TEXT", "JPEG2000", "JXL", "PSD", "ZIP",
    "MP4", ...) or None when unknown. Never looks at a file name.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 14:
        return "BMP"
    if head[4:8] == b"ftyp":
        box = struct.unpack(">I", head[:4])[0]
        brands = [head[8:12]] + [head[i:i + 4] for i in range(16, min(box, len(head)), 4)]
        if any(b in _AVIF_BRANDS for b in brands):
            return "AVIF"
        if any(b in _HEIF_BRANDS for b in brands):
            return "HEIF"
        if head[8:12] == b"jp2 ":
            return "JPEG2000"
        return "MP4"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "JPEG2000"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL "):
        return "JXL"
    if head.startswith(b"\x00\x00\x01\x00") or head.startswith(b"\x00\x00\x02\x00"):
        return "ICO"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"PK\x03\x04"):
        return "ZIP"
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "ZIP"
    text = _as_text(head)
    if text is None:
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered:
        return "SVG"
    if lowered.startswith("<!doctype html") or any(
            tag in lowered for tag in ("<html", "<script", "<body", "<head", "<iframe")):
        return "HTML"
    if lowered.startswith("<?xml"):
        return "XML"
    return "TEXT"


def _as_text(head: bytes) -> str | None:
    """`head` decoded as UTF-8 text (a cut multi-byte character at the end is fine), or
    None when it holds binary bytes."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    return text


# ----------------------------------------------------------------- header parsing

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# lossless (3, 7, 11, 15) and hierarchical (5, 6, 7, 13, 14, 15) frames: not decodable here
_UNSUPPORTED_SOF = {0xC3, 0xC7, 0xCB, 0xCF, 0xC5, 0xC6, 0xCD, 0xCE}


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    sof: int | None = None  # JPEG start-of-frame marker (0xC0..0xCF)
    animated: bool = False  # PNG acTL chunk before the image data


def _jpeg_header(fh: BinaryIO) -> _Header | None:
    """Walk the JPEG markers up to the first SOFn without decoding. Stray bytes between
    segments are skipped as libjpeg does (up to 64 KiB). None if no frame header is found
    before the scan data; the caller then leaves the verdict to Pillow."""
    fh.seek(2)
    skipped = 0
    for _ in range(4096):
        byte = fh.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            skipped += 1
            if skipped > 65536:
                return None
            continue
        marker = fh.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fh.read(1)
        if not marker:
            return None
        m = marker[0]
        if m in (0x00, 0x01) or 0xD0 <= m <= 0xD7:
            continue
        if m in (0xD9, 0xDA):  # EOI or start of scan before any frame header
            return None
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        length = struct.unpack(">H", raw)[0]
        if length < 2:
            return None
        if m in _SOF_MARKERS:
            body = fh.read(5)
            if len(body) < 5:
                return None
            height, width = struct.unpack(">HH", body[1:5])
            return _Header(width=width, height=height, sof=m)
        fh.seek(length - 2, io.SEEK_CUR)
    return None


def _png_header(fh: BinaryIO) -> _Header | None:
    """IHDR size and whether an acTL (APNG) chunk precedes the first IDAT."""
    fh.seek(8)
    head = fh.read(8)
    if len(head) < 8 or head[4:8] != b"IHDR":
        return None
    ihdr = fh.read(13)
    if len(ihdr) < 13:
        return None
    width, height = struct.unpack(">II", ihdr[:8])
    fh.seek(4, io.SEEK_CUR)  # IHDR CRC
    animated = False
    for _ in range(10_000):
        raw = fh.read(8)
        if len(raw) < 8:
            break
        length, ctype = struct.unpack(">I", raw[:4])[0], raw[4:8]
        if ctype == b"acTL":
            animated = True
            break
        if ctype in (b"IDAT", b"IEND"):
            break
        fh.seek(length + 4, io.SEEK_CUR)
    return _Header(width=width, height=height, animated=animated)


# ------------------------------------------------------------------- validation

def _invalid(code: str, **params: Any) -> InvalidImage:
    return InvalidImage(code, **params)


def _allowed_label(formats: frozenset[str]) -> str:
    names = {"JPEG": "JPG", "PNG": "PNG"}
    return "、".join(names.get(f, f) for f in sorted(formats, key=lambda f: (f != "JPEG", f)))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def set_pillow_pixel_cap(max_pixels: int) -> None:
    """Raise Pillow's process-wide `Image.MAX_IMAGE_PIXELS` to at least `max_pixels`
    (config MAX_IMAGE_PIXELS), so Pillow's own check never refuses what the product's cap
    allows. It is never lowered: our cap is enforced by `check_image` itself (header and
    Pillow size, before any decode), and Pillow's check stays a backstop for every other
    `Image.open` in the process."""
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _guard_pillow() -> None:
    """Turn Pillow's `DecompressionBombWarning` into an exception, process-wide
    (PITFALLS.md #2). Installed with `warnings.filterwarnings` on every call (it replaces
    its own earlier entry, so this is idempotent) rather than with
    `warnings.catch_warnings()`, which is not thread-safe under a threaded server."""
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def _bomb(width: int | None, height: int | None, max_pixels: int) -> InvalidImage:
    if width and height:
        return _invalid("bomb", width=width, height=height, max_pixels=max_pixels)
    return _invalid("bomb", max_pixels=max_pixels)


def check_image(path: Path, rules: IntakeRules) -> ImageInfo:
    """Decide whether the file at `path` is an acceptable poster under `rules`.

    Order (cheap first): empty file; format sniffed from magic bytes; byte-size rules
    (RULES.md: 2 MiB <= size <= 10 MiB); JPEG frame type / PNG animation and the pixel cap
    from the header; Pillow open (format, frames, pixel cap again), `verify()`, reopen and
    a full `load()` (catches truncation); dimensions as displayed (RULES.md: width >= 2000
    px after EXIF orientation; our default: height >= 100 px, aspect <= 20:1).

    Returns `ImageInfo` (px, bytes, hex SHA-256 of the original bytes).
    Raises `InvalidImage` with `code` in format | width | size_small | size_large |
    corrupt | bomb | empty | animated | unsupported_jpeg | too_small_height | aspect
    (`err.reason` maps it to one of the six reason codes).
    """
    return _check(path, rules, normalised=False)[0]


def check_and_load(path: Path, rules: IntakeRules) -> tuple[ImageInfo, Image.Image]:
    """`check_image`, also returning the image as `load_normalised(path)` would, from the
    same full decode (the check must decode everything anyway, to catch truncation), so an
    accepted upload is decoded once. Raises as `check_image`."""
    info, image = _check(path, rules, normalised=True)
    assert image is not None
    return info, image


def _check(path: Path, rules: IntakeRules, *, normalised: bool
           ) -> tuple[ImageInfo, Image.Image | None]:
    set_pillow_pixel_cap(rules.max_pixels)
    allowed = _allowed_label(rules.formats)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if size == 0 or not head:
                raise _invalid("empty", actual=0)
            sniffed = sniff_format(head)
            if sniffed not in rules.formats:
                raise _invalid("format", actual=sniffed, allowed=allowed)
            if rules.min_size_bytes is not None and size < rules.min_size_bytes:
                raise _invalid("size_small", min=rules.min_size_bytes,
                               max=rules.max_size_bytes, actual=size)
            if rules.max_size_bytes is not None and size > rules.max_size_bytes:
                raise _invalid("size_large", min=rules.min_size_bytes,
                               max=rules.max_size_bytes, actual=size)
            header = _jpeg_header(fh) if sniffed == "JPEG" else _png_header(fh)
    except OSError as exc:  # unreadable file (permissions, vanished temp file)
        log.warning("cannot read %s: %s", path, exc)
        raise _invalid("corrupt") from exc
    if header is not None:  # an unparseable header is left to Pillow (usually: corrupt)
        if header.sof in _UNSUPPORTED_SOF:
            raise _invalid("unsupported_jpeg", sof=f"SOF{header.sof - 0xC0}")
        if header.width * header.height > rules.max_pixels:
            raise _bomb(header.width, header.height, rules.max_pixels)
        if header.animated:
            raise _invalid("animated")

    width, height, fmt, image = _decode_fully(path, rules, allowed, normalised=normalised)
    if rules.min_width_px is not None and width < rules.min_width_px:
        raise _invalid("width", min=rules.min_width_px, actual=width)
    if rules.min_height_px is not None and height < rules.min_height_px:
        raise _invalid("too_small_height", min=rules.min_height_px, actual=height)
    if rules.max_aspect_ratio is not None:
        if max(width, height) > rules.max_aspect_ratio * min(width, height):
            raise _invalid("aspect", width=width, height=height, max=rules.max_aspect_ratio)
    return ImageInfo(format=fmt, width_px=width, height_px=height, size_bytes=size,
                     sha256=_file_digest(path)), image


def _decode_fully(path: Path, rules: IntakeRules, allowed: str, *, normalised: bool = False
                  ) -> tuple[int, int, str, Image.Image | None]:
    """Open with Pillow, check format/frames/pixel cap, verify, reopen and load fully.
    Returns (displayed width px, displayed height px, Pillow format, the normalised image
    when `normalised`, else None)."""
    _guard_pillow()
    try:
        with Image.open(path) as im:
            fmt = im.format or ""
            w, h = im.size
            if fmt == "MPO":
                raise _invalid("format", actual="MPO", allowed=allowed)
            if fmt not in rules.formats:
                raise _invalid("format", actual=fmt, allowed=allowed)
            if w * h > rules.max_pixels:
                raise _bomb(w, h, rules.max_pixels)
            frames = getattr(im, "n_frames", 1)
            if frames > 1 or getattr(im, "is_animated", False):
                raise _invalid("animated", frames=frames)
            im.verify()
        with Image.open(path) as im:
            im.load()
            orientation = read_orientation(im)  # after load: a PNG's eXIf may follow IDAT
            image = normalise(im, orientation=orientation) if normalised else None
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(None, None, rules.max_pixels) from exc
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError, EOFError,
            struct.error, IndexError, TypeError, KeyError, MemoryError) as exc:
        log.info("refused %s as corrupt: %r", path, exc)
        raise _invalid("corrupt") from exc
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return w, h, fmt, image


# ---------------------------------------------------------------- normalising

_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def read_orientation(im: Image.Image) -> int:
    """EXIF Orientation (1-8) of an opened image; 1 when absent, invalid (0, 9, 65535...)
    or when the EXIF block cannot be parsed (PITFALLS.md #5: never fail on broken EXIF).
    Reads only the EXIF block (JPEG APP1, PNG eXIf), never XMP (see module docstring)."""
    raw = im.info.get("exif")
    if not raw or not isinstance(raw, (bytes, bytearray)):
        return 1
    try:
        exif = Image.Exif()
        exif.load(bytes(raw))  # may warn "Corrupt EXIF data" (UserWarning): harmless
        value = exif.get(0x0112)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "no orientation"
        log.info("unreadable EXIF ignored: %r", exc)
        return 1
    if isinstance(value, tuple) and value:
        value = value[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    """`im` turned the way EXIF `orientation` (1-8) says it is displayed."""
    for op in _TRANSPOSE.get(orientation, ()):
        im = im.transpose(op)
    return im


_SRGB = ImageCms.createProfile("sRGB")
_PROFILE_SPACE = {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK"}


def _to_srgb(colour: Image.Image, icc: bytes | None) -> Image.Image:
    """`colour` (mode L, RGB or CMYK) as sRGB RGB. Uses the embedded ICC profile when it
    parses and matches the mode; otherwise untagged RGB is taken as sRGB, L is expanded
    and CMYK uses Pillow's formula (see module docstring)."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = src.profile.xcolor_space.strip()
            if space == _PROFILE_SPACE[colour.mode]:
                transform = ImageCms.buildTransform(
                    src, _SRGB, colour.mode, "RGB",
                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                    flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)
                return ImageCms.applyTransform(colour, transform)
            log.info("ICC profile space %r does not match mode %s; ignored", space,
                     colour.mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            log.info("unusable ICC profile ignored: %r", exc)
    return colour.convert("RGB") if colour.mode != "RGB" else colour


def _split_alpha(im: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Return (colour image in L/RGB/CMYK, alpha band or None) for any Pillow mode;
    16-bit samples are scaled to 8-bit (x/257, rounded), not clipped."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        import numpy as np

        arr = np.asarray(im).astype(np.int64)
        alpha = None
        trns = im.info.get("transparency")
        if isinstance(trns, int):
            alpha = Image.fromarray(np.where(arr == trns, 0, 255).astype(np.uint8), "L")
        arr = np.clip(arr, 0, 65535) if mode == "I" and arr.max() > 255 else arr
        scale = 257 if mode != "I" or arr.max() > 255 else 1
        grey = ((arr + scale // 2) // scale).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L"), alpha
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
        mode = im.mode
    elif mode in ("L", "RGB") and "transparency" in im.info:
        im = im.convert("LA" if mode == "L" else "RGBA")
        mode = im.mode
    if mode == "1":
        return im.convert("L"), None
    if mode in ("L", "RGB", "CMYK"):
        return im, None
    if mode in ("LA", "La"):
        im = im.convert("LA") if mode == "La" else im
        return im.getchannel("L"), im.getchannel("A")
    if mode in ("RGBA", "RGBa"):
        im = im.convert("RGBA") if mode == "RGBa" else im
        return im.convert("RGB"), im.getchannel("A")
    return im.convert("RGB"), None  # YCbCr, LAB, HSV, RGBX, F, ...


def normalise(im: Image.Image, *, orientation: int = 1) -> Image.Image:
    """Normalise an already loaded image: colours to sRGB through `im.info['icc_profile']`,
    alpha flattened on white, 8-bit RGB, then `orientation` (1-8) applied. Returns a new
    image whose `info` is empty."""
    icc = im.info.get("icc_profile") or None
    colour, alpha = _split_alpha(im)
    rgb = _to_srgb(colour, icc)
    if alpha is not None:
        flat = Image.new("RGB", rgb.size, WHITE)
        flat.paste(rgb, mask=alpha)
        rgb = flat
    rgb = apply_orientation(rgb, orientation)
    if rgb is im:
        rgb = rgb.copy()
    rgb.info = {}
    return rgb


def load_normalised(path: Path, *, draft_size: tuple[int, int] | None = None) -> Image.Image:
    """The image at `path` as displayed: EXIF orientation applied once (only 1-8 count,
    broken EXIF ignored, XMP ignored), ICC -> sRGB (CMYK/YCCK too), alpha flattened on
    white, 16-bit -> 8-bit, mode "RGB", empty `info` (no metadata carried).

    `draft_size`: (width, height) px as displayed; JPEGs then decode at the smallest DCT
    scale that is still at least that size (`Image.draft`), which is deterministic: the
    same file always gives the same pixels. PNGs ignore it.
    Call after `check_image`. Raises `InvalidImage('corrupt')` if the file cannot be
    decoded after all.
    """
    _guard_pillow()
    try:
        with Image.open(path) as im:
            orientation = read_orientation(im)
            if draft_size is not None and im.format in ("JPEG", "MPO"):
                dw, dh = draft_size
                if orientation in (5, 6, 7, 8):
                    dw, dh = dh, dw
                im.draft(None, (dw, dh))
            im.load()
            if im.format == "PNG" and orientation == 1:
                orientation = read_orientation(im)  # eXIf after IDAT is seen on load
            return normalise(im, orientation=orientation)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _invalid("bomb", max_pixels=Image.MAX_IMAGE_PIXELS) from exc
    except (UnidentifiedImageError, ValueError, OSError, SyntaxError, EOFError,
            struct.error, IndexError) as exc:
        raise _invalid("corrupt") from exc


# ------------------------------------------------------------------ encoding

MIN_JPEG_QUALITY = 40
_QUALITY_STEP = 8


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    # exif/comment passed empty on purpose: Pillow copies a COM segment from img.info
    img.save(buf, "JPEG", quality=quality, optimize=True, exif=b"", comment=b"")
    return buf.getvalue()


def save_jpeg(img: Image.Image, dest: Path | BinaryIO, *, long_edge_px: int | None = None,
              quality: int = 88, max_bytes: int | None = None) -> tuple[int, int]:
    """Re-encode `img` from pixels as a baseline JPEG with no EXIF/XMP/IPTC/ICC/COM (only
    the JFIF header; sRGB is implied, no profile is embedded: juror images carry no
    metadata at all).

    `img`: normally from `load_normalised` (RGB); other modes are normalised first.
    `long_edge_px`: shrink (never enlarge) so the longer side is at most this, px.
    `quality`: 1-95. `max_bytes`: if the result is larger, lower the quality in steps of 8
    down to 40, then shrink by 15 % steps until it fits.
    `dest`: a path (written whole) or a binary file object. Returns (width, height) px.
    """
    if img.mode not in ("RGB", "L"):
        img = normalise(img)
    if long_edge_px and max(img.size) > long_edge_px:
        img = _resize_long_edge(img, long_edge_px)
    data = _encode_jpeg(img, quality)
    if max_bytes is not None:
        q = quality
        while len(data) > max_bytes:
            if q > MIN_JPEG_QUALITY:
                q = max(MIN_JPEG_QUALITY, q - _QUALITY_STEP)
            elif max(img.size) > 16:
                img = _resize_long_edge(img, int(max(img.size) * 0.85))
            else:
                break
            data = _encode_jpeg(img, q)
    if isinstance(dest, (str, Path)):
        Path(dest).write_bytes(data)
    else:
        dest.write(data)
    return img.size


def _resize_long_edge(img: Image.Image, long_edge_px: int) -> Image.Image:
    w, h = img.size
    scale = long_edge_px / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # reducing_gap=2.0: a box reduce first, then Lanczos over >= 2x the target; about half
    # the time of plain Lanczos on an A2 poster, with no visible difference at these sizes
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
