"""`flask --app contest validate PATH...`: one tab-separated line per file (path, ok |
rejected, reason, Chinese message), exit 0 only when all are ok; rules from the newest
contest, else the notice's defaults, or content-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from contest import create_app
from contest.models import MIB
from tests.conftest import make_test_config
from tests.corpus_cases import REASONS, expected_verdicts
from tests.factories import make_contest, make_poster, poster_bytes


def run_validate(runner, *args: str | Path) -> tuple[int, dict[str, list[str]]]:  # noqa: ANN001
    result = runner.invoke(args=["validate", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = {}
    for line in result.output.splitlines():
        cols = line.split("\t")
        assert len(cols) == 4, line
        lines[cols[0]] = cols[1:]
    return result.exit_code, lines


@pytest.mark.parametrize(("mode", "flags"), [("content", ["--content-only"]), ("full", [])])
def test_validate_walks_the_corpus(runner, shared_dir, mode, flags):
    cases = expected_verdicts(shared_dir)
    code, lines = run_validate(runner, *flags, *(c.path for c in cases))
    assert code == 1  # the corpus holds refused files
    assert len(lines) == len(cases)
    wrong = []
    for case in cases:
        status, reason, message = lines[str(case.path)]
        got = "ok" if status == "ok" else reason
        assert status in ("ok", "rejected") and (reason == "") == (status == "ok")
        assert message  # Chinese for both: "符合要求（…）" or the rule broken
        if status == "rejected":
            assert reason in REASONS
        if not case.allows(mode, got):
            wrong.append(f"{case.rel}: {got} (expected {sorted(case.expected(mode) or '*')})")
    assert wrong == []


def test_all_ok_exits_zero(runner, shared_dir):
    a4 = shared_dir / "corpus/generated/gen_a4_orient6_exif_xmp_iptc_gps_3MiB.jpg"
    code, lines = run_validate(runner, a4)
    assert code == 0
    assert lines[str(a4)] == ["ok", "", "符合要求（JPG，2480×3508像素，3MB）"]


def test_rejection_line_names_rule_and_value(runner, shared_dir):
    narrow = shared_dir / "corpus/generated/gen_width_1999.jpg"
    webp = shared_dir / "corpus/renamed_webp_as.jpg"
    code, lines = run_validate(runner, "--content-only", narrow, webp)
    assert code == 1
    assert lines[str(narrow)][0] == "ok"
    assert lines[str(webp)] == ["rejected", "format",
                                "图片格式仅支持 JPG、PNG（当前文件实际为 WebP 格式）"]


def test_uses_newest_contest_rules(runner, session, tmp_path):
    """A contest that switches the size rules off and asks for 2400 px decides the verdict."""
    make_contest(session, year=2023)
    newest = make_contest(session, year=2024, min_width_px=2400)
    # set after the INSERT: the ORM applies the column default to a None given at creation
    newest.min_size_bytes = newest.max_size_bytes = None
    session.commit()
    path = tmp_path / "poster.jpg"
    path.write_bytes(poster_bytes(make_poster((2200, 3000), seed=1), quality=80))
    code, lines = run_validate(runner, path)
    assert code == 1
    assert lines[str(path)] == ["rejected", "width", "图片宽度不低于2400像素（当前：2200像素）"]


def test_defaults_without_a_contest(runner, tmp_path):
    path = tmp_path / "small.jpg"
    path.write_bytes(poster_bytes(make_poster((2480, 3508), seed=2), quality=60))
    code, lines = run_validate(runner, path)
    assert code == 1
    assert lines[str(path)][:2] == ["rejected", "size_small"]


def test_works_without_an_initialised_database(tmp_path, shared_dir):
    """No tables at all (fresh SQLite file): the notice's defaults apply."""
    app = create_app(make_test_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}"))
    big = tmp_path / "big.jpg"
    big.write_bytes(poster_bytes(make_poster((2480, 3508), seed=3), quality=80,
                                 min_bytes=10 * MIB + 1))
    ok = shared_dir / "corpus/generated/gen_a4_orient6_exif_xmp_iptc_gps_3MiB.jpg"
    code, lines = run_validate(app.test_cli_runner(), big, ok)
    assert code == 1
    assert lines[str(big)][:2] == ["rejected", "size_large"]
    assert lines[str(ok)][0] == "ok"


def test_folder_argument_is_walked(runner, tmp_path):
    folder = tmp_path / "投稿"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"not an image")
    (folder / "sub" / "海报.jpg").write_bytes(poster_bytes(make_poster((300, 200))))
    code, lines = run_validate(runner, "--content-only", folder)
    assert code == 1
    assert lines[str(folder / "a.png")][:2] == ["rejected", "format"]
    assert lines[str(folder / "sub" / "海报.jpg")][0] == "ok"


def test_missing_path_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["validate", str(tmp_path / "nope.jpg")])
    assert result.exit_code == 2
