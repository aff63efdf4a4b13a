"""Editors' view of the entries: filtering, counts per filter value, and participation
statistics per city and unit type.

RULES.md ("When"): after the weeks the department publishes feedback per city and school,
so participation statistics per city and unit type are part of the job. Statistics count
submitted entries only (drafts, withdrawn and disqualified entries are not participation);
the list and its filter counts cover every status, since editors must see them all.

Services only (STYLE.md §2): explicit session and contest, no Flask, no commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from contest.models import City, Contest, Entry, EntryStatus, Track, TrackKind, Unit, UnitType

FACETS = ("track", "city", "unit_type", "status")


@dataclass(frozen=True)
class EntryFilters:
    """Filters of the editors' entry list. Every field `None` means "all".
    `track`: TrackKind; `city`: GB/T 2260 city code ('140100'); `unit_type`: UnitType;
    `status`: EntryStatus; `q`: text matched against entry code, title and unit name."""

    track: TrackKind | None = None
    city: str | None = None
    unit_type: UnitType | None = None
    status: EntryStatus | None = None
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EntryFilters:
        """Parse query-string values; unknown or empty values mean "all" (never an error:
        a stale bookmark must still open the list)."""

        def pick(enum_cls: Any, raw: str | None) -> Any:
            try:
                return enum_cls(raw) if raw else None
            except ValueError:
                return None

        city = (args.get("city") or "").strip()
        q = (args.get("q") or "").strip()[:100]
        return cls(track=pick(TrackKind, args.get("track")),
                   city=city if city.isdigit() and len(city) == 6 else None,
                   unit_type=pick(UnitType, args.get("unit_type")),
                   status=pick(EntryStatus, args.get("status")),
                   q=q or None)

    def without(self, facet: str) -> EntryFilters:
        """These filters with `facet` ('track', 'city', 'unit_type', 'status') cleared."""
        return replace(self, **{facet: None})

    def as_args(self, **override: Any) -> dict[str, str]:
        """Query-string dict (values as strings, empty ones dropped), with `override`
        applied; for building filter links."""
        values = {f: getattr(self, f) for f in (*FACETS, "q")}
        values.update(override)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    @property
    def active(self) -> bool:
        return any(getattr(self, f) is not None for f in (*FACETS, "q"))


def _base(contest: Contest, filters: EntryFilters) -> Select:
    stmt = (select(Entry).join(Entry.track).join(Entry.unit).outerjoin(Unit.city)
            .where(Entry.contest_id == contest.id))
    if filters.track is not None:
        stmt = stmt.where(Track.kind == filters.track)
    if filters.city is not None:
        stmt = stmt.where(City.code == filters.city)
    if filters.unit_type is not None:
        stmt = stmt.where(Unit.unit_type == filters.unit_type)
    if filters.status is not None:
        stmt = stmt.where(Entry.status == filters.status)
    if filters.q:
        like = f"%{filters.q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Entry.code.ilike(like), Entry.title.ilike(like),
                              Unit.name.ilike(like)))
    return stmt


@dataclass
class EntryPage:
    """One page of the filtered list. `entries`: Entry rows with unit, city, track and files
    loaded; `total`: matching entries over all pages; `page` is 1-based."""

    entries: list[Entry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_entries(session: Session, contest: Contest, filters: EntryFilters, *, page: int = 1,
                 per_page: int = 100) -> EntryPage:
    """Entries of `contest` matching `filters`, ordered by track (VET week first, as the
    tracks are created), then entry code (drafts, which have no code yet, last), then id.
    `page` is clamped to the valid range."""
    base = _base(contest, filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    stmt = (base.options(joinedload(Entry.unit).joinedload(Unit.city), joinedload(Entry.track),
                         selectinload(Entry.files))
            .order_by(Track.id, Entry.code.is_(None), Entry.code, Entry.id)
            .offset((page - 1) * per_page).limit(per_page))
    return EntryPage(list(session.scalars(stmt).unique()), total, page, per_page)


def facet_counts(session: Session, contest: Contest,
                 filters: EntryFilters) -> dict[str, dict[str, int]]:
    """For each facet, the number of entries per value when every *other* active filter is
    applied (so each count says how many entries a click on that value would show).
    Returns {'track': {'vet_week': 12, ...}, 'city': {'140100': 5, ...},
    'unit_type': {...}, 'status': {...}}; values with no entries are absent."""
    columns = {"track": Track.kind, "city": City.code, "unit_type": Unit.unit_type,
               "status": Entry.status}
    result: dict[str, dict[str, int]] = {}
    for facet, column in columns.items():
        sub = _base(contest, filters.without(facet)).with_only_columns(
            column.label("value"), Entry.id).subquery()
        rows = session.execute(select(sub.c.value, func.count()).group_by(sub.c.value))
        result[facet] = {str(v.value if hasattr(v, "value") else v): n
                         for v, n in rows if v is not None}
    return result


@dataclass
class StatsRow:
    """One row of a participation table. `key`: city code or unit type code ('' for the
    total row); `units_registered`: units in the database; `units_participating`: units with
    at least one submitted entry; `entries`: submitted entries per track kind, and `total`."""

    key: str
    units_registered: int = 0
    units_participating: int = 0
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.entries.values())


@dataclass
class ParticipationStats:
    """Participation per city (in GB/T 2260 order, all 11 even when empty), per unit type
    (GLOSSARY order), and the province total."""

    by_city: list[StatsRow]
    by_unit_type: list[StatsRow]
    total: StatsRow


def participation_stats(session: Session, contest: Contest) -> ParticipationStats:
    """Count registered units, participating units and submitted entries per track, grouped
    by city and by unit type (RULES.md: statistics per city and unit type)."""
    kinds = [k.value for k in TrackKind]
    units = list(session.execute(select(Unit.id, City.code, Unit.unit_type)
                                 .outerjoin(Unit.city)))
    submitted = list(session.execute(
        select(Entry.unit_id, Track.kind, func.count())
        .join(Entry.track)
        .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.submitted)
        .group_by(Entry.unit_id, Track.kind)))
    per_unit: dict[int, Counter] = {}
    for unit_id, kind, n in submitted:
        per_unit.setdefault(unit_id, Counter())[str(kind.value if hasattr(kind, "value")
                                                    else kind)] += n

    def new_row(key: str) -> StatsRow:
        return StatsRow(key=key, entries={k: 0 for k in kinds})

    cities = [c for (c,) in session.execute(select(City.code).order_by(City.code))]
    by_city = {code: new_row(code) for code in cities}
    by_city[""] = new_row("")  # units without a city
    by_type = {t.value: new_row(t.value) for t in UnitType}
    total = new_row("")
    for unit_id, city_code, unit_type in units:
        counts = per_unit.get(unit_id, Counter())
        for row in (by_city[city_code or ""], by_type[str(unit_type.value)], total):
            row.units_registered += 1
            if counts:
                row.units_participating += 1
            for k, n in counts.items():
                row.entries[k] += n
    city_rows = [by_city[c] for c in cities]
    if by_city[""].units_registered:
        city_rows.append(by_city[""])
    return ParticipationStats(by_city=city_rows, by_unit_type=list(by_type.values()),
                              total=total)


def status_counts(session: Session, contest: Contest) -> dict[str, dict[str, int]]:
    """Entries of `contest` per track kind and status: {'vet_week': {'submitted': 7, ...}}
    with every kind and status present (zeros included)."""
    counts = {k.value: {s.value: 0 for s in EntryStatus} for k in TrackKind}
    rows = session.execute(select(Track.kind, Entry.status, func.count())
                           .join(Entry.track).where(Entry.contest_id == contest.id)
                           .group_by(Track.kind, Entry.status))
    for kind, status, n in rows:
        counts[str(kind.value)][str(status.value)] = n
    return counts
