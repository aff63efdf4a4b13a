"""Plain factory functions for tests (CTFd `tests/helpers.py gen_*` style): each adds rows,
flushes and returns them. `make_poster` draws a test poster with Pillow; nothing binary is
committed."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from contest.models import (TRACK_DEFAULTS, AIUse, City, Contest, Entry, EntryFile,
                            EntryStatus, Role, Round, Track, TrackKind, Unit, UnitType, User)
from contest.reference_data import ensure_cities

DEFAULT_PASSWORD = "correct-horse-9"


@lru_cache(maxsize=8)
def _hash(password: str) -> str:
    # scrypt is deliberately slow; hash each test password once per run
    return generate_password_hash(password)


def make_city(session: Session, name: str = "太原市") -> City:
    return ensure_cities(session)[name]


def make_contest(session: Session, *, year: int = 2024, closes_in_days: float = 30,
                 **kw) -> Contest:
    """A contest with both tracks; submissions close `closes_in_days` from now."""
    now = datetime.now(timezone.utc)
    contest = Contest(name=kw.pop("name", f"{year}年两个活动周主题海报大赛"), year=year,
                      submissions_open_at=kw.pop("submissions_open_at", now - timedelta(days=30)),
                      submissions_close_at=kw.pop("submissions_close_at",
                                                  now + timedelta(days=closes_in_days)),
                      **kw)
    session.add(contest)
    session.flush()
    for kind in TrackKind:
        name, prefix = TRACK_DEFAULTS[kind]
        session.add(Track(contest=contest, kind=kind, name=name, code_prefix=prefix))
    session.flush()
    return contest


def get_contest(session: Session) -> Contest:
    contest = session.scalar(select(Contest).order_by(Contest.id.desc()))
    return contest if contest is not None else make_contest(session)


_unit_seq = iter(range(1, 10**9))


def make_unit(session: Session, name: str | None = None, *, city: str = "太原市",
              unit_type: UnitType = UnitType.higher_vocational) -> Unit:
    unit = Unit(name=name or f"测试职业技术学院{next(_unit_seq)}", city=make_city(session, city),
                unit_type=unit_type)
    session.add(unit)
    session.flush()
    return unit


_user_seq = iter(range(1, 10**9))


def make_user(session: Session, role: Role | str = Role.entrant, *, login: str | None = None,
              unit: Unit | None = None, password: str = DEFAULT_PASSWORD, **kw) -> User:
    """A user; entrants get a new unit unless `unit` is given."""
    role = Role(role)
    if role == Role.entrant and unit is None:
        unit = make_unit(session)
    user = User(login=login or f"{role.value}{next(_user_seq)}", role=role, unit=unit,
                password_hash=_hash(password), display_name=kw.pop("display_name", ""), **kw)
    session.add(user)
    session.flush()
    return user


def make_entry(session: Session, unit: Unit, *, track: TrackKind | str = TrackKind.vet_week,
               contest: Contest | None = None, status: EntryStatus = EntryStatus.submitted,
               **kw) -> Entry:
    """An entry row with complete fields (no image; see the intake helpers for files).
    Submitted entries get the next code of their track."""
    contest = contest or get_contest(session)
    track_row = contest.track(track)
    entry = Entry(contest=contest, track=track_row, unit=unit,
                  title=kw.pop("title", "匠心筑梦 技能成才"),
                  authors=kw.pop("authors", "张三、李四"), adviser=kw.pop("adviser", "王老师"),
                  statement=kw.pop("statement", "以青年学子的笑脸与实训场景表现职业教育的活力。"),
                  caption_time=kw.pop("caption_time", "2024年5月8日"),
                  caption_place=kw.pop("caption_place", "学校实训楼"),
                  caption_people=kw.pop("caption_people", "机电专业师生"),
                  caption_event=kw.pop("caption_event", "职业教育活动周开放日"),
                  ai_use=kw.pop("ai_use", AIUse.none),
                  content_review_confirmed=kw.pop("content_review_confirmed", True),
                  content_reviewer=kw.pop("content_reviewer", "宣传部 赵老师"),
                  originality_confirmed=kw.pop("originality_confirmed", True),
                  status=status, **kw)
    session.add(entry)
    session.flush()
    if status != EntryStatus.draft and entry.code is None:
        entry.code = f"{track_row.code_prefix}{contest.year}-{track_row.next_number:04d}"
        track_row.next_number += 1
        entry.submitted_at = datetime.now(timezone.utc)
        session.flush()
    return entry


def make_results_round(session: Session, track, jurors, *,  # noqa: ANN001, ANN201
                       criteria=None, kind: str = "preliminary", name: str = "初评",
                       entries=(), submitted: bool = True, status: str = "closed"):
    """Results tests: a round of `track` (a Track or TrackKind) built row by row (no
    assignment, no images; `make_round_with_rubric` below goes through the judging services)
    with `criteria` ((name, description, max_points) tuples; default DEFAULT_RUBRIC),
    `jurors` as 评委A, 评委B … whose sheets are submitted when `submitted`, and `entries`
    with 评审编号 A-001, A-002 …"""
    from contest.models import DEFAULT_RUBRIC, Criterion, Round, RoundJuror

    if not hasattr(track, "id"):
        track = get_contest(session).track(track)
    round_ = Round(track=track, kind=kind, name=name, status=status)
    session.add(round_)
    for pos, (c_name, c_desc, c_max) in enumerate(criteria or DEFAULT_RUBRIC):
        round_.criteria.append(Criterion(position=pos, name=c_name, description=c_desc,
                                         max_points=c_max))
    now = datetime.now(timezone.utc)
    for i, juror in enumerate(jurors):
        round_.jurors.append(RoundJuror(juror=juror, alias=f"评委{chr(65 + i)}",
                                        submitted_at=now if submitted else None))
    session.flush()
    for entry in entries:
        add_round_entry(session, round_, entry)
    return round_


def add_round_entry(session: Session, round_, entry):  # noqa: ANN001, ANN201
    """Put `entry` in `round_` with the next 评审编号 (A-001, A-002 …); idempotent."""
    from contest.models import RoundEntry

    existing = session.scalar(select(RoundEntry).where(RoundEntry.round_id == round_.id,
                                                       RoundEntry.entry_id == entry.id))
    if existing is not None:
        return existing
    count = len(session.scalars(select(RoundEntry.id)
                                .where(RoundEntry.round_id == round_.id)).all())
    re = RoundEntry(round_id=round_.id, entry_id=entry.id, anon_code=f"A-{count + 1:03d}")
    session.add(re)
    session.flush()
    return re


def make_review(session: Session, round_, entry, juror, points,  # noqa: ANN001, ANN201
                comment: str = ""):
    """A review of `entry` by `juror` in `round_` with `points` per criterion (rubric
    order); the entry joins the round if it is not in it yet."""
    from contest.models import Review, Score

    add_round_entry(session, round_, entry)
    review = Review(round_id=round_.id, entry_id=entry.id, juror_id=juror.id, comment=comment)
    session.add(review)
    session.flush()
    for criterion, value in zip(round_.criteria, points, strict=True):
        session.add(Score(review_id=review.id, criterion_id=criterion.id, points=float(value)))
    session.flush()
    return review


def make_poster(size: tuple[int, int] = (2480, 3508), seed: int = 0, text: str = "",
                mode: str = "RGB") -> Image.Image:
    """A poster-like image: a seeded pattern of shapes and bands, deterministic per `seed`.
    `text` is drawn as ASCII glyph blocks (no font files needed)."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(w // 10, w // 2), y0 + rng.randrange(h // 10, h // 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=max(1, w // 400)))
    draw = ImageDraw.Draw(img)
    band_top = int(h * 0.78)
    draw.rectangle([0, band_top, w, h], fill=(180, 30, 40))
    if text:
        draw.text((w // 20, band_top + h // 40), text, fill=(255, 255, 255),
                  font_size=max(12, w // 25))
    return img.convert(mode) if mode != "RGB" else img


def poster_bytes(img: Image.Image, fmt: str = "JPEG", *, quality: int = 95,
                 min_bytes: int | None = None, **save_kw) -> bytes:
    """Encode `img`; with `min_bytes`, append a JPEG COM/PNG-ignored trailer so the file
    reaches the size rule without changing its pixels."""
    buf = io.BytesIO()
    img.save(buf, fmt, quality=quality, **save_kw) if fmt == "JPEG" else img.save(buf, fmt,
                                                                                  **save_kw)
    data = buf.getvalue()
    if min_bytes and len(data) < min_bytes:
        data = pad_to(data, min_bytes, fmt)
    return data


def pad_to(data: bytes, size: int, fmt: str = "JPEG") -> bytes:
    """Pad an encoded image to exactly `size` bytes without changing its pixels: JPEG gets
    COM segments after SOI; PNG gets private ancillary chunks before IEND."""
    import struct
    import zlib

    missing = size - len(data)
    if missing < 0:
        raise ValueError(f"already {len(data)} bytes > {size}")
    if missing == 0:
        return data
    if fmt == "JPEG":
        segs = []
        while missing > 0:
            if missing < 4:  # a COM segment is at least 4 bytes; pad after EOI instead
                segs.append(None)
                break
            body = min(missing - 4, 65533)
            segs.append(b"\xff\xfe" + struct.pack(">H", body + 2) + b"\0" * body)
            missing -= body + 4
        tail = b""
        if segs and segs[-1] is None:
            segs.pop()
            tail = b"\0" * (size - len(data) - sum(len(s) for s in segs))
        return data[:2] + b"".join(segs) + data[2:] + tail
    # PNG: chunk = 4 length + 4 type + body + 4 crc
    iend = data.rfind(b"IEND") - 4
    chunks = []
    while missing > 0:
        if missing < 12:
            raise ValueError("cannot pad PNG by fewer than 12 bytes; pick another size")
        body = min(missing - 12, 1 << 20)
        if 0 < missing - 12 - body < 12:
            body -= 12
        payload = b"\0" * body
        chunks.append(struct.pack(">I", body) + b"prVt" + payload
                      + struct.pack(">I", zlib.crc32(b"prVt" + payload) & 0xFFFFFFFF))
        missing -= body + 12
    return data[:iend] + b"".join(chunks) + data[iend:]


def near_copy(img: Image.Image, scale: float = 0.8, quality: int = 80) -> Image.Image:
    """A resized, recompressed variant of `img` (a typical resubmission)."""
    w, h = img.size
    small = img.resize((int(w * scale), int(h * scale)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def attach_original(session: Session, entry: Entry, data: bytes, *, storage=None,  # noqa: ANN001
                    filename: str = "poster.jpg") -> EntryFile:
    """Store `data` as the entry's current original (content-addressed key) without the
    intake checks, and return the `EntryFile` (judging tests; intake tests use intake)."""
    import hashlib

    from contest.models import EntryFile, FileKind
    from contest.storage import get_storage, original_key

    storage = storage or get_storage()
    digest = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as im:
        fmt, (w, h) = im.format, im.size
    key = original_key(digest, fmt)
    storage.put_bytes(key, data)
    f = EntryFile(entry=entry, kind=FileKind.original, storage_key=key, sha256=digest,
                  size_bytes=len(data), format=fmt, width_px=w, height_px=h,
                  original_filename=filename, is_current=True)
    session.add(f)
    session.flush()
    return f


def make_round_with_rubric(session: Session, track: Track, jurors: list[User], *,
                           kind: str = "preliminary", name: str = "初评", open_now: bool = True,
                           storage=None, **kw) -> Round:  # noqa: ANN001
    """A round of `track` over its eligible entries with the default rubric (or
    `criteria=`), opened (assigned, juror images built) unless `open_now` is False."""
    from contest.rounds import create_round, open_round

    round_ = create_round(session, track, kind=kind, name=name, jurors=jurors, **kw)
    if open_now:
        open_round(session, round_, actor=None, storage=storage)
    return round_
