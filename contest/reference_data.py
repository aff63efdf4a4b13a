"""Fixed reference data: the 11 cities of Shanxi with GB/T 2260 codes, and display labels
for enums (GLOSSARY.md)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.models import City

CITIES: tuple[tuple[str, str], ...] = (  # GB/T 2260 prefecture codes, RULES.md order of cities
    ("140100", "太原市"), ("140200", "大同市"), ("140300", "阳泉市"), ("140400", "长治市"),
    ("140500", "晋城市"), ("140600", "朔州市"), ("140700", "晋中市"), ("140800", "运城市"),
    ("140900", "忻州市"), ("141000", "临汾市"), ("141100", "吕梁市"),
)


def ensure_cities(session: Session) -> dict[str, City]:
    """Insert missing cities; return {name: City}. Idempotent."""
    existing = {c.code: c for c in session.scalars(select(City))}
    for code, name in CITIES:
        if code not in existing:
            existing[code] = City(code=code, name=name)
            session.add(existing[code])
    session.flush()
    return {c.name: c for c in existing.values()}


def find_city(session: Session, text: str) -> City | None:
    """Find a city by code ('140100'), full name ('太原市') or short name ('太原')."""
    text = (text or "").strip()
    if not text:
        return None
    for city in session.scalars(select(City)):
        if text in (city.code, city.name, city.name.removesuffix("市")):
            return city
    return None
