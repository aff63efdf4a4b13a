"""CLI commands for the dedup area (see contest/cli.py): dedup-scan; import-reference
(往届作品库) and dedup-rehash (database side)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext

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

    index = CandidateIndex.from_fingerprints((i, fp) for i, (_, fp) in enumerate(found))
    by_sha: dict[str, list[int]] = {}
    for i, (_, fp) in enumerate(found):
        by_sha.setdefault(fp.sha256, []).append(i)
    out = []
    for i, (path_a, fp_a) in enumerate(found):
        proposed = {k for k, _ in index.candidates(fp_a)} | set(by_sha[fp_a.sha256])
        for j in sorted(k for k in proposed if k > i):
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


# --- reference library and fingerprint maintenance (database side) ---------------------------

def _all_files(folder: Path) -> list[Path]:
    """Every regular file under `folder` (recursively, sorted; hidden files and folders
    skipped). Whether a file is a JPEG/PNG is decided by its content, not its name."""
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(folder).parts))


@click.command("import-reference")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--label", required=True,
              help='Label of the reference images, e.g. "2023 获奖作品" (at most 100 characters).')
@with_appcontext
def import_reference_command(folder: Path, label: str) -> None:
    """Add every JPEG/PNG in FOLDER to the reference library (往届作品库) under LABEL.

    Files are checked by content like intake (format, integrity, one frame, pixel cap;
    width and size rules off). Bytes already in the library are skipped, so re-running the
    import is a no-op. One line per file (tab-separated: path, added | exists | refused,
    detail), then a summary. Each file is committed on its own.
    """
    from flask import current_app

    from contest import db
    from contest.dedup import service
    from contest.messages import message_for
    from contest.storage import get_storage

    if not " ".join(label.split()):
        raise click.UsageError("--label must not be empty")
    storage = get_storage()
    cfg = current_app.config
    counts = {"added": 0, "exists": 0, "refused": 0}
    session = db.new_session()
    try:
        for path in _all_files(folder):
            try:
                result = service.add_reference(
                    session, path, label=label, original_filename=path.name, storage=storage,
                    max_pixels=int(cfg["MAX_IMAGE_PIXELS"]),
                    preview_long_edge_px=int(cfg["PREVIEW_LONG_EDGE_PX"]),
                    thumb_long_edge_px=int(cfg["THUMB_LONG_EDGE_PX"]))
                session.commit()
            except BaseException:
                session.rollback()
                raise
            counts[result.status] += 1
            if result.status == "refused":
                detail = message_for(result.error)
            elif result.status == "exists":
                detail = f"已在往届作品库中（{result.reference.label}）"
            else:
                ref = result.reference
                detail = f"{ref.width_px}×{ref.height_px}像素"
            click.echo(f"{path}\t{result.status}\t{detail}")
    finally:
        session.close()
    click.echo(f"往届作品库「{' '.join(label.split())}」：新增 {counts['added']} 张，"
               f"已存在 {counts['exists']} 张，未导入 {counts['refused']} 个文件")


@click.command("dedup-rehash")
@click.option("--force", is_flag=True, help="Recompute every fingerprint, not only those of "
                                            "another algorithm version.")
@click.option("--rescan/--no-rescan", default=True, show_default=True,
              help="Afterwards search again for every entry of every contest and bring the "
                   "open duplicate flags up to date (decided pairs are never re-opened).")
@with_appcontext
def dedup_rehash_command(force: bool, rescan: bool) -> None:
    """Recompute duplicate-detection fingerprints whose algorithm version differs from the
    engine's (`--force`: all), add missing ones for stored originals and reference images,
    then (by default) rescan. Prints counts; exit status 1 if a stored file could not be
    read."""
    from sqlalchemy import select

    from contest import db, imaging
    from contest.dedup import service
    from contest.models import Contest
    from contest.storage import get_storage

    storage = get_storage()
    session = db.new_session()
    try:
        summary = service.rehash(session,
                                 lambda key: imaging.load_normalised(storage.path(key)),
                                 force=force)
        session.commit()
        click.echo(f"指纹：重新计算 {summary.recomputed} 个，补算 {summary.added} 个"
                   f"（算法版本 {service.dedup_engine.ALGO_VERSION}）")
        for key in summary.failed:
            click.echo(f"无法读取：{key}", err=True)
        if rescan:
            for contest in session.scalars(select(Contest).order_by(Contest.id)).all():
                result = service.rescan_contest(session, contest.id)
                session.commit()
                click.echo(f"{contest.name}：检查 {result.entries} 件作品，新增标记 "
                           f"{result.added}，更新 {result.updated}，移除 {result.removed}")
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if summary.failed:
        raise SystemExit(1)


commands: list = [dedup_scan, import_reference_command, dedup_rehash_command]
