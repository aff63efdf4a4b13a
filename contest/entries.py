"""Entries service (参赛作品): drafts, images, submission, withdrawal.

Rules come from RULES.md and the contest's intake settings: caption fields present, design
statement ≤ `contest.max_statement_chars` characters, both declarations made (content review
by the unit's publicity department with the reviewer's name; originality pledge), the AI-use
declaration, the deadline `contest.submissions_close_at` (UTC), at most
`contest.max_entries_per_unit_per_track` submitted entries per unit and track, and an image
that passed `imaging.check_image`.

Transactions (STYLE.md §2, PITFALLS.md #13): functions here flush and never commit. Image
work (`prepare_image`: validate, store the original, make derivatives) touches no database
and must run BEFORE the caller opens its write transaction; `attach_image` then only adds
rows. If the transaction is rolled back, the caller calls `discard_prepared` so a refused
upload leaves no file behind; after a successful commit it calls `confirm_stored`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contest.errors import (AlreadySubmitted, ContestError, InvalidEntry, PhaseClosed,
                            QuotaExceeded, RulesBroken)
from contest.models import (AIUse, Contest, Entry, EntryFile, EntryStatus, FileKind, Track,
                            Unit, User, log_event)
from contest.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from PIL import Image

    from contest.imaging import ImageInfo, IntakeRules
    from contest.storage import LocalStorage

TEXT_FIELDS = ("title", "authors", "adviser", "statement", "caption_time", "caption_place",
               "caption_people", "caption_event")
CAPTION_FIELDS = ("caption_time", "caption_place", "caption_people", "caption_event")
# RULES.md: title, authors and the four caption parts must be there to submit; the adviser
# is optional (adult-education units often have none).
REQUIRED_FIELDS = ("title", "authors", "statement")
# Column sizes of `Entry` (contest/models/entries.py), in characters; a longer value is
# refused with a message instead of a database error.
MAX_CHARS = {"title": 100, "authors": 200, "adviser": 100, "caption_time": 100,
             "caption_place": 100, "caption_people": 200, "caption_event": 300,
             "content_reviewer": 50}
STATEMENT_HARD_MAX_CHARS = 5000  # drafts may run over the rule for a while, not without bound
ORIGINAL_FILENAME_MAX_CHARS = 255  # EntryFile.original_filename
EDITABLE_STATUSES = (EntryStatus.draft, EntryStatus.submitted, EntryStatus.withdrawn)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u2028\u2029\ufeff]")


# ---------------------------------------------------------------------------------------
# Text


def clean_text(value: Any) -> str:
    """Return `value` as display-safe text: NFC-normalised, line breaks as '\\n' (browsers
    send '\\r\\n'), control characters dropped, outer whitespace stripped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def count_chars(value: Any) -> int:
    """Characters of `value` as the rule counts them (RULES.md: 设计说明不超过300字): Unicode
    code points of the cleaned text, so one Chinese character, letter or line break is 1."""
    return len(clean_text(value))


def clean_filename(name: str | None) -> str:
    """The client's file name as display data only (PITFALLS.md #1; never used in a path):
    the last path component, NFC, no control characters, at most 255 characters (the
    extension is kept when cutting)."""
    text = clean_text(name).replace("\n", " ")
    text = re.split(r"[\\/]", text)[-1]
    if len(text) > ORIGINAL_FILENAME_MAX_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: ORIGINAL_FILENAME_MAX_CHARS - len(ext) - 1] + "." + ext
        else:
            text = text[:ORIGINAL_FILENAME_MAX_CHARS]
    return text


# ---------------------------------------------------------------------------------------
# Entry data


@dataclass
class EntryData:
    """The entrant-editable fields of an entry, as typed (before cleaning). `ai_use` is None
    while the entrant has not chosen (the declaration is then missing)."""

    title: str = ""
    authors: str = ""
    adviser: str = ""
    statement: str = ""
    caption_time: str = ""
    caption_place: str = ""
    caption_people: str = ""
    caption_event: str = ""
    ai_use: AIUse | None = None
    content_review_confirmed: bool = False
    content_reviewer: str = ""
    originality_confirmed: bool = False

    @classmethod
    def from_entry(cls, entry: Entry) -> EntryData:
        """The stored values of `entry`; `ai_use` is None unless `ai_use_declared`."""
        data = cls(**{f.name: getattr(entry, f.name) for f in fields(cls)})
        if not ai_use_declared(entry):
            data.ai_use = None
        return data

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> EntryData:
        """Build from a form's `.data` / a CSV row; unknown keys are ignored; `ai_use` may be
        an AIUse, its value ('none'), its label ('否'), or empty (not declared)."""
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name == "ai_use":
                kw[f.name] = parse_ai_use(value)
            elif f.name in ("content_review_confirmed", "originality_confirmed"):
                kw[f.name] = bool(value)
            else:
                kw[f.name] = "" if value is None else str(value)
        return cls(**kw)

    def cleaned(self) -> EntryData:
        """A copy with every text field passed through `clean_text`."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in (*TEXT_FIELDS, "content_reviewer"):
            kw[name] = clean_text(kw[name])
        return EntryData(**kw)


def ai_use_declared(entry: Entry) -> bool:
    """Whether the entrant has answered the AI-use question (None until they do)."""
    return entry.ai_use is not None


def parse_ai_use(value: Any) -> AIUse | None:
    """'none' / 'assisted' / 'generated', or the labels 否 / 辅助 / 主要 → AIUse; else None."""
    if isinstance(value, AIUse):
        return value
    text = clean_text(value)
    if not text:
        return None
    by_label = {"否": AIUse.none, "辅助": AIUse.assisted, "主要": AIUse.generated}
    if text in by_label:
        return by_label[text]
    try:
        return AIUse(text.lower())
    except ValueError:
        return None


def storage_problems(data: EntryData, contest: Contest) -> list[InvalidEntry]:
    """Problems that stop even a draft from being saved: a field longer than its column
    (`MAX_CHARS`) or a statement beyond any reason. Returns InvalidEntry('too_long',
    field, max, actual) per field."""
    data = data.cleaned()
    problems: list[InvalidEntry] = []
    for name, limit in MAX_CHARS.items():
        actual = count_chars(getattr(data, name))
        if actual > limit:
            problems.append(InvalidEntry("too_long", field=name, max=limit, actual=actual))
    statement_max = max(contest.max_statement_chars, STATEMENT_HARD_MAX_CHARS)
    if count_chars(data.statement) > statement_max:
        problems.append(InvalidEntry("too_long", field="statement", max=statement_max,
                                     actual=count_chars(data.statement)))
    return problems


def rule_problems(data: EntryData, contest: Contest, *, has_image: bool) -> list[InvalidEntry]:
    """Every entry rule that `data` breaks, in form order (no database access, no deadline
    or quota: see `submit_entry`). Rules: RULES.md attachment 2 and GLOSSARY.md.

    Returns a list of InvalidEntry with params['field']: 'required' (title, authors,
    statement), 'caption_missing' (each empty caption part), 'too_long' (statement over
    `contest.max_statement_chars` characters, other fields over their columns),
    'ai_use_missing', 'content_review_missing', 'content_reviewer_missing',
    'originality_missing', 'image_missing'.
    """
    data = data.cleaned()
    problems: list[InvalidEntry] = []
    for name in REQUIRED_FIELDS:
        if not getattr(data, name):
            problems.append(InvalidEntry("required", field=name))
    for name in CAPTION_FIELDS:
        if not getattr(data, name):
            problems.append(InvalidEntry("caption_missing", field=name))
    statement_chars = count_chars(data.statement)
    if statement_chars > contest.max_statement_chars:
        problems.append(InvalidEntry("too_long", field="statement",
                                     max=contest.max_statement_chars, actual=statement_chars))
    problems += [p for p in storage_problems(data, contest) if p.params["field"] != "statement"]
    if data.ai_use is None:
        problems.append(InvalidEntry("ai_use_missing", field="ai_use"))
    if not data.content_review_confirmed:
        problems.append(InvalidEntry("content_review_missing", field="content_review_confirmed"))
    if not data.content_reviewer:
        problems.append(InvalidEntry("content_reviewer_missing", field="content_reviewer"))
    if not data.originality_confirmed:
        problems.append(InvalidEntry("originality_missing", field="originality_confirmed"))
    if not has_image:
        problems.append(InvalidEntry("image_missing", field="image"))
    return problems


def _apply(entry: Entry, data: EntryData) -> None:
    data = data.cleaned()
    for f in fields(data):
        value = getattr(data, f.name)
        if f.name == "ai_use" and value is None:
            continue  # not declared yet: the stored default stays until the entrant chooses
        setattr(entry, f.name, value)


# ---------------------------------------------------------------------------------------
# Contest, deadline, quota


def current_contest(session: Session) -> Contest | None:
    """The contest entrants work on now: the newest (by year, then id) not archived."""
    return session.scalar(select(Contest).where(Contest.is_archived.is_(False))
                          .order_by(Contest.year.desc(), Contest.id.desc()).limit(1))


def is_open(contest: Contest, now: datetime | None = None) -> bool:
    """True while entries may be created, edited, submitted or withdrawn: before
    `contest.submissions_close_at` (UTC; RULES.md: 12 May 23:59 China Standard Time)."""
    return as_utc(now or utcnow()) < as_utc(contest.submissions_close_at)


def require_open(contest: Contest, action: str = "提交", now: datetime | None = None) -> None:
    """Raise PhaseClosed(deadline=<UTC datetime>, action=`action`) after the deadline.
    `action` is the verb the message ends with (提交 / 修改 / 撤回 / 替换图片)."""
    if not is_open(contest, now):
        raise PhaseClosed(deadline=contest.submissions_close_at, action=action)


def in_judging(entry: Entry) -> bool:
    """Whether `entry` has been taken into a judging round. From then on it is what the
    jurors judged (and what results, the public notice and the WeChat package publish), so
    the entrant can no longer change, replace or withdraw it, whatever the deadline."""
    from sqlalchemy.orm import object_session

    from contest.models import RoundEntry

    session = object_session(entry)
    if session is None or entry.id is None:
        return False
    return session.scalar(select(RoundEntry.id).where(RoundEntry.entry_id == entry.id)
                          .limit(1)) is not None


def can_edit(entry: Entry, now: datetime | None = None) -> bool:
    """Whether the entrant may still change `entry`: before the deadline, not disqualified
    and not yet in a judging round."""
    return (entry.status in EDITABLE_STATUSES and is_open(entry.contest, now)
            and not in_judging(entry))


def _require_editable(entry: Entry, action: str, now: datetime | None) -> None:
    if entry.status not in EDITABLE_STATUSES:
        raise InvalidEntry("not_editable", status=str(entry.status))
    if in_judging(entry):
        raise InvalidEntry("in_judging", action=action)
    require_open(entry.contest, action, now)


def count_submitted(session: Session, unit_id: int, track_id: int) -> int:
    """Submitted entries of the unit in the track (the quota counts these; withdrawn,
    disqualified and draft entries are not counted)."""
    return session.scalar(select(func.count(Entry.id)).where(
        Entry.unit_id == unit_id, Entry.track_id == track_id,
        Entry.status == EntryStatus.submitted)) or 0


def remaining_quota(session: Session, unit: Unit, track: Track) -> int:
    """How many more entries `unit` may submit in `track` (≥ 0)."""
    limit = track.contest.max_entries_per_unit_per_track
    return max(0, limit - count_submitted(session, unit.id, track.id))


def _quota_problem(session: Session, entry: Entry) -> QuotaExceeded | None:
    limit = entry.contest.max_entries_per_unit_per_track
    count = count_submitted(session, entry.unit_id, entry.track_id)
    if count >= limit:
        return QuotaExceeded(field="track", track=entry.track.name, max=limit, count=count)
    return None


# ---------------------------------------------------------------------------------------
# Create, update, submit, withdraw


def create_draft(session: Session, *, contest: Contest, track: Track, unit: Unit,
                 data: EntryData, created_by: User | None, source: str = "web",
                 now: datetime | None = None, enforce_deadline: bool = True) -> Entry:
    """Add a draft entry of `unit` in `track` with `data`; flush and return it.

    Raises PhaseClosed after the deadline (unless `enforce_deadline` is False: editors'
    import), RulesBroken with 'too_long' problems when a field exceeds its column.
    """
    if track.contest_id != contest.id:
        raise InvalidEntry(detail="赛道不属于本届比赛")
    if enforce_deadline:
        require_open(contest, "提交", now)
    problems = storage_problems(data, contest)
    if problems:
        raise RulesBroken(problems)
    entry = Entry(contest=contest, track=track, unit=unit, created_by=created_by,
                  source=source, status=EntryStatus.draft)
    _apply(entry, data)
    session.add(entry)
    session.flush()
    return entry


def update_entry(session: Session, entry: Entry, data: EntryData, *,
                 now: datetime | None = None, actor: User | None = None) -> Entry:
    """Change the entrant-editable fields of `entry` before the deadline; flush.

    A draft or withdrawn entry only has to fit its columns; a submitted entry must still
    meet every rule after the change (so a submitted entry never turns incomplete), and
    its changed fields are logged ('entry.update', old and new values).
    Raises PhaseClosed (after the deadline), InvalidEntry('not_editable') (disqualified),
    RulesBroken (the problems, each with params['field']).
    """
    _require_editable(entry, "修改", now)
    if entry.status == EntryStatus.submitted:
        problems = rule_problems(data, entry.contest,
                                 has_image=entry.current_file(FileKind.original) is not None)
    else:
        problems = storage_problems(data, entry.contest)
    if problems:
        raise RulesBroken(problems)
    before = {f.name: getattr(entry, f.name) for f in fields(EntryData)}
    _apply(entry, data)
    session.flush()
    changed = {k: (str(v) if v is not None else None, str(getattr(entry, k))
                   if getattr(entry, k) is not None else None)
               for k, v in before.items() if getattr(entry, k) != v}
    if changed and entry.status == EntryStatus.submitted:
        log_event(session, actor, "entry.update", entry,
                  old={k: o for k, (o, _n) in changed.items()},
                  new={k: n for k, (_o, n) in changed.items()})
    return entry


def submission_problems(session: Session, entry: Entry, *, data: EntryData | None = None,
                        now: datetime | None = None,
                        enforce_deadline: bool = True) -> list[ContestError]:
    """Every reason `entry` cannot be submitted now, in display order: deadline (and
    opening time), the field rules of `rule_problems` on `data` (what the entrant has just
    sent, already saved on `entry`; default: the stored values, see `ai_use_declared`), the
    quota. Empty when it can."""
    problems: list[ContestError] = []
    contest = entry.contest
    now = as_utc(now or utcnow())
    if enforce_deadline:
        if not is_open(contest, now):
            problems.append(PhaseClosed(field="", deadline=contest.submissions_close_at,
                                        action="提交"))
        elif contest.submissions_open_at and now < as_utc(contest.submissions_open_at):
            problems.append(PhaseClosed("not_open", field="", opens=contest.submissions_open_at))
    problems += rule_problems(data if data is not None else EntryData.from_entry(entry),
                              contest,
                              has_image=entry.current_file(FileKind.original) is not None)
    if entry.status != EntryStatus.submitted:
        quota = _quota_problem(session, entry)
        if quota is not None:
            problems.append(quota)
    return problems


def submit_entry(session: Session, entry: Entry, *, actor: User | None,
                 data: EntryData | None = None, now: datetime | None = None,
                 enforce_deadline: bool = True) -> Entry:
    """Submit a draft (or withdrawn) entry: check every rule at once, then hand out its code
    `{prefix}{year}-{NNNN}` (ZJ2024-0001) if it has none; flush.

    The code comes from `Track.next_number` through one atomic UPDATE … RETURNING, after
    the track row is locked and the quota recounted, so two units submitting at the same
    moment never share a number or overrun the quota (PostgreSQL row lock; SQLite's single
    writer). A code, once given, is kept for life (a withdrawn entry resubmitted keeps it).

    `data`: the fields just sent with the request (form or import row), already applied
    to `entry`; the declarations are judged on it (see `submission_problems`).
    Raises AlreadySubmitted, InvalidEntry('not_editable') for a disqualified entry,
    RulesBroken with every problem (PhaseClosed, QuotaExceeded and the field rules),
    DuplicateRefused (the image duplicates another entry of the same unit).
    """
    if entry.status == EntryStatus.submitted:
        raise AlreadySubmitted()
    if entry.status not in EDITABLE_STATUSES:
        raise InvalidEntry("not_editable", status=str(entry.status))
    problems = submission_problems(session, entry, data=data, now=now,
                                   enforce_deadline=enforce_deadline)
    if problems:
        raise RulesBroken(problems)
    from contest.dedup import hooks

    # a withdrawn entry coming back may duplicate a poster its unit has entered since
    hooks.entry_submitting(session, entry)
    track = entry.track
    # Lock the track row first (a no-op UPDATE), then recount: concurrent submitters of the
    # same track queue here, and the second one sees the first one's entry.
    session.execute(update(Track).where(Track.id == track.id)
                    .values(next_number=Track.next_number)
                    .execution_options(synchronize_session=False))
    quota = _quota_problem(session, entry)
    if quota is not None:
        raise RulesBroken([quota])
    if entry.code is None:
        entry.code = _take_code(session, entry)
    entry.status = EntryStatus.submitted
    entry.status_reason = ""
    entry.submitted_at = as_utc(now or utcnow())
    entry.withdrawn_at = None
    session.flush()
    log_event(session, actor, "entry.submit", entry, new={"code": entry.code})
    return entry


def _take_code(session: Session, entry: Entry) -> str:
    track = entry.track
    while True:
        taken = session.execute(
            update(Track).where(Track.id == track.id)
            .values(next_number=Track.next_number + 1)
            .returning(Track.next_number)
            .execution_options(synchronize_session=False)).scalar_one()
        code = f"{track.code_prefix}{entry.contest.year}-{taken - 1:04d}"
        # a code typed in by hand elsewhere must never be handed out twice
        if session.scalar(select(Entry.id).where(Entry.code == code)) is None:
            session.expire(track, ["next_number"])
            return code


def withdraw_entry(session: Session, entry: Entry, *, actor: User | None,
                   now: datetime | None = None) -> Entry:
    """Withdraw a draft or submitted entry before the deadline; it keeps its code and may
    be submitted again while the contest is open; flush.

    Raises PhaseClosed (after the deadline), InvalidEntry('not_editable') when disqualified
    or already withdrawn, InvalidEntry('in_judging') once the entry is in a judging round.
    """
    if entry.status not in (EntryStatus.draft, EntryStatus.submitted):
        raise InvalidEntry("not_editable", status=str(entry.status))
    if in_judging(entry):
        raise InvalidEntry("in_judging", action="撤回")
    require_open(entry.contest, "撤回", now)
    old = str(entry.status)
    entry.status = EntryStatus.withdrawn
    entry.withdrawn_at = as_utc(now or utcnow())
    session.flush()
    log_event(session, actor, "entry.withdraw", entry, old={"status": old},
              new={"status": "withdrawn"})
    return entry


# ---------------------------------------------------------------------------------------
# Images


@dataclass
class Derivative:
    """A JPEG made from the normalised image. `key`: storage key; sizes in px / bytes."""

    kind: FileKind
    key: str
    width_px: int
    height_px: int
    size_bytes: int
    sha256: str


@dataclass
class PreparedImage:
    """An upload that passed `imaging.check_image`, stored and derived, not yet in the
    database. `original_created`: this call wrote the content-addressed original (so a
    rollback may remove it when no row references it). `image`: normalised RGB, as
    displayed, for the duplicate-detection hook. `source`: the file the original was
    copied from (kept by the caller until `confirm_stored`)."""

    info: ImageInfo
    original_key: str
    original_created: bool
    original_filename: str
    source: Path
    image: Image.Image
    derivatives: list[Derivative] = field(default_factory=list)

    @property
    def keys_created(self) -> list[str]:
        """Storage keys this upload wrote (derivatives always; the original if new)."""
        keys = [d.key for d in self.derivatives]
        return ([self.original_key] if self.original_created else []) + keys


def intake_rules(contest: Contest, max_pixels: int) -> IntakeRules:
    """The image rules of `contest` (formats, width ≥ px, size range in bytes) with the
    decompression-bomb cap `max_pixels` (config MAX_IMAGE_PIXELS)."""
    from contest import imaging

    return imaging.IntakeRules.from_contest(contest, max_pixels)


def check_image_fully(path: Path, rules: IntakeRules) -> tuple[ImageInfo, Image.Image]:
    """`imaging.check_and_load`, except that a file refused for its byte size is checked
    once more with the size rules off, so the entrant learns every problem at once (e.g.
    both "2MB–10MB" and "width ≥ 2000 px") instead of fixing one and uploading again.

    Returns (ImageInfo, the normalised image from the same decode). Raises InvalidImage
    (one problem) or RulesBroken (several InvalidImage errors).
    """
    import dataclasses

    from contest import imaging
    from contest.errors import InvalidImage

    try:
        return imaging.check_and_load(path, rules)
    except InvalidImage as first:
        if first.code not in ("size_small", "size_large"):
            raise
        content_rules = dataclasses.replace(rules, min_size_bytes=None, max_size_bytes=None)
        try:
            imaging.check_image(path, content_rules)
        except InvalidImage as second:
            raise RulesBroken([first, second]) from first
        raise


def prepare_image(path: Path, *, rules: IntakeRules, storage: LocalStorage,
                  original_filename: str | None, preview_long_edge_px: int,
                  thumb_long_edge_px: int) -> PreparedImage:
    """Validate the file at `path` and store it: the original bytes unchanged under their
    content address, plus `preview` and `thumb` JPEG derivatives (long edge in px, from
    config PREVIEW_LONG_EDGE_PX / THUMB_LONG_EDGE_PX; orientation applied, sRGB, no
    metadata). `original_filename`: the client's name, kept as display data only.
    Touches no database: call it before the write transaction (PITFALLS.md #13).

    Raises InvalidImage / RulesBroken (see `check_image_fully`) before anything is
    stored. If making a derivative fails, whatever was written is removed and the error
    is raised.
    """
    import hashlib
    import tempfile

    from contest import imaging
    from contest import storage as storage_mod

    from contest.dedup import hooks

    path = Path(path)
    info, image = check_image_fully(path, rules)
    hooks.prepare(image, info.sha256)  # fingerprint now, outside the write transaction
    key = storage_mod.original_key(info.sha256, info.format)
    created = not storage.exists(key)
    derivatives: list[Derivative] = []
    try:
        if created:
            storage.put_file(key, path)
        with tempfile.TemporaryDirectory(prefix="derive-") as tmp:
            for kind, edge in ((FileKind.preview, preview_long_edge_px),
                               (FileKind.thumb, thumb_long_edge_px)):
                dest = Path(tmp) / f"{kind.value}.jpg"
                w, h = imaging.save_jpeg(image, dest, long_edge_px=edge)
                data = dest.read_bytes()
                dkey = storage_mod.derivative_key(kind.value)
                derivatives.append(Derivative(kind=kind, key=dkey, width_px=w, height_px=h,
                                              size_bytes=len(data),
                                              sha256=hashlib.sha256(data).hexdigest()))
                storage.put_bytes(dkey, data)
    except BaseException:
        _delete_keys(storage, ([key] if created else []) + [d.key for d in derivatives])
        raise
    return PreparedImage(info=info, original_key=key, original_created=created,
                         original_filename=clean_filename(original_filename), source=path,
                         image=image, derivatives=derivatives)


def attach_image(session: Session, entry: Entry, prepared: PreparedImage, *,
                 actor: User | None, now: datetime | None = None,
                 enforce_deadline: bool = True) -> EntryFile:
    """Make `prepared` the current image of `entry`: earlier files stay as history
    (`is_current` False), new EntryFile rows for the original, preview and thumb are added
    and flushed, then duplicate detection runs (`contest.dedup.hooks.image_stored`).
    Returns the original's EntryFile.

    Raises PhaseClosed (after the deadline), InvalidEntry('not_editable'), DuplicateRefused
    (from the hook). On any error the caller rolls back and calls `discard_prepared`.
    """
    from contest.dedup.hooks import image_stored

    if enforce_deadline:
        _require_editable(entry, "替换图片", now)
    elif entry.status not in EDITABLE_STATUSES:
        raise InvalidEntry("not_editable", status=str(entry.status))
    had_image = False
    for old in entry.files:
        if old.is_current and old.kind in (FileKind.original, FileKind.preview, FileKind.thumb,
                                          FileKind.juror_display, FileKind.juror_thumb):
            had_image = had_image or old.kind == FileKind.original
            old.is_current = False
    info = prepared.info
    original = EntryFile(entry=entry, kind=FileKind.original, storage_key=prepared.original_key,
                         sha256=info.sha256, size_bytes=info.size_bytes, format=info.format,
                         width_px=info.width_px, height_px=info.height_px,
                         original_filename=prepared.original_filename, is_current=True)
    session.add(original)
    for d in prepared.derivatives:
        session.add(EntryFile(entry=entry, kind=d.kind, storage_key=d.key, sha256=d.sha256,
                              size_bytes=d.size_bytes, format="JPEG", width_px=d.width_px,
                              height_px=d.height_px, is_current=True))
    session.flush()
    image_stored(session, entry, original, prepared.image)
    if had_image and entry.status == EntryStatus.submitted:
        log_event(session, actor, "entry.replace_image", entry,
                  new={"sha256": info.sha256, "entry_file_id": original.id})
    return original


def discard_prepared(session: Session, storage: LocalStorage,
                     prepared: PreparedImage | None) -> None:
    """Remove what `prepared` wrote, after the caller rolled back: the derivatives always;
    the content-addressed original only if this upload created it and no EntryFile row
    (committed by anyone) references it. Safe to call with None."""
    if prepared is None:
        return
    _delete_keys(storage, [d.key for d in prepared.derivatives])
    if prepared.original_created:
        referenced = session.scalar(select(EntryFile.id).where(
            EntryFile.storage_key == prepared.original_key).limit(1))
        if referenced is None:
            _delete_keys(storage, [prepared.original_key])


def confirm_stored(storage: LocalStorage, prepared: PreparedImage | None) -> None:
    """After a successful commit: make sure the original is in storage. A concurrent
    refused upload of the same bytes may have removed it between our `exists` check and
    our commit; it is written again from `prepared.source` (if that is still there)."""
    if prepared is None:
        return
    if not storage.exists(prepared.original_key) and os.path.exists(prepared.source):
        storage.put_file(prepared.original_key, prepared.source)


def _delete_keys(storage: LocalStorage, keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------------------------------
# Queries for the entrant pages


def unit_entries(session: Session, unit: Unit, contest: Contest) -> list[Entry]:
    """The unit's entries in `contest`, by track then newest first."""
    return list(session.scalars(select(Entry).where(Entry.unit_id == unit.id,
                                                    Entry.contest_id == contest.id)
                                .order_by(Entry.track_id, Entry.created_at.desc(),
                                          Entry.id.desc())))


def entry_of_unit(session: Session, entry_id: int, unit_id: int | None) -> Entry | None:
    """The entry `entry_id` if it belongs to unit `unit_id`, else None (callers answer 404,
    never 403, so another unit's entries cannot be discovered)."""
    if unit_id is None:
        return None
    entry = session.get(Entry, entry_id)
    return entry if entry is not None and entry.unit_id == unit_id else None
