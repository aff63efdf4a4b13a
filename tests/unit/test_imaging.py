"""contest.imaging: rules at their boundaries, orientation, colour management, alpha,
metadata stripping, and the decisions documented in the module (MPO, APNG, arithmetic
JPEG, XMP orientation, CMYK without a profile)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from contest.errors import InvalidImage
from contest.imaging import (IntakeRules, check_image, load_normalised, read_orientation,
                             save_jpeg, sniff_format)
from contest.messages import message_for
from contest.models import MIB, Contest
from tests.corpus_cases import (BIG_SIZE_CASES, expected_verdicts, jpeg_segments,
                                make_big_cases, metadata_problems)
from tests.factories import make_poster, pad_to, poster_bytes

CAP = 100_000_000
DEFAULTS = IntakeRules.notice_defaults(CAP)
CONTENT = IntakeRules.content_only(CAP)
# width and format rules on, size rules off: for corpus files that are small on disk
NO_SIZE = IntakeRules(formats=frozenset({"JPEG", "PNG"}), min_width_px=2000,
                      min_size_bytes=None, max_size_bytes=None, max_pixels=CAP,
                      min_height_px=100, max_aspect_ratio=20.0)


def outcome(path: Path, rules: IntakeRules) -> str:
    try:
        check_image(path, rules)
    except InvalidImage as err:
        return err.reason
    return "ok"


def refusal(path: Path, rules: IntakeRules) -> InvalidImage:
    with pytest.raises(InvalidImage) as info:
        check_image(path, rules)
    return info.value


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> Path:
    return shared_dir / "corpus"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x013B] = "张小明"  # Artist: personal data that must never survive
    return exif.tobytes()


@pytest.fixture(scope="module")
def jpeg_2000w() -> bytes:
    """A 2000x2828 poster JPEG (< 2 MiB as encoded), to pad to the size boundaries."""
    data = poster_bytes(make_poster((2000, 2828), seed=3), quality=85)
    assert len(data) < 2 * MIB - 1
    return data


# ----------------------------------------------------------------- rules & boundaries

@pytest.mark.parametrize(("width", "expected"), [(1999, "width"), (2000, "ok")])
def test_width_boundary(tmp_path, width, expected):
    data = poster_bytes(make_poster((width, 2828), seed=width), quality=85,
                        min_bytes=2 * MIB + 10)
    path = write(tmp_path, "w.jpg", data)
    assert outcome(path, DEFAULTS) == expected
    if expected == "width":
        err = refusal(path, DEFAULTS)
        assert err.params == {"min": 2000, "actual": 1999}
        assert message_for(err) == "图片宽度不低于2000像素（当前：1999像素）"


def test_corpus_width_pair(corpus):
    assert outcome(corpus / "generated/gen_width_1999.jpg", NO_SIZE) == "width"
    info = check_image(corpus / "generated/gen_width_2000.jpg", NO_SIZE)
    assert (info.width_px, info.height_px) == (2000, 2828)


@pytest.mark.parametrize(("size", "expected"), [
    (2 * MIB - 1, "size_small"), (2 * MIB, "ok"), (10 * MIB, "ok"), (10 * MIB + 1, "size_large"),
])
def test_size_boundaries(tmp_path, jpeg_2000w, size, expected):
    path = write(tmp_path, "s.jpg", pad_to(jpeg_2000w, size))
    assert path.stat().st_size == size
    assert outcome(path, DEFAULTS) == expected
    if expected != "ok":
        err = refusal(path, DEFAULTS)
        assert err.params == {"min": 2 * MIB, "max": 10 * MIB, "actual": size}
        text = message_for(err)
        assert text.startswith("单张图片不低于2MB、不高于10MB")
        # the actual size never reads as the limit it breaks
        assert text.endswith("（当前：1.999999MB）" if size < 2 * MIB else "（当前：10.000001MB）")
    else:
        info = check_image(path, DEFAULTS)
        assert info.size_bytes == size


def test_png_size_boundary(tmp_path):
    """PNG too: 2 MiB exactly is accepted, one byte less is not (pad_to adds chunks)."""
    raw = io.BytesIO()
    make_poster((2000, 1414), seed=5).save(raw, "PNG")
    data = raw.getvalue()
    ok = write(tmp_path, "ok.png", pad_to(data, 2 * MIB, "PNG"))
    assert check_image(ok, DEFAULTS).format == "PNG"
    small = write(tmp_path, "small.png", pad_to(data, 2 * MIB - 13, "PNG"))
    assert outcome(small, DEFAULTS) == "size_small"


def test_rules_from_contest_and_switched_off():
    contest = Contest(allowed_formats="JPEG,PNG", min_width_px=2400, min_size_bytes=None,
                      max_size_bytes=5 * MIB)
    rules = IntakeRules.from_contest(contest, CAP)
    assert rules.formats == {"JPEG", "PNG"}
    assert (rules.min_width_px, rules.min_size_bytes, rules.max_size_bytes) == (2400, None,
                                                                                5 * MIB)
    assert IntakeRules.from_contest(None, CAP) == DEFAULTS
    content = IntakeRules.content_only(CAP)
    assert (content.min_width_px, content.min_size_bytes, content.max_size_bytes,
            content.min_height_px, content.max_aspect_ratio) == (None,) * 5


def test_only_png_allowed_refuses_jpeg(corpus):
    rules = IntakeRules.content_only(CAP, formats=frozenset({"PNG"}))
    err = refusal(corpus / "generated/gen_jpeg_content_named.png", rules)
    assert (err.code, err.params["actual"], err.params["allowed"]) == ("format", "JPEG", "PNG")


# -------------------------------------------------------------------------- formats

@pytest.mark.parametrize(("name", "actual"), [
    ("fmt_webp.webp", "WEBP"), ("renamed_webp_as.jpg", "WEBP"), ("fmt_heic.heif", "HEIF"),
    ("renamed_heic_as.jpg", "HEIF"), ("fmt_avif.avif", "AVIF"), ("renamed_avif_as.jpg", "AVIF"),
    ("fmt_gif.gif", "GIF"), ("renamed_gif_as.png", "GIF"), ("fmt_tiff.tif", "TIFF"),
    ("renamed_tiff_as.jpg", "TIFF"), ("fmt_bmp.bmp", "BMP"), ("bomb_65535x66601.gif", "GIF"),
    ("generated/gen_svg_script.svg", "SVG"), ("generated/gen_svg_script_named.png", "SVG"),
    ("generated/gen_html_named.jpg", "HTML"), ("generated/gen_text_named.png", "TEXT"),
    ("generated/gen_gif_named.jpg", "GIF"),
])
def test_format_named_by_content(corpus, name, actual):
    err = refusal(corpus / name, CONTENT)
    assert (err.code, err.reason, err.params["actual"]) == ("format", "format", actual)
    assert err.params["allowed"] == "JPG、PNG"
    assert "图片格式仅支持 JPG、PNG" in message_for(err)


def test_format_message_names_real_format(corpus):
    err = refusal(corpus / "renamed_heic_as.jpg", DEFAULTS)
    assert message_for(err) == "图片格式仅支持 JPG、PNG（当前文件实际为 HEIC/HEIF 格式）"


@pytest.mark.parametrize(("head", "expected"), [
    (b"%PDF-1.7\n", "PDF"), (b"\x00\x00\x01\x00\x01\x00", "ICO"), (b"8BPS\x00\x01", "PSD"),
    (b"PK\x03\x04\x14\x00", "ZIP"), ("这不是图片".encode(), "TEXT"),
    (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
    (b"  <html><body>x</body></html>", "HTML"), (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JXL"),
    (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif", "AVIF"),
    (b"\x00\x01\x02\x03\x04\x05", None),
])
def test_sniff_other_formats(head, expected):
    assert sniff_format(head) == expected


def test_file_name_is_never_used(corpus, tmp_path):
    """Same bytes under any name: the verdict and detected format follow the content."""
    data = (corpus / "generated/gen_png_content_named.jpg").read_bytes()
    formats = {check_image(write(tmp_path, name, data), CONTENT).format
               for name in ("x.jpg", "x.php.jpg", "海报", ".jpg", "x.gif")}
    assert formats == {"PNG"}


def test_mpo_refused_as_format(corpus):
    """Decision: one poster = one frame; a multi-picture JPEG is refused by name."""
    for name in ("mpo_stereo.mpo", "mpo_stereo_named.jpg"):
        err = refusal(corpus / name, CONTENT)
        assert (err.code, err.params["actual"]) == ("format", "MPO")
        assert "MPO" in message_for(err)


def test_apng_refused_as_animated(corpus):
    err = refusal(corpus / "apng_5_frames.png", CONTENT)
    assert (err.code, err.reason) == ("animated", "format")
    assert "动图" in message_for(err)


def test_lossless_jpeg_refused(corpus):
    err = refusal(corpus / "lossless_sof3.jpg", CONTENT)
    assert (err.code, err.reason, err.params["sof"]) == ("unsupported_jpeg", "format", "SOF3")
    assert "重新导出为标准 JPG" in message_for(err)


def test_arithmetic_jpeg_accepted_when_decodable(corpus):
    """Decision: arithmetic coding (SOF9) is accepted because the deployed decoder reads it
    in full; its derivatives are baseline JPEGs like every other."""
    path = corpus / "arithmetic_coded.jpg"
    assert check_image(path, CONTENT).width_px == 227
    out = io.BytesIO()
    save_jpeg(load_normalised(path), out)
    assert [m for m, _ in jpeg_segments(out.getvalue()) if 0xC0 <= m <= 0xCF and m != 0xC4] \
        == [0xC0]


def test_hierarchical_jpeg_refused(tmp_path):
    """A SOF5 (hierarchical) frame header: refused by name before any decoding."""
    data = poster_bytes(make_poster((64, 64)))
    sof = data.index(b"\xff\xc0")
    path = write(tmp_path, "sof5.jpg", data[:sof] + b"\xff\xc5" + data[sof + 2:])
    err = refusal(path, CONTENT)
    assert (err.code, err.params["sof"]) == ("unsupported_jpeg", "SOF5")


@pytest.mark.parametrize("name", [
    "truncated_progressive.jpg", "truncated_idat.png", "truncated_iend.png",
    "ultrahdr_gainmap_1512x2688.jpg", "broken_header.png", "generated/gen_truncated_half.jpg",
    "generated/gen_png_bad_crc.png", "generated/gen_jpeg_soi_only.jpg", "bomb_ztxt_chunks.png",
])
def test_damaged_files_are_corrupt(corpus, name):
    err = refusal(corpus / name, CONTENT)
    assert err.reason == "corrupt"
    assert message_for(err).startswith("文件已损坏或上传不完整")


@pytest.mark.parametrize("name", ["zero_bytes.jpg", "generated/gen_empty.png"])
def test_empty_file(corpus, name):
    err = refusal(corpus / name, DEFAULTS)
    assert (err.code, err.reason) == ("empty", "corrupt")
    assert message_for(err) == "文件为空（0字节），请重新选择图片"


def test_truncated_tail_of_a_good_poster(tmp_path, jpeg_2000w):
    """Cut in the middle of the scan: the header is fine, only a full decode notices."""
    path = write(tmp_path, "cut.jpg", jpeg_2000w[: len(jpeg_2000w) * 2 // 3])
    assert outcome(path, CONTENT) == "corrupt"


# ---------------------------------------------------------------------------- bombs

@pytest.mark.parametrize(("name", "size"), [
    ("generated/gen_bomb_png_65000x65000_header.png", (65000, 65000)),
    ("generated/gen_bomb_png_1bit_20000x20000_valid.png", (20000, 20000)),
    ("generated/gen_bomb_jpeg_65500x65500_header.jpg", (65500, 65500)),
])
def test_bombs_refused_before_decoding(corpus, name, size):
    err = refusal(corpus / name, CONTENT)
    assert err.reason == "bomb"
    assert (err.params["width"], err.params["height"]) == size
    assert message_for(err).startswith(f"图片尺寸过大（{size[0]}×{size[1]}像素）")


def test_bomb_cap_is_the_configured_one(corpus):
    """81 Mpx passes the default 100 Mpx cap but not an 80 Mpx one."""
    path = corpus / "generated/gen_bomb_png_9000x9000_under_pillow_limit.png"
    assert check_image(path, CONTENT).width_px == 9000
    err = refusal(path, IntakeRules.content_only(80_000_000))
    assert err.params == {"width": 9000, "height": 9000, "max_pixels": 80_000_000}
    assert "像素总数不得超过8000万" in message_for(err)


@pytest.mark.parametrize("pillow_cap", [10_000, 60_000])  # 90,000 px: error / warning
def test_pillow_bomb_error_and_warning_map_to_bomb(tmp_path, monkeypatch, pillow_cap):
    """Pillow's own check (DecompressionBombError above 2x its cap, the warning above 1x)
    is a backstop: either one is a `bomb`, never a crash."""
    import contest.imaging as imaging

    path = write(tmp_path, "p.png", poster_bytes(Image.new("RGB", (300, 300)), "PNG"))
    monkeypatch.setattr(imaging, "set_pillow_pixel_cap", lambda _cap: None)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_cap)
    assert refusal(path, IntakeRules.content_only(1_000_000)).reason == "bomb"


def test_pixel_cap_rechecked_on_pillow_size(tmp_path, monkeypatch):
    """Should the header parser under-read the size, Pillow's size is checked before load."""
    import contest.imaging as imaging

    path = write(tmp_path, "p.png", poster_bytes(Image.new("RGB", (300, 300)), "PNG"))
    monkeypatch.setattr(imaging, "_png_header", lambda fh: imaging._Header(width=1, height=1))
    err = refusal(path, IntakeRules.content_only(50_000))
    assert err.params == {"width": 300, "height": 300, "max_pixels": 50_000}


def test_pillow_cap_raised_never_lowered(monkeypatch):
    from contest.imaging import set_pillow_pixel_cap

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)
    set_pillow_pixel_cap(1_000)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485
    set_pillow_pixel_cap(CAP)
    assert Image.MAX_IMAGE_PIXELS == CAP


# ------------------------------------------------------------------------ dimensions

@pytest.mark.parametrize(("name", "code"), [("generated/gen_2000x1.png", "too_small_height"),
                                            ("generated/gen_1x2000.png", "width")])
def test_strips_refused_under_dimension_rules(corpus, name, code):
    err = refusal(corpus / name, NO_SIZE)
    assert (err.code, err.reason) == (code, "width")
    assert message_for(err)


def test_absurd_aspect_ratio(tmp_path):
    path = write(tmp_path, "banner.png", poster_bytes(Image.new("RGB", (4200, 200)), "PNG"))
    err = refusal(path, NO_SIZE)
    assert (err.code, err.reason) == ("aspect", "width")
    assert message_for(err) == ("图片长宽比例异常（当前：4200×200像素），"
                                "长边不得超过短边的20倍，请上传完整的海报")


def test_tiny_images_fine_when_content_only(corpus):
    assert check_image(corpus / "exif_orient_8_2x1_rectangle.jpg", CONTENT).width_px == 1


# ----------------------------------------------------------------------- orientation

def test_portrait_stored_landscape_judged_by_displayed_width(tmp_path):
    """Stored 2600x1999 with Orientation=6 displays 1999x2600: refused for width 1999;
    stored 2828x2000 displays 2000x2828: accepted."""
    narrow = poster_bytes(make_poster((2600, 1999), seed=1), quality=85,
                          min_bytes=2 * MIB, exif=exif_bytes(6))
    err = refusal(write(tmp_path, "narrow.jpg", narrow), DEFAULTS)
    assert err.params == {"min": 2000, "actual": 1999}
    wide = poster_bytes(make_poster((2828, 2000), seed=2), quality=85,
                        min_bytes=2 * MIB, exif=exif_bytes(6))
    info = check_image(write(tmp_path, "wide.jpg", wide), DEFAULTS)
    assert (info.width_px, info.height_px) == (2000, 2828)


def test_corpus_rotation_pair(corpus):
    before = corpus / "generated/gen_width_ok_only_before_rotation_2400x1600_o6.jpg"
    after = corpus / "generated/gen_width_ok_only_after_rotation_1600x2400_o8.jpg"
    assert refusal(before, NO_SIZE).params == {"min": 2000, "actual": 1600}
    info = check_image(after, NO_SIZE)
    assert (info.width_px, info.height_px) == (2400, 1600)
    assert load_normalised(after).size == (2400, 1600)


ORIENTED = ["exif_orient_1_landscape_1800x1200.jpg", *[f"exif_orient_{i}_hopper.jpg"
                                                       for i in range(2, 9)],
            "exif_orient_6_stored_1200x1800.jpg", "exif_orient_8_2x1_rectangle.jpg",
            "exif_orient_6_empty_gps_ifd.jpg",
            "generated/gen_width_ok_only_before_rotation_2400x1600_o6.jpg",
            "generated/gen_width_ok_only_after_rotation_1600x2400_o8.jpg"]


@pytest.mark.parametrize("name", ORIENTED)
def test_normalising_is_idempotent(corpus, tmp_path, name):
    """PITFALLS.md #4: normalising the normalised image changes nothing (no second
    rotation), and the re-encoded JPEG has the displayed size and no orientation."""
    first = load_normalised(corpus / name)
    lossless = tmp_path / "once.png"
    first.save(lossless, compress_level=1)
    second = load_normalised(lossless)
    assert second.size == first.size
    assert np.array_equal(np.asarray(second), np.asarray(first))
    info = check_image(corpus / name, CONTENT)
    assert first.size == (info.width_px, info.height_px)
    out = tmp_path / "once.jpg"
    assert save_jpeg(first, out) == first.size
    with Image.open(out) as again:
        assert again.size == first.size
        assert read_orientation(again) == 1
        assert 0x0112 not in again.getexif()


def test_hopper_orientations_all_display_upright(corpus):
    """Orientations 2-8 of the same photo all come out as the same upright picture."""
    images = [np.asarray(load_normalised(corpus / f"exif_orient_{i}_hopper.jpg"), dtype=float)
              for i in range(2, 9)]
    for image in images[1:]:
        assert np.abs(image - images[0]).mean() < 8  # JPEG noise only; a wrong turn is ~60


@pytest.mark.parametrize("value", [0, 9, 65535])
def test_invalid_orientation_values_mean_upright(corpus, value):
    path = corpus / f"generated/gen_orientation_invalid_{value}.jpg"
    with Image.open(path) as im:
        assert read_orientation(im) == 1
        raw = np.asarray(im.convert("RGB"))
    assert np.array_equal(np.asarray(load_normalised(path)), raw)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow says so; we go on
def test_broken_exif_never_refuses_a_good_image(tmp_path):
    """PITFALLS.md #5: garbage in APP1 Exif is ignored, the picture is accepted."""
    good = poster_bytes(make_poster((400, 300), seed=9))
    tiff = b"MM\0*\0\0\0\x08\xff\xff\xff\xff"  # IFD0 claims 65535 entries, holds none
    broken = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\0\0" + tiff
    path = write(tmp_path, "broken_exif.jpg", good[:2] + broken + good[2:])
    assert check_image(path, CONTENT).width_px == 400
    assert load_normalised(path).size == (400, 300)


def test_png_exif_orientation_honoured_xmp_ignored(corpus, tmp_path):
    """Decision: PNG eXIf Orientation counts (browsers honour it); XMP tiff:Orientation
    does not (browsers ignore it), so png_xmp_orientation3 stays as stored."""
    buf = io.BytesIO()
    make_poster((300, 200), seed=4).save(buf, "PNG", exif=exif_bytes(6))
    path = write(tmp_path, "exif6.png", buf.getvalue())
    assert load_normalised(path).size == (200, 300)
    assert check_image(path, CONTENT).width_px == 200

    xmp = corpus / "png_xmp_orientation3_colormatch_icc.png"
    with Image.open(xmp) as im:
        assert im.getexif().get(0x0112) == 3  # what Pillow's exif_transpose would apply
        assert read_orientation(im) == 1
    normalised = load_normalised(xmp)
    assert normalised.size == (326, 268)


def test_a4_orient6_poster_accepted_and_stripped(corpus, tmp_path):
    """The 3 MiB A4 file (stored 3508x2480, Orientation=6, personal EXIF/XMP/IPTC/GPS) is
    accepted as 2480x3508, turned 90° clockwise, and re-encoded with no metadata."""
    path = corpus / "generated/gen_a4_orient6_exif_xmp_iptc_gps_3MiB.jpg"
    info = check_image(path, DEFAULTS)
    assert (info.format, info.width_px, info.height_px, info.size_bytes) == ("JPEG", 2480, 3508,
                                                                              3 * MIB)
    normalised = load_normalised(path)
    with Image.open(path) as im:
        stored = im.convert("RGB")
    assert np.array_equal(np.asarray(normalised),
                          np.asarray(stored.transpose(Image.Transpose.ROTATE_270)))
    # the "UP" arrow (drawn red in the stored image's top third) now points right
    assert np.abs(np.asarray(normalised)[1754, 1879].astype(int) - (220, 0, 0)).max() < 30
    out = tmp_path / "a4.jpg"
    assert save_jpeg(normalised, out) == (2480, 3508)
    data = out.read_bytes()
    assert metadata_problems(data) == []
    for personal in ("张小明".encode(), "张小明".encode("utf-16-le"), b"iPhone", b"GPS"):
        assert personal not in data
    with Image.open(out) as im:
        assert im.size == (2480, 3508)
        assert not im.getexif() and "icc_profile" not in im.info


def test_draft_size_is_deterministic(corpus):
    path = corpus / "generated/gen_a4_orient6_exif_xmp_iptc_gps_3MiB.jpg"
    a = load_normalised(path, draft_size=(256, 256))
    b = load_normalised(path, draft_size=(256, 256))
    assert a.size == b.size and a.tobytes() == b.tobytes()
    assert a.size[0] < a.size[1]  # still displayed portrait
    assert 256 <= min(a.size) and max(a.size) < 3508


# ------------------------------------------------------------------ colour and alpha

def test_channel_swap_trap_colours_match_labels(corpus):
    """icc_channel_swap_trap.jpg's profile maps RGB to GBR: the words RED (top), GREEN
    (lower left) and BLUE (lower right) sit in their colour only when the profile is
    honoured; the raw samples put them in the wrong colours."""
    path = corpus / "icc_channel_swap_trap.jpg"
    out = np.asarray(load_normalised(path), dtype=float)
    with Image.open(path) as im:
        raw = np.asarray(im.convert("RGB"), dtype=float)
    spots = {0: (500, 40), 1: (182, 818), 2: (818, 818)}  # channel → (x, y) beside its label
    for channel, (x, y) in spots.items():
        patch = out[y - 5:y + 5, x - 5:x + 5].reshape(-1, 3).mean(axis=0)
        assert patch.argmax() == channel and patch[channel] > 240, (channel, patch)
        raw_patch = raw[y - 5:y + 5, x - 5:x + 5].reshape(-1, 3).mean(axis=0)
        assert raw_patch.argmax() != channel  # the trap: ignoring the profile is wrong


def test_display_p3_converted_to_srgb(corpus):
    """P3-sRGB-blue: a P3 blue is outside sRGB; converting clips it to sRGB blue, so the
    output differs from the raw samples and keeps blue dominant."""
    path = corpus / "icc_display_p3.jpg"
    out = np.asarray(load_normalised(path), dtype=int)
    with Image.open(path) as im:
        raw = np.asarray(im.convert("RGB"), dtype=int)
    assert np.abs(out - raw).mean() > 1  # the profile was applied
    centre = out[450:550, 450:550].reshape(-1, 3).mean(axis=0)
    assert centre.argmax() == 2


def cmyk_jpeg(rgb: Image.Image) -> bytes:
    """Pillow writes CMYK JPEGs Adobe-style (inverted samples + APP14), no profile."""
    buf = io.BytesIO()
    rgb.convert("CMYK").save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_cmyk_without_profile_round_trips(tmp_path):
    """Reference: Pillow's RGB→CMYK is C=255-R, M=255-G, Y=255-B, K=0, and a profile-less
    CMYK JPEG is shown as R=(255-C)(255-K)/255 (browsers, our fallback). So an RGB poster
    written as CMYK must come back as itself; an inversion bug gives its negative."""
    source = make_poster((300, 200), seed=11)
    path = write(tmp_path, "cmyk.jpg", cmyk_jpeg(source))
    with Image.open(path) as im:
        assert im.mode == "CMYK" and "adobe" in im.info and "icc_profile" not in im.info
    out = np.asarray(load_normalised(path), dtype=int)
    assert np.abs(out - np.asarray(source, dtype=int)).mean() < 4


def test_corpus_cmyk_files_not_inverted(corpus):
    # pil_sample_cmyk: red "RED" lettering and a red bar top-left on black
    sample = np.asarray(load_normalised(corpus / "cmyk_adobe_app14.jpg"), dtype=int)
    assert sample[90:100, 90:100].max() < 40  # black corner, not white
    assert tuple(sample[2, 5] > (200, -1, -1)) == (True, True, True) and sample[2, 5, 1] < 60
    # jpg-cmyk-1 (Mozilla reftest, Adobe transform 0): reference render has yellow top-left,
    # green top-right, red bottom-left and blue bottom-right corners
    grid = np.asarray(load_normalised(corpus / "cmyk_inverted_adobe_transform0.jpg"), dtype=int)
    corners = {"yellow": grid[1, 1], "green": grid[1, 30], "red": grid[30, 1],
               "blue": grid[30, 30]}
    assert corners["yellow"][0] > 200 and corners["yellow"][1] > 200 and corners["yellow"][2] < 80
    assert corners["green"].argmax() == 1 and corners["green"][1] > 200
    assert corners["red"].argmax() == 0 and corners["red"][0] > 200
    assert corners["blue"].argmax() == 2 and corners["blue"][2] > 200
    # generated 2000x200 CMYK without ICC: the red "UP" arrow stays red (negative: cyan)
    gen = np.asarray(load_normalised(corpus / "generated/gen_cmyk_no_icc_2000w.jpg"), dtype=int)
    assert np.abs(gen[55, 1000] - (220, 0, 0)).max() < 30


def test_ycck_with_swop_profile(corpus):
    """ycck.jpg (a park: lawn, a white dog, a child in a red jacket, grey paving) through
    its SWOP profile; an inverted or unmanaged conversion turns the lawn magenta."""
    out = np.asarray(load_normalised(corpus / "ycck_swop_icc.jpg"), dtype=int)

    def mean(x0, x1, y0, y1):
        return out[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)

    lawn, jacket = mean(40, 90, 200, 230), mean(320, 340, 200, 215)
    assert lawn.argmax() == 1 and lawn[1] > 120
    assert jacket.argmax() == 0 and jacket[0] - jacket[1] > 30
    assert mean(205, 235, 255, 275).min() > 150  # white dog
    assert mean(420, 480, 310, 330).min() > 150  # paving stones, bottom right


PNG_CASES = [c for c in expected_verdicts(Path(__file__).resolve().parents[3] / "shared")
             if c.rel.endswith(".png") and c.content == {"ok"}] if (
    Path(__file__).resolve().parents[3] / "shared").is_dir() else []


@pytest.mark.parametrize("case", PNG_CASES, ids=lambda c: c.rel)
def test_every_png_mode_goes_through_save_jpeg(case, tmp_path):
    """PITFALLS.md #8: P, P+tRNS, LA, RGBA, I;16+tRNS, 16-bit RGB, ICC... all become a
    metadata-free RGB JPEG; transparent pixels come out white."""
    with Image.open(case.path) as im:
        mode = im.mode
        im.load()
        alpha = None
        if mode in ("RGBA", "LA") or "transparency" in im.info and mode == "P":
            alpha = np.asarray(im.convert("RGBA").getchannel("A"))
    normalised = load_normalised(case.path)
    assert normalised.mode == "RGB" and normalised.info == {}
    out = tmp_path / "x.jpg"
    size = save_jpeg(normalised, out, long_edge_px=1600)
    data = out.read_bytes()
    assert metadata_problems(data) == []
    with Image.open(out) as im:
        assert im.mode == "RGB" and im.size == size
    if alpha is not None and (alpha == 0).any():
        clear = np.asarray(normalised)[alpha == 0]
        assert clear.min() >= 250, f"{mode}: transparent pixels not flattened on white"


def test_gray16_scaled_not_clipped(corpus, tmp_path):
    """16-bit grey is scaled (v/257), not clipped: i_trns.png holds values 0-255 of 65535,
    i.e. near black (clipping would show a bright ramp); its tRNS value becomes white."""
    path = corpus / "gray16_trns.png"
    with Image.open(path) as im:
        raw = np.asarray(im).astype(int)
        trns = im.info["transparency"]
    out = np.asarray(load_normalised(path), dtype=int)
    visible = raw != trns
    assert (out[..., 0][visible] == (raw[visible] + 128) // 257).all()
    assert (out[~visible] == 255).all()
    ramp = np.linspace(0, 65535, 256 * 4, dtype=np.uint16).reshape(16, 64)
    full = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(full)
    got = np.asarray(load_normalised(full))[..., 0].astype(int)
    assert got.min() == 0 and got.max() == 255
    assert np.abs(got - ramp / 257).max() <= 0.5 + 1e-9


def test_alpha_only_shape_visible_after_flattening(corpus):
    """gen_hash_shape_only_in_alpha: black RGB, opaque except a transparent ellipse → a
    white ellipse on black once flattened (PITFALLS.md #10: hash what is displayed)."""
    out = np.asarray(load_normalised(corpus / "generated/gen_hash_shape_only_in_alpha.png"))
    assert out[707, 1000].min() > 245 and out[5, 5].max() < 10
    hidden_a = load_normalised(corpus / "generated/gen_hash_transparent_hidden_white.png")
    hidden_b = load_normalised(corpus / "generated/gen_hash_transparent_hidden_split.png")
    assert hidden_a.tobytes() == hidden_b.tobytes()  # both fully transparent → both white
    assert min(hidden_a.getextrema()[0]) == 255


# ------------------------------------------------------------------------ save_jpeg

@pytest.mark.parametrize("name", [
    "exif_artist_description.jpg", "iptc_city_keywords.jpg", "xmp_photoshop_irb.jpg",
    "phone_4032x2012_gps_xmp.jpg", "icc_400kb_multi_app2_progressive.jpg", "exif_gps.jpg",
    "generated/gen_polyglot_jpeg_html.jpg", "generated/gen_png_text_itxt_ztxt_exif_xmp_2000w.png",
    "png_exif_chunk.png", "generated/gen_png_php_js_in_text.png", "ycck_swop_icc.jpg",
])
def test_save_jpeg_strips_all_metadata(corpus, tmp_path, name):
    out = io.BytesIO()
    size = save_jpeg(load_normalised(corpus / name), out, long_edge_px=1600)
    data = out.getvalue()
    assert metadata_problems(data) == []
    markers = [m for m, _ in jpeg_segments(data)]
    assert markers[:2] == [0xD8, 0xE0] and markers[-1] == 0xD9
    assert max(size) <= 1600
    assert len(data) < 400_000  # the 400 KB ICC profile is not carried along


def test_save_jpeg_drops_comment_left_in_info(tmp_path):
    """Pillow copies im.info['comment'] into a COM segment unless told not to."""
    img = make_poster((200, 100), seed=1)
    img.info["comment"] = b"author: \xe5\xbc\xa0"
    img.info["icc_profile"] = b"x" * 100
    out = io.BytesIO()
    save_jpeg(img, out)
    assert metadata_problems(out.getvalue()) == []


def test_save_jpeg_sizes(tmp_path):
    img = make_poster((2480, 3508), seed=2)
    assert save_jpeg(img, tmp_path / "a.jpg", long_edge_px=2560) == (1810, 2560)
    assert save_jpeg(img, tmp_path / "b.jpg", long_edge_px=5000) == (2480, 3508)  # no upscale
    w, h = save_jpeg(img, tmp_path / "c.jpg", long_edge_px=1600, max_bytes=60_000)
    assert (tmp_path / "c.jpg").stat().st_size <= 60_000
    assert max(w, h) <= 1600


def test_save_jpeg_accepts_unnormalised_modes(tmp_path):
    rgba = Image.new("RGBA", (50, 40), (255, 0, 0, 0))
    out = io.BytesIO()
    assert save_jpeg(rgba, out) == (50, 40)
    with Image.open(io.BytesIO(out.getvalue())) as im:
        assert min(im.convert("RGB").getpixel((25, 20))) >= 250  # transparent → white


# ------------------------------------------------------------- make_cases --big files

@pytest.fixture(scope="session")
def big_cases(tmp_path_factory, shared_dir) -> Path:
    """make_cases.py --big output (~52 MB), generated once per test session."""
    return make_big_cases(tmp_path_factory.mktemp("big_cases"), shared_dir)


@pytest.mark.parametrize(("name", "expected"), sorted(BIG_SIZE_CASES.items()))
def test_big_size_boundary_files(big_cases, name, expected):
    path = big_cases / name
    assert outcome(path, DEFAULTS) == expected
    if expected == "ok":
        info = check_image(path, DEFAULTS)
        assert (info.width_px, info.height_px, info.size_bytes) == (2480, 3508,
                                                                    path.stat().st_size)


def test_sha256_is_of_the_original_bytes(corpus):
    import hashlib

    path = corpus / "generated/gen_a4_orient6_exif_xmp_iptc_gps_3MiB.jpg"
    assert check_image(path, DEFAULTS).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_png_chunk_crc_damage_after_header(tmp_path):
    """A PNG whose IDAT CRC is wrong is damaged even though it decodes."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    idat = data.find(b"IDAT")
    length = struct.unpack(">I", data[idat - 4:idat])[0]
    crc_at = idat + 4 + length
    data[crc_at:crc_at + 4] = struct.pack(">I", zlib.crc32(b"nope") & 0xFFFFFFFF)
    assert outcome(write(tmp_path, "crc.png", bytes(data)), CONTENT) == "corrupt"


def test_stray_bytes_between_jpeg_segments_tolerated(tmp_path):
    """libjpeg skips extraneous bytes before a marker; so does the header parser, so the
    pixel cap and SOF checks still see the frame header."""
    data = poster_bytes(make_poster((400, 300), seed=1))
    after_app0 = 4 + struct.unpack(">H", data[4:6])[0]
    path = write(tmp_path, "stray.jpg", data[:after_app0] + b"\x00\x12\x34" + data[after_app0:])
    assert check_image(path, CONTENT).width_px == 400
    err = refusal(path, IntakeRules.content_only(100_000))
    assert err.params == {"width": 400, "height": 300, "max_pixels": 100_000}


@pytest.mark.parametrize("name", [
    "exif_orient_6_hopper.jpg", "exif_orient_3_hopper.jpg", "cmyk_adobe_app14.jpg",
    "icc_channel_swap_trap.jpg", "rgba_transparent_areas.png", "gray16_trns.png",
    "png_exif_chunk.png", "generated/gen_width_ok_only_after_rotation_1600x2400_o8.jpg",
])
def test_check_and_load_gives_the_image_load_normalised_gives_from_one_decode(corpus, name):
    from contest.imaging import check_and_load

    rules = IntakeRules.content_only(100_000_000)
    info, image = check_and_load(corpus / name, rules)
    assert info == check_image(corpus / name, rules)
    reference = load_normalised(corpus / name)
    assert image.mode == reference.mode == "RGB" and image.size == reference.size
    assert image.size == (info.width_px, info.height_px)
    assert np.array_equal(np.asarray(image), np.asarray(reference))
