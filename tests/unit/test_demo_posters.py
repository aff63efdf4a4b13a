"""Demo poster composition: poster size, the notice's byte range, and the Latin fallback
when no CJK font is installed (scripts/run.sh must not depend on a font package)."""

from __future__ import annotations

import io
import numpy as np
import pytest
from PIL import Image

from contest import demo_posters as dp
from contest.demo import DEFAULT_SAMPLES_DIR

TEXT = dp.PosterText(title="匠心筑梦 技能报国", subtitle="职业教育活动周",
                     lines=("以航天工匠为榜样。",), footer="山西工程科技职业大学",
                     title_en="Craftsmanship builds dreams", subtitle_en="VET Week")


def _band_ink(img: Image.Image) -> float:
    """Spread of grey levels in the text band (bottom 32 %): text makes it large."""
    band = np.asarray(img.convert("L").crop((0, int(img.height * 0.70), img.width, img.height)))
    return float(band.std())


BLANK_BAND_INK = 20  # a band with only grain and the accent bar measures ~9


def _check_poster(img: Image.Image) -> None:
    assert img.size == (2480, 3508) and img.mode == "RGB"
    data = dp.encode_jpeg(img)
    assert dp.MIN_BYTES <= len(data) <= dp.MAX_BYTES  # inside RULES.md's 2–10 MB
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    assert _band_ink(img) > BLANK_BAND_INK  # the title band really carries text


def test_poster_with_cjk_font_is_a4_at_300_dpi_and_within_the_size_rule():
    fonts = dp.find_cjk_fonts()
    if fonts is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk); see the fallback test")
    _check_poster(dp.compose_poster(DEFAULT_SAMPLES_DIR / "rocket.jpg", TEXT, layout="band",
                                    seed=3, fonts=fonts))


def test_without_a_cjk_font_the_english_title_is_drawn_not_missing_glyph_boxes():
    drawn = "".join(dp._texts(TEXT, None)[:2]) + "".join(dp._texts(TEXT, None)[2])
    assert drawn and all(ord(ch) < 0x2E80 for ch in drawn)  # nothing outside Latin
    _check_poster(dp.compose_poster(DEFAULT_SAMPLES_DIR / "coffee.jpg", TEXT, layout="framed",
                                    seed=1, fonts=None))


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError):
        dp.compose_poster(DEFAULT_SAMPLES_DIR / "coffee.jpg", TEXT, layout="collage")
