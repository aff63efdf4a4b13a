"""Compose demo posters the way a school would make one: a photo, a coloured title band
with the Chinese title, a subtitle and a few lines of text, at A4 300 dpi (2480x3508 px),
saved as a 2–10 MiB JPEG (RULES.md: width ≥ 2000 px, 2 MB ≤ size ≤ 10 MB).

Chinese text needs a CJK font (Debian: fonts-noto-cjk). Without one the posters are still
made: the title band then carries the English title in Pillow's built-in font (a
Latin-only design, not boxes of missing glyphs), so `scripts/run.sh` never depends on a
font package. `find_cjk_fonts()` says which case applies.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

POSTER_W, POSTER_H = 2480, 3508  # A4 at 300 dpi, px
MIB = 1024 * 1024
# Target band for the file size: inside the notice's 2–10 MB with a margin either side.
MIN_BYTES, MAX_BYTES = int(2.3 * MIB), int(9.5 * MIB)
LAYOUTS = ("band", "overlay", "framed")

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
_CJK_NAME_HINTS = ("NotoSansCJK", "NotoSansSC", "SourceHanSans", "wqy-zenhei", "wqy-microhei",
                   "NotoSerifCJK", "SourceHanSerif", "DroidSansFallback")


@dataclass(frozen=True)
class CJKFonts:
    """Font files (and face index inside a .ttc) for bold and regular Chinese text."""

    bold: str
    bold_index: int
    regular: str
    regular_index: int


def _sc_index(path: str) -> int:
    """Index of the Simplified Chinese face inside a font collection (0 for plain files)."""
    for index in range(10):
        try:
            name = ImageFont.truetype(path, 12, index=index).getname()[0]
        except OSError:
            break
        if name.endswith(" SC") or "SC " in name or name.endswith("SC"):
            return index
    return 0


def _candidates() -> list[str]:
    found: list[str] = []
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True,
                                 text=True, timeout=10, check=False).stdout
            found += [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    for folder in _FONT_DIRS:
        root = Path(folder)
        if root.is_dir():
            found += [str(p) for p in root.rglob("*") if p.suffix.lower() in (".ttc", ".otf",
                                                                               ".ttf")
                      and any(h.lower() in p.name.lower() for h in _CJK_NAME_HINTS)]
    return list(dict.fromkeys(found))


@lru_cache(maxsize=1)
def find_cjk_fonts() -> CJKFonts | None:
    """The installed CJK fonts to draw Chinese with, preferring Noto Sans CJK (bold and
    regular), then any font fontconfig lists for `:lang=zh`; None when there is none."""
    files = _candidates()
    if not files:
        return None

    def rank(path: str) -> tuple[int, int]:
        name = Path(path).name
        family = next((i for i, h in enumerate(_CJK_NAME_HINTS) if h.lower() in name.lower()),
                      len(_CJK_NAME_HINTS))
        return family, 0 if "Sans" in name else 1

    files.sort(key=rank)
    bold = next((f for f in files if "Bold" in Path(f).name or "Black" in Path(f).name),
                files[0])
    regular = next((f for f in files if "Regular" in Path(f).name), files[0])
    try:
        return CJKFonts(bold, _sc_index(bold), regular, _sc_index(regular))
    except OSError:
        return None


@dataclass(frozen=True)
class PosterText:
    """What is printed on a poster. `title`/`subtitle`/`lines`/`footer` in Chinese;
    `title_en`/`subtitle_en` are used instead when no CJK font is installed."""

    title: str
    subtitle: str
    lines: tuple[str, ...]
    footer: str
    title_en: str
    subtitle_en: str


def _font(bold: bool, size: int, fonts: CJKFonts | None) -> ImageFont.FreeTypeFont:
    if fonts is not None:
        path, index = (fonts.bold, fonts.bold_index) if bold else (fonts.regular,
                                                                   fonts.regular_index)
        try:
            return ImageFont.truetype(path, size, index=index)
        except OSError:
            pass
    return ImageFont.load_default(size=size)  # Pillow's scalable Latin font (Aileron)


def _fit_font(draw: ImageDraw.ImageDraw, text: str, bold: bool, size: int, max_w: int,
              fonts: CJKFonts | None) -> ImageFont.FreeTypeFont:
    """The largest font ≤ `size` px in which `text` fits in `max_w` px."""
    while size > 24:
        font = _font(bold, size, fonts)
        if draw.textlength(text, font=font) <= max_w:
            return font
        size = int(size * 0.9)
    return _font(bold, size, fonts)


def _mean_colour(photo: Image.Image) -> tuple[int, int, int]:
    r, g, b = np.asarray(photo.resize((8, 8))).reshape(-1, 3).mean(0)
    return int(r), int(g), int(b)


def band_colour(photo: Image.Image, darken: float = 0.35) -> tuple[int, int, int]:
    """A dark band colour taken from the photo's mean colour (how templates are made)."""
    return tuple(int(c * darken) for c in _mean_colour(photo))  # type: ignore[return-value]


def _texts(text: PosterText, fonts: CJKFonts | None) -> tuple[str, str, tuple[str, ...], str]:
    if fonts is not None:
        return text.title, text.subtitle, text.lines, text.footer
    # No CJK font: a deliberate Latin design, never tofu boxes.
    return text.title_en.upper(), text.subtitle_en, (), ""


def _draw_text_block(img: Image.Image, box: tuple[int, int, int, int], text: PosterText,
                     fonts: CJKFonts | None, *, fg=(255, 255, 255), accent=(255, 214, 90),
                     body=(236, 236, 236),
                     name_boxes: list[tuple[int, int, int, int]] | None = None
                     ) -> None:  # noqa: ANN001
    x0, y0, x1, _y1 = box
    draw = ImageDraw.Draw(img)
    title, subtitle, lines, footer = _texts(text, fonts)
    max_w = x1 - x0
    y = y0
    if title:
        title_font = _fit_font(draw, title, True, 190, max_w, fonts)
        draw.text((x0, y), title, font=title_font, fill=fg)
        y = draw.textbbox((x0, y), title, font=title_font)[3] + 50
    draw.rectangle([x0, y, x0 + 260, y + 14], fill=accent)
    y += 64
    sub_font = _fit_font(draw, subtitle, True, 110, max_w, fonts)
    draw.text((x0, y), subtitle, font=sub_font, fill=accent)
    y += int(sub_font.size * 1.7)
    for line in lines:
        draw.text((x0, y), line, font=_fit_font(draw, line, False, 74, max_w, fonts), fill=body)
        y += 112
    if footer:
        footer_font = _font(True, 66, fonts)
        draw.text((x0, y + 40), footer, font=footer_font, fill=accent)
        if name_boxes is not None:  # where the unit's name is painted: the demo redacts it
            name_boxes.append(draw.textbbox((x0, y + 40), footer, font=footer_font))


def _photo_fit(photo: Image.Image, size: tuple[int, int],
               centering: tuple[float, float] = (0.5, 0.5)) -> Image.Image:
    return ImageOps.fit(photo, size, Image.Resampling.LANCZOS, centering=centering)


def compose_poster(photo_path: Path, text: PosterText, *, layout: str = "band",
                   colour: tuple[int, int, int] | None = None, seed: int = 0,
                   fonts: CJKFonts | None = None,
                   name_boxes: list[tuple[int, int, int, int]] | None = None) -> Image.Image:
    """Compose one 2480x3508 RGB poster from the photo at `photo_path`.

    `layout`: 'band' (photo on the top 68 %, a coloured text band below), 'overlay' (photo
    over the whole poster, text on a dark gradient at the bottom, a banner at the top) or
    'framed' (coloured background, the photo inset in a white frame, title above, text
    below). `colour`: band/background colour (default: taken from the photo). `seed`
    varies the photo crop and the film grain. Two posters with the same photo, layout,
    colour and seed but different `text` are the same template with different words.
    `name_boxes`, if given, receives the pixel box (x0, y0, x1, y1) of the unit's name
    (`text.footer`) as painted, so the demo can show redaction covering it for jurors.
    """
    rng = random.Random(seed)
    photo = ImageOps.exif_transpose(Image.open(photo_path)).convert("RGB")
    colour = colour or band_colour(photo)
    centering = (0.5 + rng.uniform(-0.08, 0.08), 0.5 + rng.uniform(-0.08, 0.08))
    if layout == "band":
        canvas = Image.new("RGB", (POSTER_W, POSTER_H), colour)
        photo_h = int(POSTER_H * 0.68)
        canvas.paste(_photo_fit(photo, (POSTER_W, photo_h), centering), (0, 0))
        _draw_text_block(canvas, (150, photo_h + 110, POSTER_W - 150, POSTER_H - 80), text,
                         fonts, name_boxes=name_boxes)
    elif layout == "overlay":
        canvas = _photo_fit(photo, (POSTER_W, POSTER_H), centering)
        shade = np.linspace(0, 1, POSTER_H)[:, None] ** 2.2 * 235
        mask = Image.fromarray(np.broadcast_to(shade, (POSTER_H, POSTER_W)).astype(np.uint8))
        canvas = Image.composite(Image.new("RGB", canvas.size, (10, 10, 18)), canvas, mask)
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([0, 0, POSTER_W, 220], fill=colour)
        banner = text.subtitle if fonts is not None else text.subtitle_en
        draw.text((150, 60), banner, font=_fit_font(draw, banner, True, 96, POSTER_W - 300,
                                                    fonts), fill=(255, 255, 255))
        _draw_text_block(canvas, (150, int(POSTER_H * 0.66), POSTER_W - 150, POSTER_H - 80),
                         text, fonts, name_boxes=name_boxes)
    elif layout == "framed":
        canvas = Image.new("RGB", (POSTER_W, POSTER_H), colour)
        draw = ImageDraw.Draw(canvas)
        title = text.title if fonts is not None else text.title_en.upper()
        draw.text((170, 170), title, font=_fit_font(draw, title, True, 200, POSTER_W - 340,
                                                    fonts), fill=(255, 255, 255))
        frame = (170, 560, POSTER_W - 170, 560 + 2000)
        draw.rectangle(frame, fill=(250, 250, 246))
        inner = (frame[0] + 40, frame[1] + 40, frame[2] - 40, frame[3] - 40)
        canvas.paste(_photo_fit(photo, (inner[2] - inner[0], inner[3] - inner[1]), centering),
                     inner[:2])
        body = PosterText(title="", subtitle=text.subtitle, lines=text.lines,
                          footer=text.footer, title_en="", subtitle_en=text.subtitle_en)
        _draw_text_block(canvas, (170, frame[3] + 60, POSTER_W - 170, POSTER_H - 60), body,
                         fonts, name_boxes=name_boxes)
    else:
        raise ValueError(f"unknown layout {layout!r}; one of {LAYOUTS}")
    return add_grain(canvas, seed)


def add_grain(img: Image.Image, seed: int, sigma: float = 5.0) -> Image.Image:
    """Film grain (Gaussian noise, `sigma` in 8-bit levels): real photos carry sensor noise,
    which is also what gives a poster-sized JPEG its megabytes."""
    noise = np.random.default_rng(seed).normal(0, sigma, (img.height, img.width, 1))
    a = np.asarray(img, dtype=np.int16) + noise.astype(np.int16)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def encode_jpeg(img: Image.Image, *, min_bytes: int = MIN_BYTES,
                max_bytes: int = MAX_BYTES) -> bytes:
    """JPEG bytes of `img` between `min_bytes` and `max_bytes`: quality 92 first, then up
    or down in steps until the size fits. Raises ValueError if no quality 60–100 fits."""
    tried: dict[int, int] = {}
    quality = 92
    while 60 <= quality <= 100 and quality not in tried:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 95 else 2,
                 optimize=False)
        size = buf.tell()
        tried[quality] = size
        if min_bytes <= size <= max_bytes:
            return buf.getvalue()
        quality += 2 if size < min_bytes else -4
    raise ValueError(f"no JPEG quality gives {min_bytes}-{max_bytes} bytes: {tried}")
