"""The duplicate-detection engine (issue #3): fingerprints, search, pair verification, and the
dedup-scan command. Images are drawn here (tests.factories.make_poster and small compositions);
the corpus files are read from ../shared in place."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageOps

from contest.commands.dedup import dedup_scan
from contest.dedup.engine import (ALGO_VERSION, INDEX_ROW_LEN, CandidateIndex, Fingerprint,
                                  HashIndex, compare, find_matches, fingerprint_file,
                                  fingerprint_image, from_signed64, index_row, to_signed64)
from tests.factories import make_poster, near_copy

SIZE = (1000, 1414)  # A-series aspect; small enough to keep the module fast
WORDS = ("SCIENCE FAIR SPRING FESTIVAL ART CONTEST SCHOOL DISTRICT FUTURE GREEN ENERGY OCEAN "
         "PLANET READING CLUB ROBOTICS MUSIC NIGHT HISTORY WEEK WATER SAVE RECYCLE").split()


def _text_band(img: Image.Image, seed: int) -> Image.Image:
    """`img` with a dark text band over its bottom 30 %: a title and five lines of seeded
    words, like a poster template filled in by one school."""
    img = img.copy()
    rng = random.Random(seed)
    w, h = img.size
    top = int(h * 0.7)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, top, w, h], fill=(40, 30, 60))
    draw.text((40, top + 30), " ".join(rng.choice(WORDS) for _ in range(3)),
              fill=(255, 255, 255), font_size=70)
    for k in range(5):
        draw.text((40, top + 140 + k * 48), " ".join(rng.choice(WORDS) for _ in range(5)),
                  fill=(230, 230, 230), font_size=32)
    return img


def _photo(seed: int) -> Image.Image:
    """A textured 'photograph' (make_poster shapes plus seeded noise), full poster size."""
    img = make_poster(SIZE, seed=seed)
    noise = np.random.default_rng(seed).normal(0, 6, (SIZE[1], SIZE[0], 3))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def master() -> Image.Image:
    return _text_band(_photo(1), seed=10)


@pytest.fixture(scope="module")
def master_fp(master, tmp_path_factory) -> Fingerprint:
    return _fp_of(master, tmp_path_factory.mktemp("master"), "JPEG")


def _fp_of(img: Image.Image, folder: Path, fmt: str = "JPEG", **save) -> Fingerprint:
    path = folder / f"img_{random.random():.9f}.{'png' if fmt == 'PNG' else 'jpg'}"
    if fmt == "JPEG":
        save.setdefault("quality", 92)
    img.save(path, fmt, **save)
    return fingerprint_file(path)


def _crop(img: Image.Image, left: float, top: float, right: float, bottom: float):
    w, h = img.size
    return img.crop((int(left * w), int(top * h), w - int(right * w), h - int(bottom * h)))


# ------------------------------------------------------------------ duplicates

def test_same_bytes_are_exact(master, tmp_path):
    path = tmp_path / "a.jpg"
    master.save(path, "JPEG", quality=90)
    shutil.copy(path, tmp_path / "b.jpg")
    verdict = compare(fingerprint_file(path), fingerprint_file(tmp_path / "b.jpg"))
    assert verdict.kind == "exact"


@pytest.mark.parametrize("variant", [
    "resized_recompressed", "png_resave", "grayscale", "brightened", "crop_3",
])
def test_core_variants_are_duplicates(master, master_fp, tmp_path, variant):
    """issue #3 'core': format, scale, colour, small crop -> duplicate."""
    fmt = "JPEG"
    if variant == "resized_recompressed":
        img = near_copy(master, scale=0.45, quality=70)
    elif variant == "png_resave":
        img, fmt = master, "PNG"
    elif variant == "grayscale":
        img = master.convert("L")
    elif variant == "brightened":
        img = Image.eval(master, lambda v: min(255, int(v * 1.2)))
    else:
        img = _crop(master, 0.03, 0.01, 0.0, 0.02)
    verdict = compare(master_fp, _fp_of(img, tmp_path, fmt))
    assert verdict.kind == "duplicate", verdict.scores


@pytest.mark.parametrize("variant", ["crop_10", "border", "pad_square", "rotate_3"])
def test_hard_variants_are_duplicates(master, master_fp, tmp_path, variant):
    """issue #3 'hard': crops, borders, padding, slight rotations (global hashes fail here)."""
    if variant == "crop_10":
        img = _crop(master, 0.10, 0.04, 0.02, 0.10)
    elif variant == "border":
        img = ImageOps.expand(master, border=60, fill=(255, 255, 255))
    elif variant == "pad_square":
        img = Image.new("RGB", (max(master.size),) * 2, (0, 0, 0))
        img.paste(master, ((img.width - master.width) // 2, 0))
    else:
        img = master.rotate(3, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    query = _fp_of(img, tmp_path)
    verdict = compare(master_fp, query)
    assert verdict.kind == "duplicate", verdict.scores
    # ...and the vectorised candidate search proposes the pair in both directions
    forward = CandidateIndex.from_fingerprints([(7, master_fp)]).candidates(query)
    backward = CandidateIndex.from_fingerprints([(8, query)]).candidates(master_fp)
    assert [k for k, _ in forward] == [7] and [k for k, _ in backward] == [8]


def test_exif_rotated_copy_is_duplicate(master, master_fp, tmp_path):
    """A copy stored sideways with EXIF Orientation 6 is displayed upright: same poster."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    master.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=90, exif=exif.tobytes())
    verdict = compare(master_fp, fingerprint_file(path))
    assert verdict.kind == "duplicate", verdict.scores


# ------------------------------------------------------------------ not duplicates

def test_template_siblings_are_similar_not_duplicate(tmp_path):
    """Same photo and layout, different text: flagged for an editor, never a duplicate."""
    photo = _photo(2)
    a = _fp_of(_text_band(photo, seed=1), tmp_path)
    b = _fp_of(_text_band(photo, seed=2), tmp_path)
    verdict = compare(a, b)
    assert verdict.kind == "similar", verdict.scores
    assert verdict.scores["changed_share"] > 0.1
    assert [k for k, _ in CandidateIndex.from_fingerprints([(3, a)]).candidates(b)] == [3]


def test_different_posters_do_not_match(master_fp, tmp_path):
    other = _fp_of(_text_band(_photo(3), seed=11), tmp_path)
    assert compare(master_fp, other).kind is None
    assert CandidateIndex.from_fingerprints([(1, master_fp)]).candidates(other) == []


def test_flat_white_and_flat_blue_are_not_duplicates(shared_dir):
    """PITFALLS #9: imagehash gives both the same pHash; they must not be merged."""
    gen = shared_dir / "corpus" / "generated"
    white = fingerprint_file(gen / "gen_hash_flat_white.png")
    blue = fingerprint_file(gen / "gen_hash_flat_blue.png")
    assert white.low_variance and blue.low_variance
    verdict = compare(white, blue)
    assert verdict.kind is None, verdict.scores


def test_near_blank_images_are_never_duplicates_on_hash_alone(tmp_path):
    a = _fp_of(Image.new("RGB", SIZE, (250, 250, 250)), tmp_path, "PNG")
    b = _fp_of(Image.new("RGB", SIZE, (251, 250, 250)), tmp_path, "JPEG")
    assert a.phash == b.phash
    assert compare(a, b).kind == "similar"  # for a human, not merged


def test_slivers_and_noise_never_match_anything():
    """A 2000x1 strip passes content-only intake; ORB cannot run on it and a content box of
    another aspect must not be stretched onto a poster."""
    rng = np.random.default_rng(1)
    images = [Image.new("RGB", (2000, 1), (200, 10, 10)),
              Image.fromarray(rng.integers(0, 255, (3, 2000, 3), dtype=np.uint8)),
              Image.fromarray(rng.integers(0, 255, (600, 400, 3), dtype=np.uint8)),
              make_poster((400, 566), seed=3)]
    fps = [fingerprint_image(img, str(i)) for i, img in enumerate(images)]
    for i, a in enumerate(fps):
        for j, b in enumerate(fps):
            assert compare(a, b).kind == ("exact" if i == j else None), (i, j)


def test_transparent_images_are_hashed_after_flattening(shared_dir):
    """PITFALLS #10: two fully transparent files look the same (white once flattened) but
    imagehash gives them different hashes; ours are taken on the flattened image."""
    gen = shared_dir / "corpus" / "generated"
    white = fingerprint_file(gen / "gen_hash_transparent_hidden_white.png")
    split = fingerprint_file(gen / "gen_hash_transparent_hidden_split.png")
    assert white.phash == split.phash
    assert white.content_phash == split.content_phash
    assert np.array_equal(white.thumb, split.thumb)
    assert compare(white, split).kind != "duplicate"  # near-blank: never merged automatically


# ------------------------------------------------------------------ serialisation, search

def test_fingerprint_round_trip(master_fp):
    data = master_fp.to_bytes()
    back = Fingerprint.from_bytes(data)
    assert back.algo_version == ALGO_VERSION
    for name in ("sha256", "phash", "content_phash", "low_variance", "content_box", "size",
                 "orb_size", "mean_rgb", "grey_std"):
        assert getattr(back, name) == pytest.approx(getattr(master_fp, name)), name
    assert np.array_equal(back.keypoints, master_fp.keypoints)
    assert np.array_equal(back.descriptors, master_fp.descriptors)
    assert np.array_equal(back.window_hashes, master_fp.window_hashes)
    assert np.array_equal(back.turn_hashes, master_fp.turn_hashes)
    assert np.array_equal(back.tile_hashes, master_fp.tile_hashes)
    assert back.tile_flat == master_fp.tile_flat
    assert np.abs(back.thumb.astype(int) - master_fp.thumb.astype(int)).mean() < 2  # JPEG q92
    assert compare(back, master_fp).kind == "exact"
    assert b"pickle" not in data and len(data) < 80_000


def test_from_bytes_rejects_garbage_and_other_versions(master_fp):
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(b"not a fingerprint")
    buf = io.BytesIO()
    with np.load(io.BytesIO(master_fp.to_bytes())) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["meta"] = np.frombuffer(arrays["meta"].tobytes().replace(
        ALGO_VERSION.encode(), b"old/0"), dtype=np.uint8)
    np.savez(buf, **arrays)
    with pytest.raises(ValueError, match="version"):
        Fingerprint.from_bytes(buf.getvalue())


def test_signed64_round_trip():
    for value in (0, 1, 2**63 - 1, 2**63, 2**64 - 1):
        signed = to_signed64(value)
        assert -(2**63) <= signed < 2**63
        assert from_signed64(signed) == value


def test_hash_index_matches_brute_force():
    rng = random.Random(4)
    hashes = [rng.getrandbits(64) for _ in range(3000)] + [2**64 - 1, 0]
    ids = list(range(100, 100 + len(hashes)))
    index = HashIndex(ids, hashes)
    for query in (hashes[7] ^ 0b1011, rng.getrandbits(64), 2**64 - 1):
        for radius in (0, 10, 24):
            expected = sorted(((i, (h ^ query).bit_count()) for i, h in zip(ids, hashes)
                               if (h ^ query).bit_count() <= radius), key=lambda t: (t[1], t[0]))
            assert index.query(query, radius) == expected


def test_candidate_index_add_and_rows(master_fp):
    index = CandidateIndex()
    assert index.candidates(master_fp) == []
    index.add([5], index_row(master_fp)[None])
    assert index.candidates(master_fp) == [(5, 0)]
    assert index.rows.shape == (1, INDEX_ROW_LEN) and index.rows[0, 0] == master_fp.phash
    with pytest.raises(ValueError):
        index.add([1, 2], index_row(master_fp)[None])


def test_find_matches_orders_and_drops_unrelated(master, master_fp, tmp_path):
    stored = {
        "copy": _fp_of(near_copy(master, 0.6), tmp_path),
        "sibling": _fp_of(_text_band(_photo(1), seed=99), tmp_path),
        "other": _fp_of(_text_band(_photo(5), seed=12), tmp_path),
        "same": master_fp,
    }
    query = Fingerprint.from_bytes(master_fp.to_bytes())
    found = find_matches(query, stored)
    assert [(k, v.kind) for k, v in found] == [("same", "exact"), ("copy", "duplicate"),
                                               ("sibling", "similar")]


def test_fingerprint_image_equals_file_path_for_png(master, tmp_path):
    """A PNG is decoded in full; fingerprint_image of the same pixels gives the same hashes."""
    path = tmp_path / "m.png"
    master.save(path, "PNG")
    from_file = fingerprint_file(path)
    direct = fingerprint_image(master, from_file.sha256)
    assert direct.phash == from_file.phash
    assert np.array_equal(direct.window_hashes, from_file.window_hashes)


# ------------------------------------------------------------------ CLI

def test_dedup_scan_prints_pairs_tab_separated(master, tmp_path, runner):
    folder = tmp_path / "mail"
    (folder / "sub").mkdir(parents=True)
    master.save(folder / "a.jpg", "JPEG", quality=90)
    shutil.copy(folder / "a.jpg", folder / "sub" / "a_again.bin")   # by content, any name
    near_copy(master, 0.5).save(folder / "b.png", "PNG")
    _text_band(_photo(1), seed=77).save(folder / "c.jpg", "JPEG", quality=90)
    _text_band(_photo(6), seed=3).save(folder / "d.jpg", "JPEG", quality=90)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "notes.txt").write_text("not an image")

    result = CliRunner().invoke(dedup_scan, [str(folder)])   # no app, no database
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = {(Path(p[0]).name, Path(p[1]).name): p[2:] for p in (ln.split("\t") for ln in lines)}
    assert {k: v[0] for k, v in rows.items()} == {
        ("a.jpg", "b.png"): "duplicate",
        ("a.jpg", "c.jpg"): "similar",
        ("a.jpg", "a_again.bin"): "exact",
        ("b.png", "c.jpg"): "similar",
        ("b.png", "a_again.bin"): "duplicate",
        ("c.jpg", "a_again.bin"): "similar",
    }
    for fields in rows.values():
        scores = dict(f.split("=", 1) for f in fields[1:])
        assert "phash_bits" in scores and all(float(v) >= 0 for v in scores.values())
    assert "broken.jpg" in result.stderr
    assert "notes.txt" not in result.stderr + result.stdout

    via_flask = runner.invoke(args=["dedup-scan", str(folder)])
    assert via_flask.exit_code == 0
    assert via_flask.stdout == result.stdout
