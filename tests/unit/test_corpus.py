"""Walk `../shared/corpus/manifest.tsv` through the validator and the normaliser: every
file gets its `content` verdict with the width and size rules off, and its `full` verdict
under the notice's defaults (`a|b`: either; `*`: anything clear). Accepted files must
normalise to metadata-free RGB JPEGs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from contest.errors import InvalidImage
from contest.imaging import IntakeRules, check_image, load_normalised, save_jpeg
from contest.messages import message_for
from tests.corpus_cases import REASONS, expected_verdicts, metadata_problems

CAP = 100_000_000  # config MAX_IMAGE_PIXELS default
SHARED = Path(__file__).resolve().parents[3] / "shared"
CASES = expected_verdicts(SHARED) if (SHARED / "corpus").is_dir() else []
RULES = {"content": IntakeRules.content_only(CAP), "full": IntakeRules.notice_defaults(CAP)}


def judge(path: Path, rules: IntakeRules):  # noqa: ANN201
    """('ok', normalised image) or (reason, InvalidImage); anything else raised is a crash."""
    try:
        check_image(path, rules)
        return "ok", load_normalised(path)
    except InvalidImage as err:
        return err.reason, err


def test_manifest_is_complete(shared_dir):
    cases = expected_verdicts(shared_dir)
    assert len(cases) == len(CASES) >= 98
    assert all(c.path.is_file() for c in cases)


@pytest.mark.parametrize("mode", ["content", "full"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rel)
def test_corpus_verdict(case, mode):
    got, result = judge(case.path, RULES[mode])
    assert case.allows(mode, got), f"{case.rel} ({case.what_it_is}): {mode} gave {got}"
    if got == "ok":
        assert result.mode == "RGB" and result.info == {}
        if mode == "content":  # the derived JPEG carries no byte of metadata
            out = io.BytesIO()
            save_jpeg(result, out, long_edge_px=1600)
            assert metadata_problems(out.getvalue()) == []
    else:
        assert got in REASONS
        text = message_for(result)
        assert text and "操作失败" not in text  # a specific Chinese message, not the fallback
