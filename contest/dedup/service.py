"""Duplicate detection in the database: fingerprints of stored images, the search over every
stored fingerprint, the submission policy, flags for editors and their decisions.

The algorithm (fingerprints, the vectorised hash index, pair verification) lives in
`contest.dedup.engine`; this module decides *which* stored images a new one is compared
with and what follows from each verdict (issue #3, points 1-6).

Scope of a search, for a new image of entry E (contest C, unit U, track T):
- every stored fingerprint of the database in one `HashIndex` query (all tracks, all units,
  all contests), plus the rows with the same SHA-256 (an `exact` match is never missed);
- then only counterparts that are still an entry's image: the *current* original of an
  entry other than E (E's own earlier images never count, so replacing an image with a
  near-copy of itself is allowed), not withdrawn; and every reference-library image.
  Entries of *other* contests count only if they were submitted (or disqualified): past
  years' entries are a reference library of their own.

Policy (issue #3, point 4), applied by `check_new_image` before anything is written:
- `exact` or `duplicate` of an entry of the same unit in the same track → refused
  (`DuplicateRefused(same_track=True)`, offering "替换图片");
- `exact` or `duplicate` of the same unit's entry in the other track → refused
  (`same_track=False`: one poster enters one week);
- drafts: the unit's own drafts count for both rows above (the entrant is told about the
  draft, so two drafts of one poster cannot both be submitted later);
- anything else (any class against another unit's entry, a reference image, an entry of an
  earlier contest, or `similar` within the unit) → accepted, and a `DuplicateFlag` is
  recorded for the editors. The entrant is told nothing.
Flags are recorded whatever the status of either entry (a draft may be submitted later);
the editors' queue shows a flag only once every entry in it is submitted or disqualified,
so drafts and withdrawn entries never reach editors. Decided flags are never reopened.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.dedup import engine as dedup_engine
from contest.errors import ContestError, DuplicateRefused, InvalidImage
from contest.models import (DEDUP_KIND_ORDER, Contest, DedupKind, DuplicateFlag, Entry,
                            EntryFile, EntryStatus, FileKind, FlagStatus, ImageFingerprint,
                            ReferenceImage, User, log_event)
from contest.timeutil import utcnow

log = logging.getLogger(__name__)

# Entries an editor can act on; flags touching any other status stay hidden.
VISIBLE_STATUSES = (EntryStatus.submitted, EntryStatus.disqualified)
REFUSED_KINDS = (DedupKind.exact, DedupKind.duplicate)


# ------------------------------------------------------------------------ fingerprints

def phash_hex(phash: int) -> str:
    """An unsigned 64-bit hash as 16 lowercase hex characters (what the database stores)."""
    return f"{int(phash) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def phash_array(hexes: Iterable[str]) -> np.ndarray:
    """Hex texts of 64-bit hashes → `np.uint64` array, vectorised (no per-row int())."""
    joined = "".join(hexes)
    if not joined:
        return np.empty(0, dtype=np.uint64)
    return np.frombuffer(bytes.fromhex(joined), dtype=">u8").astype(np.uint64)


def fingerprint_row(fp: dedup_engine.Fingerprint, *, entry_file: EntryFile | None = None,
                    reference_image: ReferenceImage | None = None) -> ImageFingerprint:
    """An unsaved `ImageFingerprint` for `fp`, owned by exactly one of `entry_file` /
    `reference_image`."""
    return ImageFingerprint(entry_file=entry_file, reference_image=reference_image,
                            sha256=fp.sha256, phash=phash_hex(fp.phash),
                            content_phash=phash_hex(fp.content_phash),
                            index_hashes=index_hashes_bytes(fp),
                            algo_version=dedup_engine.ALGO_VERSION, features=fp.to_bytes(),
                            low_variance=bool(fp.low_variance))


def fingerprint_image(image: Image.Image, sha256: str) -> dedup_engine.Fingerprint:
    """The engine fingerprint of a normalised RGB `image` (`imaging.load_normalised`: the
    decode path every stored image takes, so hashes of stored and new images agree)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    return dedup_engine.fingerprint_image(image, sha256)


# ------------------------------------------------------------------------ search index

@dataclass
class _IndexState:
    """The in-process search index of one database: `engine.CandidateIndex` segments over
    every fingerprint of the current algorithm version (id + `index_hashes`).

    `key` = (row count, max id, newest created_at) of those rows when the index was read.
    Rows are only ever inserted or deleted, never updated (rehash replaces rows), so new
    rows raise max id and a deletion lowers the count. New rows are read alone and appended
    as a small segment (no O(n) copy per submission); anything else, or more than
    MAX_SEGMENTS segments, rebuilds one segment. `created_at` also catches SQLite reusing
    the id of a rolled-back row (a refused upload)."""

    key: tuple[int, int, Any] | None = None
    segments: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rebuilds: int = 0
    appends: int = 0

    @property
    def ids(self) -> np.ndarray:
        """Every indexed fingerprint id, in index order."""
        if not self.segments:
            return np.empty(0, dtype=np.int64)
        return np.concatenate([seg.ids for seg in self.segments])

    @property
    def phashes(self) -> np.ndarray:
        """The whole-image pHash of every indexed row (uint64), in index order."""
        if not self.segments:
            return np.empty(0, dtype=np.uint64)
        return np.concatenate([seg.rows[:, 0] for seg in self.segments])


MAX_SEGMENTS = 16
_INDEXES: weakref.WeakKeyDictionary[Engine, _IndexState] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def index_hashes_bytes(fp: Any) -> bytes:
    """`engine.index_row(fp)` as little-endian bytes for `ImageFingerprint.index_hashes`."""
    return np.ascontiguousarray(dedup_engine.index_row(fp), dtype="<u8").tobytes()


def _state_for(session: Session) -> _IndexState:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _INDEXES_LOCK:
        state = _INDEXES.get(engine)
        if state is None:
            state = _INDEXES[engine] = _IndexState()
        return state


def _segment(rows: list[Any]) -> Any:
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    hashes = np.frombuffer(b"".join(r[1] for r in rows), dtype="<u8").astype(np.uint64)
    return dedup_engine.CandidateIndex(ids, hashes.reshape(len(rows), -1))


def hash_index(session: Session) -> _IndexState:
    """The search index over every stored fingerprint of the engine's algorithm version
    visible to `session`, brought up to date with one aggregate query (count, max id,
    newest created_at); new rows are read incrementally, anything else rebuilds.
    Thread-safe; one index per database engine."""
    state = _state_for(session)
    current = ImageFingerprint.algo_version == dedup_engine.ALGO_VERSION
    key = tuple(session.execute(select(func.count(ImageFingerprint.id),
                                       func.max(ImageFingerprint.id),
                                       func.max(ImageFingerprint.created_at))
                                .where(current)).one())
    key = (int(key[0]), int(key[1] or 0), key[2])
    columns = (ImageFingerprint.id, ImageFingerprint.index_hashes)
    with state.lock:
        if state.key == key:
            return state
        if (state.key is not None and key[1] > state.key[1]
                and len(state.segments) < MAX_SEGMENTS):
            rows = session.execute(select(*columns).where(current,
                                                          ImageFingerprint.id > state.key[1])
                                   .order_by(ImageFingerprint.id)).all()
            if state.key[0] + len(rows) == key[0]:
                state.segments.append(_segment(rows))
                state.key = key
                state.appends += 1
                return state
        rows = session.execute(select(*columns).where(current)
                               .order_by(ImageFingerprint.id)).all()
        state.segments = [_segment(rows)] if rows else []
        state.key = key
        state.rebuilds += 1
        return state


def candidates(state: _IndexState, fp: Any) -> dict[int, int]:
    """{fingerprint id: candidate distance in bits} of every indexed fingerprint the
    engine's `CandidateIndex` proposes for `fp` (global hashes, crop windows, rotations:
    vectorised XOR + popcount over all rows, no Python loop over rows)."""
    found: dict[int, int] = {}
    for seg in state.segments:
        for fid, bits in seg.candidates(fp):
            found[int(fid)] = min(int(bits), found.get(int(fid), 99))
    return found


def reset_index_cache() -> None:
    """Forget every in-process index (tests, benchmarks)."""
    with _INDEXES_LOCK:
        _INDEXES.clear()


# ------------------------------------------------------------------------ matching

@dataclass(frozen=True)
class Match:
    """A stored image the engine called `exact`, `duplicate` or `similar` against a new one.

    Exactly one side is set: an entry (`entry`, its current original `entry_file`) or a
    `reference_image`. `distance_bits`: pHash Hamming distance 0-64; `scores`: the engine's
    named scores (floats)."""

    kind: DedupKind
    scores: dict[str, float]
    distance_bits: int
    fingerprint_id: int
    entry: Entry | None = None
    entry_file: EntryFile | None = None
    reference_image: ReferenceImage | None = None

    @property
    def severity(self) -> int:
        return DEDUP_KIND_ORDER[self.kind]


def find_matches(session: Session, fp: dedup_engine.Fingerprint, *, contest_id: int,
                 exclude_entry_id: int | None = None,
                 accept: Callable[[Entry], bool] | None = None,
                 verdicts: dict[tuple[int, Any], Any] | None = None) -> list[Match]:
    """Every stored image that `fp` matches, strongest first (exact, duplicate, similar;
    then by pHash distance).

    Candidates: what the engine's `CandidateIndex` proposes among all stored fingerprints
    (`candidates`: one vectorised pass) plus the rows with the same SHA-256; then only
    counterparts in scope (module docstring): the current original of another, non-
    withdrawn entry (`exclude_entry_id`: the entry whose image this is), entries of
    another contest than `contest_id` only when submitted or disqualified, every reference
    image. `accept(entry)`: an extra filter on entry counterparts. Each candidate is then
    verified with `engine.compare`; pairs it calls nothing are dropped. `verdicts`: a cache
    {(fingerprint id, created_at): PairVerdict} read and filled (see `precompute`).
    """
    hits = candidates(hash_index(session), fp)
    same_bytes = session.scalars(select(ImageFingerprint.id)
                                 .where(ImageFingerprint.sha256 == fp.sha256)).all()
    for fid in same_bytes:
        hits.setdefault(int(fid), 0)
    if not hits:
        return []
    ids = [int(i) for i in hits]
    rows: list[tuple[ImageFingerprint, EntryFile | None, Entry | None, ReferenceImage | None]]
    rows = []
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start:chunk_start + 500]
        rows += session.execute(
            select(ImageFingerprint, EntryFile, Entry, ReferenceImage)
            .outerjoin(EntryFile, EntryFile.id == ImageFingerprint.entry_file_id)
            .outerjoin(Entry, Entry.id == EntryFile.entry_id)
            .outerjoin(ReferenceImage, ReferenceImage.id == ImageFingerprint.reference_image_id)
            .where(ImageFingerprint.id.in_(chunk))).all()
    matches: list[Match] = []
    for row_fp, entry_file, entry, reference in rows:
        if reference is None:
            if entry is None or entry_file is None or not entry_file.is_current:
                continue
            if entry_file.kind != FileKind.original or entry.id == exclude_entry_id:
                continue
            if entry.status == EntryStatus.withdrawn:
                continue
            if entry.contest_id != contest_id and entry.status not in VISIBLE_STATUSES:
                continue
            if accept is not None and not accept(entry):
                continue
        cache_key = (row_fp.id, row_fp.created_at)
        verdict = verdicts.get(cache_key) if verdicts is not None else None
        if verdict is None:
            try:
                stored = dedup_engine.Fingerprint.from_bytes(row_fp.features)
            except Exception:  # noqa: BLE001 - an unreadable row must not block submissions
                log.exception("unreadable fingerprint %s (algo %s); run dedup-rehash",
                              row_fp.id, row_fp.algo_version)
                continue
            verdict = dedup_engine.compare(fp, stored)
            if verdicts is not None:
                verdicts[cache_key] = verdict
        if verdict.kind is None:
            continue
        distance = _distance(fp.phash, int(row_fp.phash, 16))
        matches.append(Match(kind=DedupKind(verdict.kind),
                             scores={k: round(float(v), 4) for k, v in verdict.scores.items()},
                             distance_bits=distance, fingerprint_id=row_fp.id,
                             entry=entry if reference is None else None,
                             entry_file=entry_file if reference is None else None,
                             reference_image=reference))
    matches.sort(key=lambda m: (m.severity, m.distance_bits, m.fingerprint_id))
    return matches


def _distance(a: int, b: int) -> int:
    return int((int(a) ^ int(b)).bit_count())


# ------------------------------------------------------------------------ policy

def refusal_for(entry: Entry, matches: Iterable[Match]) -> DuplicateRefused | None:
    """The submission policy (issue #3, point 4) for a new image of `entry` given its
    `matches`: a `DuplicateRefused` for the strongest `exact`/`duplicate` match against an
    entry of the same unit in the same contest (same track first, then the other track),
    else None. Params: entry_code (None for a draft), entry_title, is_draft, same_track,
    kind."""
    own = [m for m in matches
           if m.entry is not None and m.kind in REFUSED_KINDS
           and m.entry.unit_id == entry.unit_id and m.entry.contest_id == entry.contest_id]
    if not own:
        return None
    own.sort(key=lambda m: (m.entry.track_id != entry.track_id, m.severity,
                            m.entry.status == EntryStatus.draft, m.distance_bits))
    other = own[0].entry
    return DuplicateRefused(entry_code=other.code, entry_title=other.title,
                            is_draft=other.status == EntryStatus.draft,
                            same_track=other.track_id == entry.track_id,
                            kind=str(own[0].kind), entry_id=other.id)


@dataclass
class _Precomputed:
    sha256: str
    fp: Any
    verdicts: dict[tuple[int, Any], Any] = field(default_factory=dict)


# Work done for an image before the write transaction, found again by the image object
# (PIL images are unhashable: keyed by id(), checked by a weak reference, dropped when the
# image is garbage-collected).
_PRECOMPUTED: dict[int, tuple[weakref.ref, _Precomputed]] = {}
_PRECOMPUTED_LOCK = threading.Lock()


def precompute(image: Image.Image, sha256: str, *, session: Session | None = None,
               entry: Entry | None = None) -> None:
    """Do the slow part of `check_new_image` early, before the caller opens its write
    transaction (PITFALLS.md #13: on SQLite the hook otherwise fingerprints and verifies
    candidates while holding the single write lock): fingerprint `image` (normalised RGB;
    `sha256` of the original bytes) and, with `session` (read only) and `entry`, verify
    every candidate. `check_new_image` on the same image object then reuses both and only
    verifies rows stored in between. Optional: the hook works without it."""
    pre = _Precomputed(sha256=sha256, fp=fingerprint_image(image, sha256))
    if session is not None and entry is not None:
        find_matches(session, pre.fp, contest_id=entry.contest_id, exclude_entry_id=entry.id,
                     verdicts=pre.verdicts)
    key = id(image)
    with _PRECOMPUTED_LOCK:
        _PRECOMPUTED[key] = (weakref.ref(image), pre)
    weakref.finalize(image, _forget_precomputed, key, pre)


def _forget_precomputed(key: int, pre: _Precomputed) -> None:
    with _PRECOMPUTED_LOCK:
        held = _PRECOMPUTED.get(key)
        if held is not None and held[1] is pre:
            del _PRECOMPUTED[key]


def _take_precomputed(image: Image.Image, sha256: str) -> _Precomputed:
    with _PRECOMPUTED_LOCK:
        held = _PRECOMPUTED.get(id(image))
    if held is not None and held[0]() is image and held[1].sha256 == sha256:
        return held[1]
    return _Precomputed(sha256=sha256, fp=fingerprint_image(image, sha256))


def check_new_image(session: Session, entry: Entry, entry_file: EntryFile,
                    image: Image.Image) -> list[Match]:
    """The `image_stored` hook's work: fingerprint the normalised `image` of the flushed
    original `entry_file` of `entry`, apply the submission policy, store the fingerprint and
    bring the entry's open flags up to date. Flushes; never commits. Reuses what
    `precompute` did for the same image object, if anything.

    Returns the matches that were flagged (empty for a clean image).
    Raises `DuplicateRefused` (policy) before writing anything; the caller rolls back.
    """
    pre = _take_precomputed(image, entry_file.sha256)
    fp = pre.fp
    matches = find_matches(session, fp, contest_id=entry.contest_id, exclude_entry_id=entry.id,
                           verdicts=pre.verdicts)
    refusal = refusal_for(entry, matches)
    if refusal is not None:
        raise refusal
    session.add(fingerprint_row(fp, entry_file=entry_file))
    session.flush()
    sync_flags(session, entry, entry_file, matches)
    return matches


def check_entry_submission(session: Session, entry: Entry) -> None:
    """The submission policy again when `entry` is submitted (or a withdrawn entry is
    submitted again): its current image against the unit's other entries as they are now.
    A withdrawn entry did not count while another entry of the unit took its poster, so
    submitting it again must be refused. Uses the stored fingerprint; does nothing for an
    entry without a current, fingerprinted original. Reads only.

    Raises `DuplicateRefused` (params as `refusal_for`).
    """
    original = entry.current_file(FileKind.original)
    if original is None:
        return
    row = session.scalar(select(ImageFingerprint)
                         .where(ImageFingerprint.entry_file_id == original.id))
    if row is None or row.algo_version != dedup_engine.ALGO_VERSION:
        return
    fp = dedup_engine.Fingerprint.from_bytes(row.features)
    same_unit = entry.unit_id
    matches = find_matches(session, fp, contest_id=entry.contest_id, exclude_entry_id=entry.id,
                           accept=lambda other: other.unit_id == same_unit)
    refusal = refusal_for(entry, matches)
    if refusal is not None:
        raise refusal


# ------------------------------------------------------------------------ flags

def _pair(entry_id: int, other_id: int) -> tuple[int, int]:
    return (entry_id, other_id) if entry_id < other_id else (other_id, entry_id)


def sync_flags(session: Session, entry: Entry, entry_file: EntryFile, matches: list[Match], *,
               only_older: bool = False) -> tuple[int, int, int]:
    """Make `entry`'s open flags say what `matches` (of its current original `entry_file`)
    say: update or add one flag per matched entry / reference image and delete open flags
    of `entry` that no longer match. Decided flags are never touched or re-created.
    `only_older`: consider only counterpart entries with a lower id (a rescan replays
    entries in id order, so each pair is judged once). Returns (added, updated, removed).
    """
    existing = session.scalars(select(DuplicateFlag).where(
        or_(DuplicateFlag.entry_a_id == entry.id, DuplicateFlag.entry_b_id == entry.id))).all()
    by_counterpart: dict[tuple[str, int], DuplicateFlag] = {}
    for flag in existing:
        if flag.reference_image_id is not None:
            by_counterpart[("r", flag.reference_image_id)] = flag
        else:
            other = flag.entry_b_id if flag.entry_a_id == entry.id else flag.entry_a_id
            by_counterpart[("e", other)] = flag
    added = updated = 0
    seen: set[tuple[str, int]] = set()
    for m in matches:
        if m.entry is not None and only_older and m.entry.id > entry.id:
            continue
        key = ("r", m.reference_image.id) if m.reference_image is not None else ("e", m.entry.id)
        if key in seen:
            continue
        seen.add(key)
        flag = by_counterpart.get(key)
        if flag is not None and flag.status != FlagStatus.open:
            continue  # decided pairs never come back
        if m.reference_image is not None:
            a_id, b_id, file_a, file_b = entry.id, None, entry_file.id, None
        else:
            a_id, b_id = _pair(entry.id, m.entry.id)
            file_a, file_b = ((entry_file.id, m.entry_file.id) if a_id == entry.id
                              else (m.entry_file.id, entry_file.id))
        # the engine scored (new image, stored image); the flag's A is the lower entry id
        scores = m.scores if a_id == entry.id else _swap_sides(m.scores)
        values = dict(kind=m.kind, scores=scores, distance_bits=m.distance_bits,
                      file_a_id=file_a, file_b_id=file_b)
        if flag is not None:
            for name, value in values.items():
                setattr(flag, name, value)
            updated += 1
            continue
        added += _insert_flag(session, contest_id=entry.contest_id, entry_a_id=a_id,
                              entry_b_id=b_id, reference_image_id=m.reference_image.id
                              if m.reference_image else None, **values)
    removed = 0
    for key, flag in by_counterpart.items():
        if key in seen or flag.status != FlagStatus.open:
            continue
        if only_older and key[0] == "e" and key[1] > entry.id:
            continue
        session.delete(flag)
        removed += 1
    session.flush()
    return added, updated, removed


# engine scores that describe one side of the pair (contest/dedup/verify.py)
_SIDED_SCORES = (("cover_a", "cover_b"),)


def _swap_sides(scores: dict[str, float]) -> dict[str, float]:
    """`scores` of compare(x, y) as if computed as compare(y, x)."""
    out = dict(scores)
    for left, right in _SIDED_SCORES:
        if left in scores or right in scores:
            out[left], out[right] = scores.get(right), scores.get(left)
            if out[left] is None:
                del out[left]
            if out[right] is None:
                del out[right]
    return out


def _insert_flag(session: Session, **values: Any) -> int:
    """Add an open flag in a savepoint; 0 if a concurrent transaction added the same pair
    first (the unique constraint), else 1."""
    try:
        with session.begin_nested():
            session.add(DuplicateFlag(status=FlagStatus.open, **values))
    except IntegrityError:
        return 0
    return 1


def flag_reference_matches(session: Session, reference: ReferenceImage,
                           fp: dedup_engine.Fingerprint) -> int:
    """Flag the stored entries that match a newly added reference image: the current
    original of every non-withdrawn entry of a contest that is not archived (drafts too;
    the queue shows them once submitted). Verified like a new entry image against the
    library (`compare(entry, reference)`). Decided pairs stay as they are. Returns the
    number of flags added. Flushes."""
    hits = candidates(hash_index(session), fp)
    for fid in session.scalars(select(ImageFingerprint.id)
                               .where(ImageFingerprint.sha256 == fp.sha256)):
        hits.setdefault(int(fid), 0)
    if not hits:
        return 0
    ids = list(hits)
    rows = []
    for start in range(0, len(ids), 500):
        rows += session.execute(
            select(ImageFingerprint, EntryFile, Entry)
            .join(EntryFile, EntryFile.id == ImageFingerprint.entry_file_id)
            .join(Entry, Entry.id == EntryFile.entry_id)
            .join(Contest, Contest.id == Entry.contest_id)
            .where(ImageFingerprint.id.in_(ids[start:start + 500]),
                   EntryFile.is_current.is_(True), EntryFile.kind == FileKind.original,
                   Entry.status != EntryStatus.withdrawn, Contest.is_archived.is_(False))
        ).all()
    added = 0
    for row_fp, entry_file, entry in rows:
        try:
            stored = dedup_engine.Fingerprint.from_bytes(row_fp.features)
        except ValueError:
            continue
        verdict = dedup_engine.compare(stored, fp)
        if verdict.kind is None:
            continue
        values = dict(kind=DedupKind(verdict.kind),
                      scores={k: round(float(v), 4) for k, v in verdict.scores.items()},
                      distance_bits=_distance(stored.phash, fp.phash),
                      file_a_id=entry_file.id, file_b_id=None)
        flag = session.scalar(select(DuplicateFlag).where(
            DuplicateFlag.entry_a_id == entry.id,
            DuplicateFlag.reference_image_id == reference.id))
        if flag is not None:
            if flag.status == FlagStatus.open:
                for name, value in values.items():
                    setattr(flag, name, value)
            continue
        added += _insert_flag(session, contest_id=entry.contest_id, entry_a_id=entry.id,
                              entry_b_id=None, reference_image_id=reference.id, **values)
    session.flush()
    return added


# ------------------------------------------------------------------------ editors' queue

@dataclass
class Cluster:
    """A connected component of open, visible flags: the entries and reference images
    linked by them and the flags themselves (strongest first)."""

    flags: list[DuplicateFlag]
    entries: list[Entry]
    references: list[ReferenceImage]

    @property
    def kind(self) -> DedupKind:
        """The strongest class among the cluster's flags."""
        return min((f.kind for f in self.flags), key=lambda k: DEDUP_KIND_ORDER[DedupKind(k)])

    @property
    def size(self) -> int:
        return len(self.entries) + len(self.references)


def visible(flag: DuplicateFlag) -> bool:
    """Whether editors see `flag`: every entry in it is submitted or disqualified."""
    if flag.entry_a.status not in VISIBLE_STATUSES:
        return False
    return flag.entry_b is None or flag.entry_b.status in VISIBLE_STATUSES


def open_flags(session: Session, contest_id: int) -> list[DuplicateFlag]:
    """The open flags of `contest_id` editors can see (both entries submitted or
    disqualified), strongest first, then by pHash distance."""
    flags = session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.contest_id == contest_id,
        DuplicateFlag.status == FlagStatus.open)).all()
    flags = [f for f in flags if visible(f)]
    flags.sort(key=_flag_order)
    return flags


def decided_flags(session: Session, contest_id: int, limit: int = 200) -> list[DuplicateFlag]:
    """The most recently decided flags of `contest_id`, newest first."""
    return list(session.scalars(select(DuplicateFlag).where(
        DuplicateFlag.contest_id == contest_id, DuplicateFlag.status != FlagStatus.open)
        .order_by(DuplicateFlag.decided_at.desc(), DuplicateFlag.id.desc()).limit(limit)))


def _flag_order(flag: DuplicateFlag) -> tuple[int, int, int]:
    return (DEDUP_KIND_ORDER[DedupKind(flag.kind)],
            flag.distance_bits if flag.distance_bits is not None else 64, flag.id)


def clusters(flags: list[DuplicateFlag]) -> list[Cluster]:
    """Group `flags` into connected components over their entries and reference images
    (union-find). Clusters come strongest first, then larger first, then by first flag."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def nodes(f: DuplicateFlag) -> tuple[tuple[str, int], tuple[str, int]]:
        other = ("r", f.reference_image_id) if f.reference_image_id else ("e", f.entry_b_id)
        return ("e", f.entry_a_id), other

    for f in flags:
        a, b = nodes(f)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    groups: dict[tuple[str, int], list[DuplicateFlag]] = {}
    for f in flags:
        groups.setdefault(find(nodes(f)[0]), []).append(f)
    result = []
    for members in groups.values():
        members.sort(key=_flag_order)
        entries: dict[int, Entry] = {}
        refs: dict[int, ReferenceImage] = {}
        for f in members:
            entries[f.entry_a_id] = f.entry_a
            if f.entry_b is not None:
                entries[f.entry_b_id] = f.entry_b
            if f.reference_image is not None:
                refs[f.reference_image_id] = f.reference_image
        result.append(Cluster(flags=members,
                              entries=sorted(entries.values(), key=lambda e: (e.code or "", e.id)),
                              references=sorted(refs.values(), key=lambda r: r.id)))
    result.sort(key=lambda c: (DEDUP_KIND_ORDER[DedupKind(c.kind)], -c.size,
                               _flag_order(c.flags[0])))
    return result


def kind_counts(flags: Iterable[DuplicateFlag]) -> dict[str, int]:
    """Number of flags per class: {'exact': n, 'duplicate': n, 'similar': n}."""
    counts = {k.value: 0 for k in DedupKind}
    for f in flags:
        counts[str(f.kind)] += 1
    return counts


# ------------------------------------------------------------------------ decisions

NOT_DUPLICATE = "not_duplicate"
DISQUALIFY = "disqualify"
REASON_MAX_CHARS = 500


def decide_flag(session: Session, flag: DuplicateFlag, *, actor: User, decision: str,
                reason: str, disqualify_entry_id: int | None = None,
                now: datetime | None = None) -> None:
    """Record an editor's decision on an open `flag` and log it (AuditEvent
    'dedup.decide'; plus 'entry.disqualify' for the entry).

    `decision`: "not_duplicate" (两者不是重复) or "disqualify" (取消 `disqualify_entry_id`'s
    eligibility: entry A or B of the flag; the entry's status becomes `disqualified` and
    `status_reason` the editor's `reason`, which the entrant sees). `reason`: required,
    at most 500 characters. Flushes; never commits.

    Raises ContestError 'reason_required', 'dedup_already_decided' (by, at),
    'dedup_bad_decision'.
    """
    reason = (reason or "").strip()
    if flag.status != FlagStatus.open:
        raise ContestError("dedup_already_decided", by=_who(flag.decided_by),
                           at=flag.decided_at)
    if not reason:
        raise ContestError("reason_required")
    if len(reason) > REASON_MAX_CHARS:
        raise ContestError("too_long", field="reason", max=REASON_MAX_CHARS, actual=len(reason))
    now = now or utcnow()
    old = {"status": str(flag.status), "kind": str(flag.kind)}
    if decision == NOT_DUPLICATE:
        flag.status = FlagStatus.not_duplicate
    elif decision == DISQUALIFY and disqualify_entry_id in (flag.entry_a_id, flag.entry_b_id):
        entry = session.get(Entry, disqualify_entry_id)
        if entry is None:
            raise ContestError("dedup_bad_decision")
        flag.status = FlagStatus.disqualified
        flag.disqualified_entry_id = entry.id
        if entry.status != EntryStatus.disqualified:
            old_entry = {"status": str(entry.status), "status_reason": entry.status_reason}
            entry.status = EntryStatus.disqualified
            entry.status_reason = reason
            log_event(session, actor, "entry.disqualify", entry, old=old_entry,
                      new={"status": str(entry.status), "status_reason": reason,
                           "duplicate_flag_id": flag.id}, reason=reason)
    else:
        raise ContestError("dedup_bad_decision")
    flag.decided_by_id = actor.id
    flag.decided_at = now
    flag.reason = reason
    session.flush()
    log_event(session, actor, "dedup.decide", flag, old=old,
              new={"status": str(flag.status), "disqualified_entry_id":
                   flag.disqualified_entry_id, "entry_a_id": flag.entry_a_id,
                   "entry_b_id": flag.entry_b_id,
                   "reference_image_id": flag.reference_image_id}, reason=reason)


def _who(user: User | None) -> str:
    return (user.display_name or user.login) if user is not None else ""


# ------------------------------------------------------------------------ rescan / rehash

@dataclass
class RescanSummary:
    """Counts of a rescan: entries searched, flags added / updated / removed, entries
    skipped because their fingerprint is of another algorithm version."""

    entries: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0


def rescan_contest(session: Session, contest_id: int) -> RescanSummary:
    """Search again for every non-withdrawn entry of `contest_id` with a fingerprinted
    current original, in id order, against older entries and the reference library, and
    bring open flags up to date. Decided pairs are never re-created. Flushes only."""
    summary = RescanSummary()
    rows = session.execute(
        select(Entry, EntryFile, ImageFingerprint)
        .join(EntryFile, EntryFile.entry_id == Entry.id)
        .join(ImageFingerprint, ImageFingerprint.entry_file_id == EntryFile.id)
        .where(Entry.contest_id == contest_id, Entry.status != EntryStatus.withdrawn,
               EntryFile.kind == FileKind.original, EntryFile.is_current.is_(True))
        .order_by(Entry.id)).all()
    for entry, entry_file, row in rows:
        try:
            fp = dedup_engine.Fingerprint.from_bytes(row.features)
        except ValueError:  # another algorithm version: `dedup-rehash` recomputes it first
            summary.skipped += 1
            continue
        matches = find_matches(session, fp, contest_id=contest_id, exclude_entry_id=entry.id)
        added, updated, removed = sync_flags(session, entry, entry_file, matches,
                                             only_older=True)
        summary.entries += 1
        summary.added += added
        summary.updated += updated
        summary.removed += removed
    return summary


@dataclass
class RehashSummary:
    """Counts of a rehash: fingerprints recomputed, added for unfingerprinted originals,
    and files that could not be read (with their storage keys)."""

    recomputed: int = 0
    added: int = 0
    failed: list[str] = field(default_factory=list)


def rehash(session: Session, load_image: Callable[[str], Image.Image], *,
           force: bool = False) -> RehashSummary:
    """Recompute fingerprints whose `algo_version` differs from the engine's (all with
    `force`), and add the missing ones of entries' original files and reference images.

    `load_image(storage_key)`: the stored original as a normalised RGB image (the same
    decode path as intake: `imaging.load_normalised`). A recomputed row is deleted and
    inserted anew (a newer `created_at`, usually a new id), so every process's search
    index notices the change and rebuilds.
    Flushes only; a file that cannot be read is listed in `failed` and skipped.
    """
    summary = RehashSummary()
    version = dedup_engine.ALGO_VERSION
    stale = select(ImageFingerprint)
    if not force:
        stale = stale.where(ImageFingerprint.algo_version != version)
    for row in session.scalars(stale.order_by(ImageFingerprint.id)).all():
        owner_file, owner_ref = row.entry_file, row.reference_image
        key = owner_file.storage_key if owner_file is not None else owner_ref.storage_key
        sha = owner_file.sha256 if owner_file is not None else owner_ref.sha256
        try:
            fp = fingerprint_image(load_image(key), sha)
        except (OSError, ContestError) as exc:
            log.warning("rehash: cannot read %s: %r", key, exc)
            summary.failed.append(key)
            continue
        session.delete(row)
        session.flush()
        session.add(fingerprint_row(fp, entry_file=owner_file, reference_image=owner_ref))
        session.flush()
        summary.recomputed += 1
    missing_files = session.scalars(
        select(EntryFile).outerjoin(ImageFingerprint,
                                    ImageFingerprint.entry_file_id == EntryFile.id)
        .where(EntryFile.kind == FileKind.original, ImageFingerprint.id.is_(None))
        .order_by(EntryFile.id)).all()
    missing_refs = session.scalars(
        select(ReferenceImage).outerjoin(ImageFingerprint,
                                         ImageFingerprint.reference_image_id
                                         == ReferenceImage.id)
        .where(ImageFingerprint.id.is_(None)).order_by(ReferenceImage.id)).all()
    for owner in [*missing_files, *missing_refs]:
        try:
            fp = fingerprint_image(load_image(owner.storage_key), owner.sha256)
        except (OSError, ContestError) as exc:
            log.warning("rehash: cannot read %s: %r", owner.storage_key, exc)
            summary.failed.append(owner.storage_key)
            continue
        if isinstance(owner, EntryFile):
            session.add(fingerprint_row(fp, entry_file=owner))
        else:
            session.add(fingerprint_row(fp, reference_image=owner))
        session.flush()
        summary.added += 1
    return summary


# ------------------------------------------------------------------------ reference library

@dataclass
class ReferenceResult:
    """What happened to one file given to `add_reference`: `status` is 'added',
    'exists' (same bytes already in the library: a no-op) or 'refused' (`error` says
    why). `reference`: the new or existing row. `flagged`: stored entries it matched."""

    path: str
    status: str
    reference: ReferenceImage | None = None
    error: ContestError | None = None
    flagged: int = 0


def add_reference(session: Session, path: Path, *, label: str, original_filename: str | None,
                  storage: Any, max_pixels: int, preview_long_edge_px: int,
                  thumb_long_edge_px: int, actor: User | None = None) -> ReferenceResult:
    """Add the image file at `path` to the reference library under `label` (at most 100
    characters, e.g. "2023 获奖作品"), with its fingerprint. Flushes; never commits.

    The same content checks as intake (`imaging.check_image` with
    `IntakeRules.content_only`: JPG/PNG by content, not corrupt, one frame, at most
    `max_pixels` px), without the width and size rules. The original bytes are stored
    unchanged under their content address, plus preview and thumb JPEGs (long edges in
    px). Stored entries of open contests that match it are flagged for editors
    (`flag_reference_matches`). Bytes already in the library (same SHA-256) are a no-op
    ('exists'). Never raises
    for a bad file: returns status 'refused' with the `InvalidImage`; storage errors
    (OSError) propagate.
    """
    from contest import entries as entries_service
    from contest import imaging

    label = " ".join((label or "").split())[:100]
    if not label:
        return ReferenceResult(str(path), "refused", error=ContestError("reason_required"))
    rules = imaging.IntakeRules.content_only(max_pixels)
    try:  # the same bytes again are a no-op; prepare_image below checks new files
        sha256 = dedup_engine.sha256_file(Path(path))
    except OSError:
        return ReferenceResult(str(path), "refused", error=InvalidImage("corrupt"))
    existing = session.scalar(select(ReferenceImage).where(ReferenceImage.sha256 == sha256))
    if existing is not None:
        return ReferenceResult(str(path), "exists", reference=existing)
    try:
        prepared = entries_service.prepare_image(
            Path(path), rules=rules, storage=storage, original_filename=original_filename,
            preview_long_edge_px=preview_long_edge_px, thumb_long_edge_px=thumb_long_edge_px)
    except ContestError as exc:
        return ReferenceResult(str(path), "refused", error=exc)
    info = prepared.info
    derived = {str(d.kind): d.key for d in prepared.derivatives}
    try:
        ref = ReferenceImage(label=label, storage_key=prepared.original_key,
                             preview_key=derived.get("preview"), thumb_key=derived.get("thumb"),
                             original_filename=prepared.original_filename, sha256=info.sha256,
                             format=info.format, size_bytes=info.size_bytes,
                             width_px=info.width_px, height_px=info.height_px,
                             created_by_id=actor.id if actor is not None else None)
        session.add(ref)
        session.flush()
        fp = fingerprint_image(prepared.image, info.sha256)
        session.add(fingerprint_row(fp, reference_image=ref))
        session.flush()
        flagged = flag_reference_matches(session, ref, fp)
    except BaseException:
        # the caller rolls back; remove what this call stored (the original only if it was
        # new here, so an entry's file with the same bytes is never touched)
        keys = list(derived.values()) + ([prepared.original_key]
                                         if prepared.original_created else [])
        for key in keys:
            try:
                storage.delete(key)
            except OSError:
                log.warning("could not remove %s after a failed reference import", key)
        raise
    return ReferenceResult(str(path), "added", reference=ref, flagged=flagged)


def reference_labels(session: Session) -> list[tuple[str, int]]:
    """Every label of the reference library with its image count, by label."""
    return [(label, int(n)) for label, n in session.execute(
        select(ReferenceImage.label, func.count(ReferenceImage.id))
        .group_by(ReferenceImage.label).order_by(ReferenceImage.label)).all()]

