"""CLI commands for the dedup area (see contest/cli.py): dedup-scan."""

from __future__ import annotations

import os
from pathlib import Path

import click

# Content signatures (issue #3: "JPEG/PNG by content", not by file name).
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _is_jpeg_or_png(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return any(head.startswith(sig) for sig in _SIGNATURES)


def scan_folder(folder: Path):
    """Fingerprint every JPEG/PNG (by content) under `folder` (recursive, sorted paths).
    Returns (fingerprints: list[(Path, Fingerprint)], errors: list[(Path, str)])."""
    from contest.dedup.engine import fingerprint_file

    found, errors = [], []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if not _is_jpeg_or_png(path):
                continue
            try:
                found.append((path, fingerprint_file(path)))
            except Exception as exc:  # noqa: BLE001 - any undecodable file is reported, not fatal
                errors.append((path, f"{type(exc).__name__}: {exc}"))
    return found, errors


def scan_pairs(found):
    """Every matching pair among `found` ((Path, Fingerprint) list): list of
    (path_a, path_b, PairVerdict), path_a before path_b in scan order."""
    from contest.dedup.engine import CandidateIndex, compare

    index = CandidateIndex((i, fp) for i, (_, fp) in enumerate(found))
    out = []
    for i, (path_a, fp_a) in enumerate(found):
        for j in sorted(k for k in index.candidates(fp_a) if k > i):
            verdict = compare(fp_a, found[j][1])
            if verdict.kind is not None:
                out.append((path_a, found[j][0], verdict))
    return out


def _format_score(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value))


@click.command("dedup-scan")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def dedup_scan(folder: Path) -> None:
    """Print every pair of images in FOLDER (recursive; JPEG/PNG by content) classified exact,
    duplicate or similar: path A, path B, class, then scores as key=value, tab-separated.
    Unreadable images are reported on stderr. Needs no database."""
    found, errors = scan_folder(folder)
    for path, message in errors:
        click.echo(f"无法读取图片 {path}: {message}", err=True)
    for path_a, path_b, verdict in scan_pairs(found):
        scores = "\t".join(f"{k}={_format_score(v)}" for k, v in verdict.scores.items())
        click.echo(f"{path_a}\t{path_b}\t{verdict.kind}\t{scores}")
    click.echo(f"{len(found)} 张图片，{len(errors)} 个无法读取", err=True)


commands: list = [dedup_scan]
