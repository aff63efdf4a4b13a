"""Entrant units and their accounts: reading and applying a unit list (import-units).

The editor keeps the list of entrant units (参赛单位) as a spreadsheet with the columns
`name, city, unit_type, login` (or the Chinese headers 单位名称, 市, 单位类型, 登录名), as CSV or
XLSX. `read_unit_file` turns it into raw rows; `import_units` validates every row first and
only then creates or updates units and entrant accounts, so a file with any bad row changes
nothing (the caller rolls back on `UnitImportFailed`).

Identity: the account `login` is the stable key of a row. Re-running with the same logins
updates each unit's name, city and type; it never creates a second unit or account, and it
keeps existing passwords unless `reset_passwords` is set.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.errors import ContestError
from contest.messages import UNIT_TYPE_LABELS
from contest.models import City, Role, Unit, UnitType, User
from contest.reference_data import ensure_cities

COLUMNS = ("name", "city", "unit_type", "login")
# Header spellings accepted for each column (compared after strip + casefold).
HEADER_ALIASES = {
    "name": ("name", "单位名称", "单位", "参赛单位"),
    "city": ("city", "市", "城市", "所属市", "地市"),
    "unit_type": ("unit_type", "unit type", "type", "单位类型", "类型"),
    "login": ("login", "登录名", "账号", "用户名"),
}
LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,63}$")
MAX_NAME_CHARS = 100  # Unit.name is String(100)
# Generated passwords avoid look-alike characters (0/O, 1/l/I) because editors hand them
# out on paper or by phone.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 10


class UnitImportFailed(ContestError):
    """The unit file cannot be imported; nothing was changed.

    params: `errors` — list of `UnitRowError` (one per problem, in row order); or, for a file
    that cannot be read at all, `reason` ('unreadable', 'columns', 'empty') with `detail`
    (the missing column names, or the reader's error text)."""

    code = "unit_import"


@dataclass(frozen=True)
class UnitRowError:
    """One problem in one row. `row`: 1-based line/row number in the file (the header is
    row 1). `reason`: stable code (missing, too_long, city, unit_type, login_format,
    duplicate_name, duplicate_login, login_taken, name_taken, unit_has_other_login).
    `column`: column code; `value`: the cell text; `other`: what it clashes with."""

    row: int
    reason: str
    column: str
    value: str = ""
    other: str = ""


@dataclass
class UnitChange:
    """What import did to one row's unit and account. `action`: 'created', 'updated' or
    'unchanged'; `changed`: names of unit fields that changed ('name', 'city', 'unit_type');
    `password`: the new plain-text password when one was set (new account or reset)."""

    row: int
    login: str
    unit_name: str
    city_name: str
    unit_type: UnitType
    action: str
    changed: list[str] = field(default_factory=list)
    account_created: bool = False
    password: str | None = None


@dataclass
class UnitImportReport:
    """Result of `import_units`: one `UnitChange` per data row, in file order."""

    changes: list[UnitChange]

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def passwords(self) -> list[UnitChange]:
        """Rows that got a new password (to be written to the hand-out file)."""
        return [c for c in self.changes if c.password]


@dataclass(frozen=True)
class RawRow:
    """One data row as read from the file: `row` number and the four cells as text."""

    row: int
    name: str
    city: str
    unit_type: str
    login: str


def generate_password() -> str:
    """A random 10-character password without look-alike characters (~56 bits)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # XLSX numbers: 140100.0 → '140100'
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def _map_header(header: Sequence[object]) -> dict[str, int]:
    """Column code → index, from a header row. Raises UnitImportFailed(reason='columns')."""
    wanted = {alias.casefold(): code for code, aliases in HEADER_ALIASES.items()
              for alias in aliases}
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        code = wanted.get(_cell(cell).lstrip("\ufeff").casefold())
        if code and code not in index:
            index[code] = i
    missing = [c for c in COLUMNS if c not in index]
    if missing:
        raise UnitImportFailed(reason="columns", detail=missing)
    return index


def rows_from_table(table: Iterable[Sequence[object]]) -> list[RawRow]:
    """Raw rows from a table whose first row is the header. Blank rows are skipped; row
    numbers count the header as row 1. Raises UnitImportFailed (reason 'columns' or 'empty')."""
    it = iter(table)
    header = next(it, None)
    if header is None:
        raise UnitImportFailed(reason="empty")
    index = _map_header(header)
    rows = []
    for number, cells in enumerate(it, start=2):
        cells = list(cells)
        values = {c: _cell(cells[i]) if i < len(cells) else "" for c, i in index.items()}
        if not any(values.values()):
            continue
        rows.append(RawRow(row=number, **values))
    if not rows:
        raise UnitImportFailed(reason="empty")
    return rows


def _decode_csv(data: bytes) -> str:
    # Excel on Chinese Windows saves "CSV" in GB18030/GBK; everything else sends UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnitImportFailed(reason="unreadable", detail="encoding")


def read_unit_file(path: Path) -> list[RawRow]:
    """Read a unit list from `path`: `.xlsx`/`.xlsm` (first sheet, via openpyxl) or CSV
    (UTF-8 with or without BOM, or GB18030; comma, semicolon or tab separated).

    Returns the data rows. Raises UnitImportFailed with reason 'unreadable' (not a readable
    CSV/XLSX), 'columns' (a required column is missing) or 'empty' (no data rows)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnitImportFailed(reason="unreadable", detail=exc.strerror or str(exc)) from exc
    if path.suffix.lower() in (".xlsx", ".xlsm") or data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise UnitImportFailed(reason="unreadable", detail="xlsx") from exc
        try:
            return rows_from_table(wb.worksheets[0].iter_rows(values_only=True))
        finally:
            wb.close()
    text = _decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return rows_from_table(csv.reader(io.StringIO(text), dialect))


def parse_unit_type(text: str) -> UnitType | None:
    """A unit type from its code ('higher_vocational') or Chinese label ('高职院校'), else None.
    Labels: contest.messages.UNIT_TYPE_LABELS (GLOSSARY.md)."""
    text = (text or "").strip()
    if text.casefold() in {t.value for t in UnitType}:
        return UnitType(text.casefold())
    for code, label in UNIT_TYPE_LABELS.items():
        if text == label:
            return UnitType(code)
    return None


def _find_city(cities: Sequence[City], text: str) -> City | None:
    for city in cities:
        if text in (city.code, city.name, city.name.removesuffix("市")):
            return city
    return None


@dataclass(frozen=True)
class _Checked:
    raw: RawRow
    city: City
    unit_type: UnitType


def _check_rows(session: Session, rows: Sequence[RawRow]) -> tuple[list[_Checked],
                                                                    list[UnitRowError]]:
    cities = list(session.scalars(select(City)))
    errors: list[UnitRowError] = []
    checked: list[_Checked] = []
    seen_names: dict[str, int] = {}
    seen_logins: dict[str, int] = {}
    for r in rows:
        row_errors: list[UnitRowError] = []
        for column in COLUMNS:
            if not getattr(r, column):
                row_errors.append(UnitRowError(r.row, "missing", column))
        if len(r.name) > MAX_NAME_CHARS:
            row_errors.append(UnitRowError(r.row, "too_long", "name", r.name,
                                           str(MAX_NAME_CHARS)))
        city = _find_city(cities, r.city) if r.city else None
        if r.city and city is None:
            row_errors.append(UnitRowError(r.row, "city", "city", r.city))
        unit_type = parse_unit_type(r.unit_type) if r.unit_type else None
        if r.unit_type and unit_type is None:
            row_errors.append(UnitRowError(r.row, "unit_type", "unit_type", r.unit_type))
        if r.login and not LOGIN_RE.match(r.login):
            row_errors.append(UnitRowError(r.row, "login_format", "login", r.login))
        if r.name:
            if r.name in seen_names:
                row_errors.append(UnitRowError(r.row, "duplicate_name", "name", r.name,
                                               str(seen_names[r.name])))
            seen_names.setdefault(r.name, r.row)
        if r.login:
            if r.login in seen_logins:
                row_errors.append(UnitRowError(r.row, "duplicate_login", "login", r.login,
                                               str(seen_logins[r.login])))
            seen_logins.setdefault(r.login, r.row)
        if row_errors:
            errors.extend(row_errors)
        else:
            checked.append(_Checked(r, city, unit_type))  # type: ignore[arg-type]
    return checked, errors


def _check_against_database(session: Session, checked: Sequence[_Checked]) -> list[UnitRowError]:
    """Clashes with existing accounts and units (all rows are checked before any change)."""
    errors: list[UnitRowError] = []
    for c in checked:
        r = c.raw
        user = session.scalar(select(User).where(User.login == r.login))
        if user is not None and (user.role != Role.entrant or user.unit is None):
            errors.append(UnitRowError(r.row, "login_taken", "login", r.login,
                                       str(user.role)))
            continue
        named = session.scalar(select(Unit).where(Unit.name == r.name))
        if named is None or (user is not None and named.id == user.unit_id):
            continue
        other_logins = "、".join(sorted(u.login for u in named.users if u.role == Role.entrant))
        if user is not None:
            # renaming this login's unit to the name of another unit
            errors.append(UnitRowError(r.row, "name_taken", "name", r.name, other_logins))
        elif other_logins:
            # a new login for a unit that already has an account: a second account is a
            # deliberate act (create-user --unit), not something a spreadsheet typo should do
            errors.append(UnitRowError(r.row, "unit_has_other_login", "login", r.login,
                                       other_logins))
        # else: the unit exists without an account (create-user before); the row adopts it
    return errors


def import_units(session: Session, rows: Sequence[RawRow], *, reset_passwords: bool = False,
                 password_factory: Callable[[], str] = generate_password) -> UnitImportReport:
    """Create or update units and their entrant accounts from `rows` (see `read_unit_file`).

    Every row is validated first (required cells; city by name '太原市', short name '太原' or
    GB/T 2260 code '140100'; unit type by code or Chinese label; login 3–64 of
    `[A-Za-z0-9_.-]`; no repeated name or login in the file; no clash with another unit's
    name or a non-entrant account). Only when all rows pass are rows applied:
    - login exists: its unit's name, city and type are updated; the password is kept
      unless `reset_passwords` (then a new one is set and must be changed at first login);
    - login is new: the unit named in the row is reused if it exists and has no account,
      else created; the account gets a generated password and `must_change_password=True`.

    Adds and flushes; never commits (the caller commits, or rolls back on error).
    Returns a `UnitImportReport`. Raises `UnitImportFailed(errors=[UnitRowError, ...])`.
    """
    ensure_cities(session)
    checked, errors = _check_rows(session, rows)
    errors += _check_against_database(session, checked)
    if errors:
        raise UnitImportFailed(errors=sorted(errors, key=lambda e: e.row))
    changes = []
    for c in checked:
        r = c.raw
        user = session.scalar(select(User).where(User.login == r.login))
        unit = user.unit if user is not None else None
        action = "updated"
        changed: list[str] = []
        if unit is None:
            unit = session.scalar(select(Unit).where(Unit.name == r.name))
            if unit is None:
                unit = Unit(name=r.name, city=c.city, unit_type=c.unit_type)
                session.add(unit)
                action = "created"
        if action != "created":
            for attr, new in (("name", r.name), ("city", c.city), ("unit_type", c.unit_type)):
                if getattr(unit, attr) != new:
                    setattr(unit, attr, new)
                    changed.append(attr)
        password = None
        account_created = False
        if user is None:
            password = password_factory()
            user = User(login=r.login, role=Role.entrant, unit=unit, display_name=r.name)
            user.set_password(password)
            user.must_change_password = True
            session.add(user)
            account_created = True
        elif reset_passwords:
            password = password_factory()
            user.set_password(password)
            user.must_change_password = True
        if action == "updated" and not changed and not account_created:
            action = "unchanged"
        session.flush()
        changes.append(UnitChange(row=r.row, login=r.login, unit_name=unit.name,
                                  city_name=c.city.name, unit_type=c.unit_type, action=action,
                                  changed=changed, account_created=account_created,
                                  password=password))
    return UnitImportReport(changes)
