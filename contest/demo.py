"""The demo contest (`flask --app contest seed-demo`): this year's contest with both tracks,
the 11 cities, about 20 entrant units across cities and unit types, one demo account per
role, and about a dozen entries whose posters are composed at poster size from the
public-domain photos in static/img/samples (credits in its LICENSES.md).

Entries go through the real entries service (`contest.entries`): originals stored
content-addressed, preview and thumbnail derivatives, fingerprints and duplicate flags
via the dedup hook. Two entries are deliberate cases for the duplicate-review queue:
one unit resubmits another unit's poster resized, and two units use the same photo
template with different text.

Stages build on each other: `seed_demo` runs the base (the entry stage), then, for
`judging` and `results`, the clearly named later steps (`seed_judging_stage`,
`seed_results_stage`), which the judging and results areas fill in.

Services only (STYLE.md §2): explicit session and settings; flush, never commit. Image
files are written before the rows (contest.entries' order); when `seed_demo` raises, it
has already removed the files it wrote, and the caller rolls back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import demo_posters
from contest.errors import ContestError
from contest.models import (TRACK_DEFAULTS, AIUse, Contest, Entry, Role, Track, TrackKind, Unit,
                            UnitType, User)
from contest.reference_data import ensure_cities
from contest.timeutil import local_to_utc, to_local, utcnow

STAGES = ("entry", "judging", "results")
DEMO_MARK = "（演示）"  # ends the demo contest's name; how --skip-if-present finds it
DEMO_PASSWORD = "demo1234"  # printed with the logins; demo accounts only
SUBMISSION_DAYS_LEFT = 21  # the demo's deadline: about three weeks ahead, end of that day
PHOTOS = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg", "rocket.jpg", "hubble_deep_field.jpg")
DEFAULT_SAMPLES_DIR = Path(__file__).resolve().parent.parent / "static" / "img" / "samples"


class DemoError(ContestError):
    """The demo cannot be loaded. `reason`: 'exists' (a demo contest is already there;
    params name) or 'photos' (sample photos missing; params missing, folder)."""

    code = "demo"


@dataclass(frozen=True)
class DemoAccount:
    """A demo login. `unit`: the entrant's unit, or a juror's own school (for 回避)."""

    login: str
    role: Role
    display_name: str
    unit: str | None = None
    note: str = ""


DEMO_ACCOUNTS = (
    DemoAccount("demo_school", Role.entrant, "山西工程科技职业大学 宣传部", "山西工程科技职业大学",
                "山西工程科技职业大学：可新建、暂存、提交作品"),
    DemoAccount("demo_juror", Role.juror, "王建国（评审专家）"),
    DemoAccount("demo_juror2", Role.juror, "李秀英（评审专家）"),
    DemoAccount("demo_juror3", Role.juror, "张伟（评审专家）"),
    DemoAccount("demo_juror4", Role.juror, "赵丽（评审专家）"),
    DemoAccount("demo_juror5", Role.juror, "陈明（评审专家）", "太原城市职业技术学院",
                "本人来自太原城市职业技术学院：对该校作品回避"),
    DemoAccount("demo_editor", Role.editor, "刘编辑（《山西教育》杂志社）"),
    DemoAccount("demo_admin", Role.admin, "系统管理员"),
)

# (name, city, unit type): realistic Shanxi entrant units across the 11 cities.
DEMO_UNITS: tuple[tuple[str, str, UnitType], ...] = (
    ("山西工程科技职业大学", "晋中市", UnitType.higher_vocational),
    ("太原城市职业技术学院", "太原市", UnitType.higher_vocational),
    ("山西省财政税务专科学校", "太原市", UnitType.higher_vocational),
    ("山西开放大学", "太原市", UnitType.open_university),
    ("太原市小店区社区学习中心", "太原市", UnitType.community_learning_centre),
    ("大同市第一职业中学", "大同市", UnitType.secondary_vocational),
    ("大同煤炭职业技术学院", "大同市", UnitType.higher_vocational),
    ("阳泉职业技术学院", "阳泉市", UnitType.higher_vocational),
    ("长治职业技术学院", "长治市", UnitType.higher_vocational),
    ("山西开放大学长治分校", "长治市", UnitType.open_university),
    ("晋城职业技术学院", "晋城市", UnitType.higher_vocational),
    ("高平市职业教育中心", "晋城市", UnitType.secondary_vocational),
    ("朔州职业技术学院", "朔州市", UnitType.higher_vocational),
    ("晋中市社区学习中心", "晋中市", UnitType.community_learning_centre),
    ("运城职业技术大学", "运城市", UnitType.higher_vocational),
    ("运城市盐湖区职业中学", "运城市", UnitType.secondary_vocational),
    ("忻州职业技术学院", "忻州市", UnitType.higher_vocational),
    ("临汾职业技术学院", "临汾市", UnitType.higher_vocational),
    ("山西开放大学临汾分校", "临汾市", UnitType.open_university),
    ("吕梁职业技术学院", "吕梁市", UnitType.higher_vocational),
    ("吕梁市教育局", "吕梁市", UnitType.city_bureau),
)


@dataclass(frozen=True)
class DemoEntry:
    """One demo entry. `photo`/`layout`/`seed`/`colour` make the poster (contest.demo_posters);
    `copy_of`: index of an earlier spec whose poster this one resubmits, resized by `scale`
    (a duplicate); `template_of`: index of an earlier spec whose photo template this one
    reuses with its own text (similar). `submit`: False leaves a draft."""

    unit: str
    track: TrackKind
    title: str
    title_en: str
    lines: tuple[str, ...]
    authors: str
    adviser: str
    statement: str
    caption: tuple[str, str, str, str]  # time (month and day; the year is added), place,
    # people, event
    photo: str
    layout: str = "band"
    seed: int = 1
    colour: tuple[int, int, int] | None = None
    ai_use: AIUse = AIUse.none
    submit: bool = True
    copy_of: int | None = None
    scale: float = 0.86
    template_of: int | None = None


VET, LLL = TrackKind.vet_week, TrackKind.lifelong_week

# Each poster that is not a deliberate duplicate case uses its own (photo, layout) pair: the
# two deliberate cases below are the only copy and the only template pair. With five photos
# for eleven posters, posters that share a photo in another layout may still be queued as
# "similar" (one photo used twice), which is for editors to judge, as in a real contest.

DEMO_ENTRIES: tuple[DemoEntry, ...] = (
    DemoEntry("山西工程科技职业大学", VET, "匠心筑梦 技能报国", "Craftsmanship builds dreams",
              ("以航天工匠为榜样，在实训车间里锤炼本领。", "技能成才，强国有我。"),
              "王晓峰、李佳怡", "张建华",
              "海报以火箭发射塔为主体，象征职业院校学子以精湛技能托举大国重器。下方色带采用深蓝，"
              "寓意工匠精神的沉稳与坚守。",
              ("5月6日", "学校智能制造实训中心", "机电工程学院师生", "职业教育活动周校园开放日"),
              "rocket.jpg", "band", seed=11),
    DemoEntry("太原城市职业技术学院", VET, "一杯咖啡里的职业梦", "A career in every cup",
              ("咖啡师专业学生的第一杯拉花，", "是手艺，也是梦想的开始。"),
              "刘一鸣", "孙丽萍",
              "以咖啡为切入点，展现现代服务业专业学生在实训中成长的过程，倡导“一技在手、一生无忧”。",
              ("5月8日", "学校咖啡实训室", "旅游管理专业学生", "咖啡师技能展示"),
              "coffee.jpg", "band", seed=12),
    DemoEntry("大同市第一职业中学", VET, "技能点亮人生", "Skills light up life",
              ("从课堂到岗位，从学徒到能手。", "每一次练习，都离梦想更近一步。"),
              "赵子涵、高宇", "马志强",
              "借航天员的笑容表达职业教育带给青年的自信，强调技能成才的多样路径。",
              ("5月7日", "学校报告厅", "全校师生", "职业教育活动周启动仪式"),
              "astronaut.jpg", "band", seed=13),
    DemoEntry("山西开放大学", LLL, "终身学习 星辰大海", "Learning without limits",
              ("学习没有终点，", "每一颗星都是一次新的出发。"),
              "周文静", "",
              "以深空星图比喻知识的广阔，呼吁人人皆学、处处能学、时时可学。",
              ("5月9日", "山西开放大学", "开放教育学员", "全民终身学习活动周宣传"),
              "hubble_deep_field.jpg", "overlay", seed=14, ai_use=AIUse.assisted),
    DemoEntry("晋中市社区学习中心", LLL, "社区学堂 乐享生活", "Community classroom",
              ("宠物护理、书法、智能手机课……", "家门口的课堂，温暖每一位居民。"),
              "社区学习中心工作组", "",
              "以居民熟悉的小猫为主角，展示社区学习中心开设的生活技能课程，亲切自然。",
              ("5月10日", "晋中市榆次区社区学习中心", "社区居民", "社区生活技能课堂"),
              "chelsea.jpg", "framed", seed=15),
    DemoEntry("长治职业技术学院", VET, "航天精神 工匠传承", "Aerospace craftsmanship",
              ("严谨、精细、协作、创新，", "让工匠精神代代相传。"),
              "冯博、吴倩", "郭海军",
              "以发射塔夜景为主体，突出航天精神与职业教育的契合，构图上采用中国红底色与白色相框。",
              ("5月6日", "学校数控实训基地", "数控技术专业学生", "技能大师进校园"),
              "rocket.jpg", "framed", seed=16, colour=(120, 24, 32)),
    DemoEntry("运城职业技术大学", VET, "每一份手艺都值得尊重", "Every craft deserves respect",
              ("从一杯咖啡到一桌好菜，", "服务的温度来自手艺的精度。"),
              "杨帆", "韩冬梅",
              "以白色相框式构图呈现作品，突出“手艺”的主题，倡导尊重劳动、尊重技能。",
              ("5月8日", "学校烹饪与餐饮实训楼", "餐饮专业师生", "职业技能开放体验"),
              "coffee.jpg", "framed", seed=17),
    DemoEntry("吕梁职业技术学院", LLL, "学无止境", "Never stop learning",
              ("仰望星空，也脚踏实地。", "终身学习，成就更好的自己。"),
              "贺晓东、白雪", "曹永刚",
              "以哈勃深空照片为背景，用简洁的标题表达终身学习的理念。",
              ("5月11日", "学校图书馆", "继续教育学院学员", "读书分享会"),
              "hubble_deep_field.jpg", "band", seed=18),
    DemoEntry("忻州职业技术学院", VET, "职教有为 青春出彩", "Youth shines through skills",
              ("选择职业教育，", "同样可以拥有精彩人生。"),
              "任佳", "田志勇",
              "以相框构图突出人物，传递职业教育学子的自信与阳光。",
              ("5月7日", "学校体育馆", "新能源汽车专业学生", "技能风采展示"),
              "astronaut.jpg", "framed", seed=19),
    DemoEntry("山西开放大学临汾分校", LLL, "人人皆学 处处能学", "Learning for everyone",
              ("在社区，在线上，在身边，", "学习随时发生。"),
              "临汾分校宣传组", "",
              "以温馨的生活场景表现学习无处不在，整体采用暖色调。",
              ("5月12日", "临汾市尧都区社区教学点", "社区学员", "终身学习体验日"),
              "chelsea.jpg", "overlay", seed=20),
    # Duplicate-review cases (RULES.md: editors decide; nothing is refused automatically):
    # another unit's poster resubmitted at 86 % size ...
    DemoEntry("朔州职业技术学院", VET, "咖啡飘香 技能成才", "Skills brewing",
              (),  # not drawn: the poster is the copied one
              "李强", "王芳",
              "以咖啡实训为主题，表现现代服务业专业学生的成长。",
              ("5月9日", "学校实训楼", "酒店管理专业学生", "技能展示周"),
              "coffee.jpg", copy_of=1),
    # ... and a second unit using the same photo template with its own words.
    DemoEntry("阳泉职业技术学院", VET, "技能强国 青春有我", "Skilled youth, strong nation",
              ("同一模板，不同的文字：", "查重时应显示为“相似”，由编辑判断。"),
              "郝敏", "牛建军",
              "使用与其他单位相同的海报模板，替换了标题和正文文字。",
              ("5月10日", "学校大礼堂", "全体新生", "职业教育活动周主题班会"),
              "astronaut.jpg", template_of=2),
    DemoEntry("山西工程科技职业大学", LLL, "书香校园 终身成长", "Reading for life",
              ("暂存的作品：请补充后提交。",),
              "王晓峰", "张建华",
              "（暂存中）以一杯咖啡的宁静画面表达阅读带来的成长。",
              ("5月11日", "学校图书馆", "读书社成员", "读书月活动"),
              "coffee.jpg", "overlay", seed=21, submit=False),
)


@dataclass
class DemoReport:
    """What `seed_demo` did. `accounts`: (DemoAccount, password) printed for the user;
    `entries`: the created entries in spec order; `notes`: remarks about later stages;
    `seconds_per_poster`: mean wall time to compose one poster (s); `name_boxes`: entry id →
    (x, y, w, h) fractions of the poster where its unit's name is painted."""

    contest: Contest
    stage: str
    accounts: list[tuple[DemoAccount, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cjk_font: bool = True
    seconds_per_poster: float = 0.0
    name_boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)


def find_demo_contest(session: Session) -> Contest | None:
    """The demo contest (name ending in DEMO_MARK), newest first; None if absent."""
    return session.scalar(select(Contest).where(Contest.name.endswith(DEMO_MARK))
                          .order_by(Contest.id.desc()).limit(1))


def demo_contest_name(year: int) -> str:
    return f"{year}年职业教育活动周、全民终身学习活动周主题海报大赛{DEMO_MARK}"


def check_samples(samples_dir: Path) -> None:
    """Raise DemoError(reason='photos') unless every photo of PHOTOS is in `samples_dir`."""
    missing = [p for p in PHOTOS if not (Path(samples_dir) / p).is_file()]
    if missing:
        raise DemoError(reason="photos", missing=missing, folder=str(samples_dir))


def seed_demo(session: Session, stage: str = "entry", samples_dir: Path | None = None, *,
              config: Mapping[str, Any], storage: Any, entries: int | None = None,
              now: datetime | None = None,
              progress: Callable[[str], None] = lambda _msg: None) -> DemoReport:
    """Load the demo contest up to `stage` ('entry' | 'judging' | 'results').

    `samples_dir`: folder with the five sample photos (default static/img/samples).
    `config`: the app's settings (MAX_IMAGE_PIXELS, PREVIEW_LONG_EDGE_PX,
    THUMB_LONG_EDGE_PX). `storage`: contest.storage.LocalStorage. `entries`: make only the
    first N demo entries (None: all ~13; tests use a few, composing a poster takes ~1 s).
    `progress`: called with a short line per entry.

    Raises DemoError('exists') if a demo contest is there, DemoError('photos'),
    ContestError from the entries service. Flushes; never commits.
    """
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    existing = find_demo_contest(session)
    if existing is not None:
        raise DemoError(reason="exists", name=existing.name)
    samples_dir = Path(samples_dir or DEFAULT_SAMPLES_DIR)
    check_samples(samples_dir)
    report = seed_entry_stage(session, samples_dir, config=config, storage=storage,
                              entries=entries, now=now, progress=progress)
    report.stage = stage
    if stage in ("judging", "results"):
        seed_judging_stage(session, report)
    if stage == "results":
        seed_results_stage(session, report)
    return report


def seed_judging_stage(session: Session, report: DemoReport) -> None:
    """Judging stage of the demo: per track a first round (初评) over the eligible entries
    with the default rubric, opened with demo_juror … demo_juror5 (3 jurors per entry, so
    the demo juror can start at once; demo_juror5 never gets their own school's entries).
    Juror images are built with the app's storage (`get_storage()`)."""
    from contest.anonymise import add_redaction
    from contest.rounds import create_round, eligible_entries, open_round

    editor = session.scalar(select(User).where(User.login == "demo_editor"))
    redacted = 0
    for entry in report.entries:  # schools paint their name on posters: cover it for jurors
        box = report.name_boxes.get(entry.id)
        if box is not None and entry.is_eligible:
            add_redaction(session, entry, *box, actor=editor)
            redacted += 1
    if redacted:
        report.notes.append(f"已遮挡{redacted}件海报上印的单位名称（评委看到的图片中为灰色方块；"
                            "编辑可在“评审轮次 → 遮挡”中查看和修改）。")
    jurors = [session.scalar(select(User).where(User.login == login))
              for login in ("demo_juror", "demo_juror2", "demo_juror3", "demo_juror4",
                            "demo_juror5")]
    for track in report.contest.tracks:
        if not eligible_entries(session, track):
            report.notes.append(f"{track.name}：没有已提交的作品，未创建评审轮次。")
            continue
        round_ = create_round(session, track, kind="preliminary", name=f"初评（{track.name}）",
                              jurors=[j for j in jurors if j is not None], jurors_per_entry=3,
                              seed=2024)
        assigned = open_round(session, round_, actor=None)
        report.notes.append(f"{track.name}：已开启“{round_.name}”，"
                            f"{len(round_.round_entries)}件作品，每件{round_.jurors_per_entry}位评委"
                            f"（共分配{assigned.total_active}次）。")


def seed_results_stage(session: Session, report: DemoReport) -> None:
    """Results stage of the demo: every round scored by the demo jurors and closed, a final
    round from the shortlist where a track has enough entries, awards placed, 优秀组织奖
    proposed, the public notice dated from today, results finalised (contest.demo_results)."""
    from datetime import timedelta

    from contest.demo_results import seed_results

    # results are final: the contest is over, so its submission window closed before judging
    report.contest.submissions_close_at = utcnow() - timedelta(days=10)
    session.flush()
    report.notes.append("结果阶段：投稿已于10天前截止。")
    seed_results(session, report)


def seed_entry_stage(session: Session, samples_dir: Path, *, config: Mapping[str, Any],
                     storage: Any, entries: int | None = None, now: datetime | None = None,
                     progress: Callable[[str], None] = lambda _msg: None) -> DemoReport:
    """The base of every stage: contest, tracks, cities, units, accounts and entries (see
    `seed_demo` for the arguments). The contest opened two weeks ago and closes at 23:59
    China Standard Time `SUBMISSION_DAYS_LEFT` days from today, so entrants can submit."""
    now = now or utcnow()
    contest = _make_contest(session, now)
    cities = ensure_cities(session)
    units = {}
    for name, city, unit_type in DEMO_UNITS:
        unit = session.scalar(select(Unit).where(Unit.name == name))
        if unit is None:
            unit = Unit(name=name)
            session.add(unit)
        unit.city, unit.unit_type = cities[city], unit_type
        units[name] = unit
    session.flush()
    report = DemoReport(contest=contest, stage="entry",
                        cjk_font=demo_posters.find_cjk_fonts() is not None)
    users = {}
    for account in DEMO_ACCOUNTS:
        users[account.login] = _ensure_account(session, account, units)
        report.accounts.append((account, DEMO_PASSWORD))
    specs = DEMO_ENTRIES[:entries] if entries is not None else DEMO_ENTRIES
    _make_entries(session, report, specs, units, users, samples_dir, config=config,
                  storage=storage, progress=progress)
    return report


def _make_contest(session: Session, now: datetime) -> Contest:
    local_today = to_local(now).date()
    close_local = datetime.combine(local_today + timedelta(days=SUBMISSION_DAYS_LEFT),
                                   datetime.min.time()).replace(hour=23, minute=59)
    contest = Contest(name=demo_contest_name(local_today.year), year=local_today.year,
                      submissions_open_at=now - timedelta(days=14),
                      submissions_close_at=local_to_utc(close_local))
    session.add(contest)
    session.flush()
    for kind in TrackKind:
        name, prefix = TRACK_DEFAULTS[kind]
        session.add(Track(contest=contest, kind=kind, name=name, code_prefix=prefix))
    session.flush()
    return contest


def _ensure_account(session: Session, account: DemoAccount, units: dict[str, Unit]) -> User:
    user = session.scalar(select(User).where(User.login == account.login))
    if user is None:
        user = User(login=account.login, role=account.role)
        session.add(user)
    user.role = account.role
    user.display_name = account.display_name
    user.unit = units[account.unit] if account.unit else None
    user.set_password(DEMO_PASSWORD)
    user.must_change_password = False
    user.is_active_account = True
    session.flush()
    return user


def _make_entries(session: Session, report: DemoReport, specs: tuple[DemoEntry, ...],
                  units: dict[str, Unit], users: dict[str, User], samples_dir: Path, *,
                  config: Mapping[str, Any], storage: Any,
                  progress: Callable[[str], None]) -> None:
    import time

    from contest import entries as entries_service

    fonts = demo_posters.find_cjk_fonts()
    rules = entries_service.intake_rules(report.contest, config["MAX_IMAGE_PIXELS"])
    entrant_of_unit = {u.unit.name: u for u in users.values()
                       if u.role == Role.entrant and u.unit is not None}
    editor = users["demo_editor"]
    keep = {s.copy_of for s in specs if s.copy_of is not None}
    posters: dict[int, Image.Image] = {}
    prepared_all = []
    compose_seconds = 0.0
    name_box_of: dict[int, list[tuple[int, int, int, int]]] = {}
    track_name = {k: TRACK_DEFAULTS[k][0] for k in TrackKind}
    try:
        with tempfile.TemporaryDirectory(prefix="seed-demo-") as tmp:
            for i, spec in enumerate(specs):
                started = time.perf_counter()
                boxes: list[tuple[int, int, int, int]] = []
                if spec.copy_of is not None:
                    src = posters[spec.copy_of]
                    image = src.resize((int(src.width * spec.scale),
                                        int(src.height * spec.scale)),
                                       Image.Resampling.LANCZOS)
                else:
                    base = specs[spec.template_of] if spec.template_of is not None else spec
                    text = demo_posters.PosterText(
                        title=spec.title,
                        subtitle=f"{report.contest.year}年{track_name[spec.track]}",
                        lines=spec.lines, footer=spec.unit, title_en=spec.title_en,
                        subtitle_en=("VET Week " if spec.track == VET else
                                     "Lifelong Learning Week ") + str(report.contest.year))
                    image = demo_posters.compose_poster(
                        samples_dir / base.photo, text, layout=base.layout, seed=base.seed,
                        colour=base.colour, fonts=fonts, name_boxes=boxes)
                if i in keep:
                    posters[i] = image
                    name_box_of[i] = boxes
                if spec.copy_of is not None:
                    boxes = name_box_of.get(spec.copy_of, [])
                data = demo_posters.encode_jpeg(image)
                compose_seconds += time.perf_counter() - started
                filename = f"{spec.unit}-{spec.title}.jpg"
                path = Path(tmp) / f"poster-{i:02d}.jpg"
                path.write_bytes(data)
                prepared = entries_service.prepare_image(
                    path, rules=rules, storage=storage, original_filename=filename,
                    preview_long_edge_px=config["PREVIEW_LONG_EDGE_PX"],
                    thumb_long_edge_px=config["THUMB_LONG_EDGE_PX"])
                prepared_all.append(prepared)
                entrant = entrant_of_unit.get(spec.unit)
                data_sent = _entry_data(spec, report.contest.year)
                entry = entries_service.create_draft(
                    session, contest=report.contest, track=report.contest.track(spec.track),
                    unit=units[spec.unit], data=data_sent,
                    created_by=entrant or editor, source="web" if entrant else "import")
                entries_service.attach_image(session, entry, prepared, actor=entrant or editor)
                if spec.submit:
                    entries_service.submit_entry(session, entry, actor=entrant or editor,
                                                 data=data_sent)
                report.entries.append(entry)
                if boxes:
                    report.name_boxes[entry.id] = _name_fraction(boxes[0])
                progress(f"{entry.code or '暂存'}\t{spec.unit}\t{spec.title}\t"
                         f"{len(data) / demo_posters.MIB:.1f}MB")
    except BaseException:
        for prepared in prepared_all:  # the caller rolls back; leave no orphan files
            for key in prepared.keys_created:
                try:
                    storage.delete(key)
                except (FileNotFoundError, ValueError):
                    pass
        raise
    report.seconds_per_poster = compose_seconds / max(1, len(specs))


def _name_fraction(box: tuple[int, int, int, int], margin_px: int = 24
                   ) -> tuple[float, float, float, float]:
    """A painted name's pixel box on a POSTER_W×POSTER_H poster → (x, y, w, h) fractions,
    with a margin, clipped to the poster (the form redactions take)."""
    W, H = demo_posters.POSTER_W, demo_posters.POSTER_H
    x0, y0 = max(0, box[0] - margin_px), max(0, box[1] - margin_px)
    x1, y1 = min(W, box[2] + margin_px), min(H, box[3] + margin_px)
    return x0 / W, y0 / H, (x1 - x0) / W, (y1 - y0) / H


def _entry_data(spec: DemoEntry, year: int) -> Any:
    from contest.entries import EntryData

    time_, place, people, event = spec.caption
    return EntryData(title=spec.title, authors=spec.authors, adviser=spec.adviser,
                     statement=spec.statement, caption_time=f"{year}年{time_}", caption_place=place,
                     caption_people=people, caption_event=event, ai_use=spec.ai_use,
                     content_review_confirmed=True,
                     content_reviewer=f"{spec.unit}宣传部", originality_confirmed=True)
