"""The WeChat package (公众号图文) for 「山西职成教育」: a ZIP with the winners of one track in
award order, ready to paste into the official account's editor (issue #5).

Contents (every rule is checked by tests/unit/test_wechat.py):
  * `images/NN_奖项_单位_作品名称.jpg`: body images, JPEG, exactly `BODY_WIDTH_PX` (1080 px)
    wide, each < `MAX_IMAGE_BYTES` (1 MiB, WeChat's article-image upload limit), sRGB
    (untagged, as WeChat expects), no metadata (JFIF header only). A poster taller than
    `MAX_SLICE_HEIGHT_PX` at 1080 px (a 长图; the intake allows 20:1) is cut into even
    slices `…_1.jpg`, `…_2.jpg` that stack seamlessly in the article: at quality 40 even pure
    noise costs 2.6 bits/pixel (measured), so 1080×2400 stays under 1 MiB and the width
    never has to give way to the byte limit.
  * `cover_2.35x1.jpg` (900×383) and `cover_1x1.jpg` (500×500): the largest crop of that
    shape from the chosen winner, centred on the focus point as far as the image allows.
  * `article.html`: the article body, UTF-8 with a BOM (a browser opening the file from disk
    on Chinese Windows otherwise guesses GBK), inline styles only and only the tags
    WeChat's editor keeps (`ALLOWED_TAGS`, attributes `style`/`src`/`alt`), every `<img>`
    pointing at a file of the ZIP. Rendered from templates/wechat/article.html with
    autoescape on, so every entrant-typed text is escaped.
  * `winners.csv` (UTF-8 with BOM, for Excel on Chinese Windows) and `captions.txt` (UTF-8
    with BOM and CRLF line ends, for Notepad): award, title, unit, authors, adviser and
    caption per winner, with the image files' names.

Windows and the Chinese names (PITFALLS #14): Python's zipfile sets the UTF-8 flag (0x800) on
every non-ASCII name; tools that ignore the flag show mojibake, but each name starts with the
ASCII position (`01_`), and the ASCII-named `winners.csv` maps positions to award, title,
unit and file name, so nothing is lost.

Provisional results (decision): a package can be built before the track is finalised, for
layout and cover choice, but it is marked as 拟获奖 (title, heading and a warning line in the
article, the CSV's 结果状态 column, the ZIP's name) and unit, authors and adviser are
withheld (`WECHAT_WITHHELD`, and the entry code stands in for the unit in file names),
exactly as the public notice and the results exports withhold them: finalising is what
reveals names (logged), and a notice is only public after finalisation.

Services only (STYLE.md §2): explicit arguments, no request; `build_package` logs an
`AuditEvent` ('export.wechat') and flushes, the caller commits.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from sqlalchemy.orm import Session

from contest import awards, imaging
from contest.errors import InvalidImage, WechatError
from contest.messages import (AWARD_LABELS, WECHAT_CSV_HEADERS, WECHAT_DIGEST_PATTERN,
                              WECHAT_RESULT_STATE, WECHAT_TITLE_PATTERNS, WECHAT_WINNERS_WORD,
                              WECHAT_WITHHELD)
from contest.models import Entry, FileKind, Track, User, log_event
from contest.models.results import TIER_ORDER
from contest.timeutil import format_local, to_local, utcnow

BODY_WIDTH_PX = 1080
MAX_IMAGE_BYTES = 1024 * 1024  # WeChat's article-image upload limit; every image is below it
MAX_SLICE_HEIGHT_PX = 2400
BODY_QUALITY = 88  # first try; imaging.save_jpeg steps down by 8 to 40 under the limit
COVER_QUALITY = 90
COVERS = {"2.35x1": (900, 383), "1x1": (500, 500)}  # WeChat's two cover shapes, px
COVER_NAMES = {shape: f"cover_{shape}.jpg" for shape in COVERS}
DEFAULT_FOCUS = (0.5, 0.4)  # a poster's main visual usually sits just above its centre
MAX_TITLE_CHARS = 32  # issue #5
MAX_DIGEST_CHARS = 120  # issue #5
ALLOWED_TAGS = frozenset({"section", "p", "span", "strong", "img", "br"})
ALLOWED_ATTRIBUTES = frozenset({"style", "src", "alt"})
ARTICLE_NAME = "article.html"
CSV_NAME = "winners.csv"
CAPTIONS_NAME = "captions.txt"
# Draft decode size for originals, px as displayed: wide enough for the 1080 px body and
# tall enough for a 500 px-high square cover from a landscape image.
_DRAFT_SIZE = (BODY_WIDTH_PX, COVERS["1x1"][1])
# Characters Windows forbids in file names, path separators, control characters, spaces.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
_SPACES = re.compile(r"\s+")
_NAME_PART_CHARS = {"unit": 20, "title": 24}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formula injection
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env: Environment | None = None


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class BodyImage:
    """One body image file: `name` in the ZIP ('images/01_一等奖_单位_作品名称.jpg'), and
    the rows [top_px, top_px + height_px) of the entry's image scaled to 1080 px wide."""

    name: str
    top_px: int
    height_px: int


@dataclass
class PackageItem:
    """One winner as the package shows it. `unit`, `authors`, `adviser` are
    `WECHAT_WITHHELD` until the track is final; `caption_parts`: [(label, text)] of the
    non-empty caption fields (时间、地点、人物、事件)."""

    position: int
    award: str
    tier: str
    entry: Entry
    code: str
    title: str
    unit: str
    authors: str
    adviser: str
    caption_parts: list[tuple[str, str]]
    images: list[BodyImage] = field(default_factory=list)
    is_override: bool = False

    @property
    def caption(self) -> str:
        """'时间：…；地点：…；人物：…；事件：…' (empty fields left out)."""
        return "；".join(f"{label}：{text}" for label, text in self.caption_parts)


@dataclass
class PackagePlan:
    """What the package will contain, without pixels: the article's texts and the file
    names. `focus`: (fx, fy) fractions of the cover image (0-1, left/top = 0)."""

    track: Track
    is_final: bool
    title: str
    digest: str
    items: list[PackageItem]
    cover_entry: Entry
    focus: tuple[float, float]
    tally: list[tuple[str, int]]
    organiser: str
    date_text: str

    @property
    def zip_name(self) -> str:
        """'职业教育活动周_公众号图文.zip' (…_拟获奖.zip before finalisation)."""
        suffix = "" if self.is_final else "_拟获奖"
        return f"{_safe_name(self.track.name)}_公众号图文{suffix}.zip"


# --------------------------------------------------------------------------- pure rules


def crop_box(size: tuple[int, int], aspect: float, focus: tuple[float, float]
             ) -> tuple[int, int, int, int]:
    """The largest crop of `aspect` (width / height) inside an image of `size` (w, h px),
    centred on `focus` (fx, fy fractions) as far as the image bounds allow: a focus near
    an edge pushes the crop against that edge. Returns (left, top, right, bottom) px."""
    w, h = size
    if w / h >= aspect:
        ch = h
        cw = min(w, max(1, round(h * aspect)))
    else:
        cw = w
        ch = min(h, max(1, round(w / aspect)))
    fx, fy = focus
    left = min(max(0, round(fx * w - cw / 2)), w - cw)
    top = min(max(0, round(fy * h - ch / 2)), h - ch)
    return left, top, left + cw, top + ch


def body_height(size: tuple[int, int]) -> int:
    """Height in px of an image of `size` (w, h) scaled to `BODY_WIDTH_PX` wide."""
    w, h = size
    return max(1, round(h * BODY_WIDTH_PX / w))


def slice_rows(height_px: int) -> list[tuple[int, int]]:
    """[(top, height)] px cutting a 1080 px-wide image `height_px` tall into the fewest even
    slices of at most `MAX_SLICE_HEIGHT_PX`; one slice for any ordinary poster (A4 at
    1080 px wide is 1528 px tall)."""
    n = -(-height_px // MAX_SLICE_HEIGHT_PX)
    bounds = [round(i * height_px / n) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1] - bounds[i]) for i in range(n)]


def _safe_name(text: str, limit: int | None = None) -> str:
    """`text` usable in a file name on Windows, macOS and Linux: each run of forbidden
    characters and whitespace becomes one '_', leading/trailing dots and '_' go; capped at
    `limit` characters."""
    text = _UNSAFE_NAME.sub("_", text or "").strip("._")
    if limit is not None:
        text = text[:limit].rstrip("._")
    return text


def image_names(position: int, width: int, award: str, unit_or_code: str, title: str,
                n_slices: int) -> list[str]:
    """ZIP names of a winner's body images: 'images/01_一等奖_单位_作品名称.jpg' (position
    zero-padded to `width` digits; unit ≤ 20 and title ≤ 24 characters, sanitised), with
    '_1', '_2' … when the image is sliced."""
    parts = [f"{position:0{width}d}", _safe_name(award),
             _safe_name(unit_or_code, _NAME_PART_CHARS["unit"]),
             _safe_name(title, _NAME_PART_CHARS["title"])]
    stem = "_".join(p for p in parts if p)
    if n_slices == 1:
        return [f"images/{stem}.jpg"]
    return [f"images/{stem}_{i}.jpg" for i in range(1, n_slices + 1)]


def _position_width(n_winners: int) -> int:
    return max(2, len(str(n_winners)))  # '01_' … '99_', '001_' from 100 winners


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_title(title: str) -> str:
    """`title` with line breaks folded to spaces and ends stripped. Raises `WechatError`
    (wechat_title_too_long) past `MAX_TITLE_CHARS` characters (issue #5: at most 32)."""
    title = _SPACES.sub(" ", title or "").strip()
    if len(title) > MAX_TITLE_CHARS:
        raise WechatError("wechat_title_too_long", max=MAX_TITLE_CHARS, actual=len(title))
    return title


def check_digest(digest: str) -> str:
    """`digest` with line breaks folded to spaces and ends stripped. Raises `WechatError`
    (wechat_digest_too_long) past `MAX_DIGEST_CHARS` characters (issue #5: at most 120)."""
    digest = _SPACES.sub(" ", digest or "").strip()
    if len(digest) > MAX_DIGEST_CHARS:
        raise WechatError("wechat_digest_too_long", max=MAX_DIGEST_CHARS, actual=len(digest))
    return digest


def check_focus(focus: Sequence[float] | None) -> tuple[float, float]:
    """(fx, fy) as floats in 0-1; `DEFAULT_FOCUS` for None. Raises `WechatError`
    (wechat_focus_invalid)."""
    if focus is None:
        return DEFAULT_FOCUS
    try:
        fx, fy = (float(v) for v in focus)
    except (TypeError, ValueError):
        raise WechatError("wechat_focus_invalid", value=str(focus)) from None
    if not (0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
        raise WechatError("wechat_focus_invalid", value=f"{fx:g},{fy:g}")
    return fx, fy


def parse_focus(text: str) -> tuple[float, float]:
    """'0.5,0.4' → (0.5, 0.4) (the CLI's --focus). Raises `WechatError`
    (wechat_focus_invalid)."""
    parts = (text or "").replace("，", ",").split(",")
    if len(parts) != 2:
        raise WechatError("wechat_focus_invalid", value=text)
    return check_focus(parts)


def default_title(contest_name: str, track_name: str, is_final: bool) -> str:
    """The first of `WECHAT_TITLE_PATTERNS` that fits `MAX_TITLE_CHARS`, else the last one
    cut to fit ('…')."""
    words = WECHAT_WINNERS_WORD[is_final]
    for pattern in WECHAT_TITLE_PATTERNS:
        text = pattern.format(contest=contest_name, track=track_name, winners=words)
        if len(text) <= MAX_TITLE_CHARS:
            return text
    return _trim(text, MAX_TITLE_CHARS)


def default_digest(contest_name: str, track_name: str, organiser: str, is_final: bool,
                   tally: Sequence[tuple[str, int]]) -> str:
    """The digest from `WECHAT_DIGEST_PATTERN` (contest, track, count per award), cut to
    `MAX_DIGEST_CHARS` ('…')."""
    text = WECHAT_DIGEST_PATTERN[is_final].format(
        contest=contest_name, track=track_name, organiser=organiser,
        n=sum(n for _, n in tally), tally="、".join(f"{label}{n}件" for label, n in tally))
    return _trim(text, MAX_DIGEST_CHARS)


# --------------------------------------------------------------------------- plan


def _caption_parts(entry: Entry) -> list[tuple[str, str]]:
    fields = (("时间", entry.caption_time), ("地点", entry.caption_place),
              ("人物", entry.caption_people), ("事件", entry.caption_event))
    return [(label, _SPACES.sub(" ", text).strip()) for label, text in fields
            if (text or "").strip()]


def header_size(entry: Entry, storage) -> tuple[int, int]:  # noqa: ANN001
    """(width, height) px of `entry`'s current original as displayed, read from the file's
    header (EXIF orientation applied, pixels not decoded): the geometry `plan_package`
    slices by, for the preview and the package alike. Raises `WechatError`
    (wechat_image_missing, wechat_image_unreadable)."""
    path = _original_path(entry, storage)
    try:
        with Image.open(path) as im:
            orientation = imaging.read_orientation(im)
            w, h = im.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise WechatError("wechat_image_unreadable", entry_code=entry.code or "") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _original_path(entry: Entry, storage) -> Path:  # noqa: ANN001
    original = entry.current_file(FileKind.original)
    if original is None:
        raise WechatError("wechat_image_missing", entry_code=entry.code or "")
    try:
        path = storage.path(original.storage_key)
    except ValueError:
        raise WechatError("wechat_image_missing", entry_code=entry.code or "") from None
    if not path.is_file():
        raise WechatError("wechat_image_missing", entry_code=entry.code or "")
    return path


def plan_package(session: Session, track: Track, *, cover_entry: Entry | None = None,
                 focus: Sequence[float] | None = None, title: str | None = None,
                 digest: str | None = None, storage) -> PackagePlan:  # noqa: ANN001
    """The package of `track`'s winners (`awards.winners`, award order) without pixels:
    texts, file names and slices. `cover_entry`: a winner (default: the first).
    `focus`: (fx, fy) 0-1 (default `DEFAULT_FOCUS`). `title`/`digest`: None or blank for
    the defaults. `storage`: the LocalStorage holding the originals (their headers give
    the sizes, `header_size`). Raises `WechatError` (wechat_no_winners,
    wechat_cover_not_winner, wechat_focus_invalid, wechat_title_too_long,
    wechat_digest_too_long, wechat_image_missing, wechat_image_unreadable)."""
    won = awards.winners(session, track)
    if not won:
        raise WechatError("wechat_no_winners", track=track.name)
    is_final = awards.is_finalised(session, track)
    focus = check_focus(focus)
    if cover_entry is None:
        cover_entry = won[0].entry
    elif all(w.entry.id != cover_entry.id for w in won):
        raise WechatError("wechat_cover_not_winner", entry_code=cover_entry.code or "")
    counts = Counter(w.tier for w in won)
    tally = [(AWARD_LABELS[t.value], counts[t]) for t in TIER_ORDER if counts[t]]
    contest = track.contest
    title = check_title(title or "") or default_title(contest.name, track.name, is_final)
    digest = check_digest(digest or "") or default_digest(
        contest.name, track.name, contest.organiser, is_final, tally)
    width = _position_width(len(won))
    items = []
    for w in won:
        e = w.entry
        award = AWARD_LABELS[w.tier.value]
        slices = slice_rows(body_height(header_size(e, storage)))
        names = image_names(w.position, width, award, e.unit.name if is_final else e.code or "",
                            e.title, len(slices))
        items.append(PackageItem(
            position=w.position, award=award, tier=w.tier.value, entry=e, code=e.code or "",
            title=e.title, unit=e.unit.name if is_final else WECHAT_WITHHELD,
            authors=(e.authors if is_final else WECHAT_WITHHELD),
            adviser=(e.adviser if is_final else WECHAT_WITHHELD),
            caption_parts=_caption_parts(e), is_override=w.is_override,
            images=[BodyImage(name, top, h) for name, (top, h) in zip(names, slices,
                                                                       strict=True)]))
    when = awards.get_plan(session, track).finalised_at if is_final else None
    return PackagePlan(track=track, is_final=is_final, title=title, digest=digest, items=items,
                       cover_entry=cover_entry, focus=focus, tally=tally,
                       organiser=contest.organiser,
                       date_text=format_local(when or utcnow(), with_time=False))


# --------------------------------------------------------------------------- rendering


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(_TEMPLATES)),
                           autoescape=select_autoescape(["html"]), trim_blocks=True,
                           lstrip_blocks=True, keep_trailing_newline=True)
    return _env


def render_article(plan: PackagePlan, image_url: Callable[[BodyImage], str] | None = None
                   ) -> str:
    """article.html's body (a fragment: `ALLOWED_TAGS` with inline styles only), text
    escaped. `image_url(body_image)` gives each `<img src>`; default: the name in the ZIP
    ('images/…'); the preview page passes its own URLs and changes nothing else."""
    return _environment().get_template("wechat/article.html").render(
        plan=plan, src=image_url or (lambda img: img.name))


def render_captions(plan: PackagePlan) -> str:
    """captions.txt's text (LF line ends; `build_package` writes CRLF with a BOM)."""
    return _environment().get_template("wechat/captions.txt").render(plan=plan)


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def winners_csv(plan: PackagePlan) -> bytes:
    """winners.csv: UTF-8 with BOM (Excel on Chinese Windows), CRLF rows, one per winner in
    award order with `WECHAT_CSV_HEADERS`; text a spreadsheet would run as a formula gets
    a leading apostrophe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(WECHAT_CSV_HEADERS)
    state = WECHAT_RESULT_STATE[plan.is_final]
    for it in plan.items:
        cap = dict(it.caption_parts)
        writer.writerow([_cell(v) for v in (
            f"{it.position:02d}", it.award, it.code, it.title, it.unit, it.authors, it.adviser,
            cap.get("时间", ""), cap.get("地点", ""), cap.get("人物", ""), cap.get("事件", ""),
            "；".join(img.name for img in it.images), state)])
    return buf.getvalue().encode("utf-8-sig")


# --------------------------------------------------------------------------- pixels


def load_original(entry: Entry, storage) -> Image.Image:  # noqa: ANN001
    """`entry`'s current original as displayed (`imaging.load_normalised`: orientation,
    sRGB, no metadata), decoded at a reduced DCT scale that still covers the body width
    and the square cover's height. Raises `WechatError` (wechat_image_missing,
    wechat_image_unreadable)."""
    path = _original_path(entry, storage)
    try:
        return imaging.load_normalised(path, draft_size=_DRAFT_SIZE)
    except InvalidImage:
        raise WechatError("wechat_image_unreadable", entry_code=entry.code or "") from None


def body_jpegs(img: Image.Image, images: Sequence[BodyImage]) -> list[bytes]:
    """Encode `img` scaled to exactly 1080 px wide and cut into `images`' rows: one
    metadata-free JPEG each (`imaging.save_jpeg`, quality lowered in steps under
    `MAX_IMAGE_BYTES`). Raises `WechatError` (wechat_image_budget) if one is still too
    large or lost its width (cannot happen below `MAX_SLICE_HEIGHT_PX`; see the module
    docstring)."""
    height = sum(b.height_px for b in images)
    if img.size != (BODY_WIDTH_PX, height):
        img = img.resize((BODY_WIDTH_PX, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = []
    for b in images:
        part = img if len(images) == 1 else img.crop((0, b.top_px, BODY_WIDTH_PX,
                                                      b.top_px + b.height_px))
        buf = io.BytesIO()
        size = imaging.save_jpeg(part, buf, quality=BODY_QUALITY, max_bytes=MAX_IMAGE_BYTES - 1)
        data = buf.getvalue()
        if size[0] != BODY_WIDTH_PX or len(data) >= MAX_IMAGE_BYTES:
            raise WechatError("wechat_image_budget", name=b.name, size=len(data))
        out.append(data)
    return out


def cover_jpeg(img: Image.Image, shape: str, focus: tuple[float, float]) -> bytes:
    """The cover of `shape` ('2.35x1' → 900×383, '1x1' → 500×500 px) cropped from `img`
    around `focus` (`crop_box`), as a metadata-free JPEG under `MAX_IMAGE_BYTES`."""
    target = COVERS[shape]
    box = crop_box(img.size, target[0] / target[1], focus)
    cover = img.crop(box).resize(target, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    imaging.save_jpeg(cover, buf, quality=COVER_QUALITY, max_bytes=MAX_IMAGE_BYTES - 1)
    return buf.getvalue()


# --------------------------------------------------------------------------- the ZIP


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes, when: datetime, *,
               compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, when.hour,
                                            when.minute, when.second))
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build_package(session: Session, track: Track, *, cover_entry: Entry | None = None,
                  focus: Sequence[float] | None = None, title: str | None = None,
                  digest: str | None = None, storage, actor: User | None = None  # noqa: ANN001
                  ) -> bytes:
    """The WeChat package of `track`'s winners as ZIP bytes (module docstring: contents,
    sizes, names, provisional marking). Arguments as `plan_package`; `storage`: the
    LocalStorage holding the originals; `actor`: who exports (None from the CLI).
    Logged 'export.wechat' (track, winners, cover entry, focus, title, whether final).
    Raises `WechatError` (see `plan_package`, `load_original`, `body_jpegs`)."""
    plan = plan_package(session, track, cover_entry=cover_entry, focus=focus, title=title,
                        digest=digest, storage=storage)
    covers: dict[str, bytes] = {}
    bodies: list[tuple[str, bytes]] = []
    for it in plan.items:  # one decoded original in memory at a time
        img = load_original(it.entry, storage)
        if it.entry.id == plan.cover_entry.id:
            covers = {shape: cover_jpeg(img, shape, plan.focus) for shape in COVERS}
        if abs(body_height(img.size) - sum(b.height_px for b in it.images)) > 2:
            # the header disagreed with the decoded image (a PNG's eXIf after its pixels):
            # slice by what is really there
            slices = slice_rows(body_height(img.size))
            names = image_names(it.position, _position_width(len(plan.items)), it.award,
                                it.entry.unit.name if plan.is_final else it.code, it.title,
                                len(slices))
            it.images = [BodyImage(n, top, h) for n, (top, h) in zip(names, slices,
                                                                      strict=True)]
        bodies.extend(zip((b.name for b in it.images), body_jpegs(img, it.images),
                          strict=True))
        del img
    when = to_local(utcnow())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _zip_write(zf, ARTICLE_NAME, render_article(plan).encode("utf-8-sig"), when,
                   compress=True)
        for shape, name in COVER_NAMES.items():
            _zip_write(zf, name, covers[shape], when, compress=False)
        _zip_write(zf, CSV_NAME, winners_csv(plan), when, compress=True)
        captions = render_captions(plan).replace("\r\n", "\n").replace("\n", "\r\n")
        _zip_write(zf, CAPTIONS_NAME, captions.encode("utf-8-sig"), when, compress=True)
        for name, data in bodies:
            _zip_write(zf, name, data, when, compress=False)
    log_event(session, actor, "export.wechat", track,
              new={"track": str(track.kind), "winners": len(plan.items),
                   "cover": plan.cover_entry.code, "focus": list(plan.focus),
                   "title": plan.title, "is_final": plan.is_final})
    return buf.getvalue()
