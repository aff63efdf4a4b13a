"""Editors: 操作日志 (audit log), routed on the rounds blueprint as `admin.rounds.audit_log`.

Every `AuditEvent` — score changes, conflicts, redactions, unlocks, round changes and
whatever else the services log — with who, when, what it acted on, the old and the new
value and the reason; filtered by action and by round, newest first, paginated.

Filtering by round: an event belongs to round R when it acts on R itself, on one of R's
juror sheets, reviews or assignments, on one of R's entries (a redaction or entry change,
found through the `entry_id` the services write into old/new), or is a conflict declared in
R (its `round_id`) or recorded for one of R's jurors against one of R's entries or units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request, url_for
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from contest import messages
from contest.admin.rounds_forms import AuditFilterForm, as_choices
from contest.db import get_session
from contest.models import (Assignment, AuditEvent, ConflictOfInterest, Entry, Review, Round,
                            RoundEntry, RoundJuror, User)
from contest.timeutil import format_local

PER_PAGE = 50


def round_condition(round_id: int) -> ColumnElement[bool]:
    """SQL condition: the event belongs to round `round_id` (see the module docstring)."""
    entry_ids = select(RoundEntry.entry_id).where(RoundEntry.round_id == round_id)
    unit_ids = select(Entry.unit_id).where(Entry.id.in_(entry_ids))
    juror_ids = select(RoundJuror.juror_id).where(RoundJuror.round_id == round_id)
    typed = AuditEvent.object_type
    oid = AuditEvent.object_id
    return or_(
        and_(typed == Round.__tablename__, oid == round_id),
        and_(typed == RoundJuror.__tablename__,
             oid.in_(select(RoundJuror.id).where(RoundJuror.round_id == round_id))),
        and_(typed == Review.__tablename__,
             oid.in_(select(Review.id).where(Review.round_id == round_id))),
        and_(typed == Assignment.__tablename__,
             oid.in_(select(Assignment.id).where(Assignment.round_id == round_id))),
        and_(typed == Entry.__tablename__, oid.in_(entry_ids)),
        and_(typed == "redactions",
             or_(AuditEvent.new["entry_id"].as_integer().in_(entry_ids),
                 AuditEvent.old["entry_id"].as_integer().in_(entry_ids))),
        and_(typed == ConflictOfInterest.__tablename__,
             or_(AuditEvent.new["round_id"].as_integer() == round_id,
                 oid.in_(select(ConflictOfInterest.id).where(
                     ConflictOfInterest.juror_id.in_(juror_ids),
                     or_(ConflictOfInterest.entry_id.in_(entry_ids),
                         ConflictOfInterest.unit_id.in_(unit_ids)))))),
    )


@dataclass
class ChangeRow:
    """One changed field of an event: label, old text, new text ('' when absent)."""

    label: str
    old: str
    new: str


@dataclass
class EventRow:
    event: AuditEvent
    subject: str
    subject_url: str | None
    changes: list[ChangeRow]


ID_KEYS = ("juror_id", "entry_id", "unit_id", "round_id", "track_id", "previous_round_id")


def _text(key: str, value: Any, names: dict[tuple[str, int], str]) -> str:
    """A JSON value as editors read it: ids as names (`names`: (key, id) → name), times in
    China Standard Time, statuses in Chinese, lists joined, None as '—'."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int) and key in ID_KEYS:
        return names.get((key, value), f"#{value}")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if key.endswith("_at"):
            try:
                return format_local(datetime.fromisoformat(value))
            except ValueError:
                return value
        if key == "status":
            return messages.ROUND_STATUS_LABELS.get(value) or \
                messages.ENTRY_STATUS_LABELS.get(value, value)
        if key == "kind":
            return messages.ROUND_KIND_LABELS.get(value, value)
        if key == "role":
            return messages.ROLE_LABELS.get(value, value)
        return value
    if isinstance(value, list):
        if all(isinstance(v, dict) and "name" in v for v in value):
            return "；".join(f"{v['name']} {_text('', v.get('max_points'), names)}"
                            for v in value)
        if len(value) > 20 or any(isinstance(v, (list, dict)) for v in value):
            return f"{len(value)}项"
        return "、".join(_text(key, v, names) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k} {_text(k, v, names)}" for k, v in value.items())
    return str(value)


def _flatten(value: Any) -> dict[str, Any]:
    """{'scores': {'创意': 20}, 'comment': 'x'} → {'创意': 20, 'comment': 'x'}; a scalar
    becomes {'': value}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"": value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "scores" and isinstance(item, dict):
            out.update(item)
        else:
            out[key] = item
    return out


def change_rows(old: Any, new: Any, names: dict[tuple[str, int], str] | None = None
                ) -> list[ChangeRow]:
    """The fields an event changed, with Chinese labels (`messages.AUDIT_FIELD_LABELS`,
    criterion names as they are). With both old and new, unchanged fields are left out.
    `names`: (id key, id) → display name, see `_names`."""
    names = names or {}
    before, after = _flatten(old), _flatten(new)
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        if key in before and key in after and before[key] == after[key]:
            continue
        label = messages.AUDIT_FIELD_LABELS.get(key, key)
        rows.append(ChangeRow(label=label,
                              old=_text(key, before[key], names) if key in before else "",
                              new=_text(key, after[key], names) if key in after else ""))
    return rows


def _names(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """Display names for the ids the services write into old/new snapshots (juror_id →
    name (login), entry_id → entry code, unit_id → unit name, round_id → round name …),
    one query per kind."""
    from contest.models import Track, Unit

    wanted: dict[str, set[int]] = {k: set() for k in ID_KEYS}
    for e in events:
        for snap in (e.old, e.new):
            if isinstance(snap, dict):
                for key in ID_KEYS:
                    if isinstance(snap.get(key), int):
                        wanted[key].add(snap[key])
    out: dict[tuple[str, int], str] = {}

    def fill(keys: tuple[str, ...], model: Any, label: Any) -> None:
        ids = set().union(*(wanted[k] for k in keys))
        if ids:
            for obj in session.scalars(select(model).where(model.id.in_(ids))):
                for k in keys:
                    out[(k, obj.id)] = label(obj)

    fill(("juror_id",), User, lambda u: f"{u.display_name or u.login}（{u.login}）")
    fill(("entry_id",), Entry, lambda x: x.code or f"#{x.id}")
    fill(("unit_id",), Unit, lambda u: u.name)
    fill(("round_id", "previous_round_id"), Round, lambda r: r.name)
    fill(("track_id",), Track, lambda t: t.name)
    return out


def _subjects(session: Session, events: list[AuditEvent]) -> dict[int, tuple[str, str | None]]:
    """Per event id: a short description of the row acted on and an editors' URL, loaded in
    one query per object type."""
    ids: dict[str, set[int]] = {}
    for e in events:
        if e.object_id is not None:
            ids.setdefault(e.object_type, set()).add(e.object_id)

    def load(model: Any, *options: Any) -> dict[int, Any]:
        wanted = ids.get(model.__tablename__)
        if not wanted:
            return {}
        return {o.id: o for o in session.scalars(select(model).where(model.id.in_(wanted))
                                                 .options(*options))}

    rounds = load(Round)
    sheets = load(RoundJuror, selectinload(RoundJuror.juror), selectinload(RoundJuror.round))
    reviews = load(Review, selectinload(Review.juror), selectinload(Review.entry))
    assignments = load(Assignment, selectinload(Assignment.juror),
                       selectinload(Assignment.entry))
    conflicts = load(ConflictOfInterest, selectinload(ConflictOfInterest.juror),
                     selectinload(ConflictOfInterest.entry),
                     selectinload(ConflictOfInterest.unit))
    users = load(User)
    entry_ids = set(ids.get(Entry.__tablename__, set()))
    for e in events:
        for snap in (e.new, e.old):
            if isinstance(snap, dict) and isinstance(snap.get("entry_id"), int):
                entry_ids.add(snap["entry_id"])
    entries = {x.id: x for x in session.scalars(select(Entry).where(
        Entry.id.in_(entry_ids or {-1})))}

    def who(u: User | None) -> str:
        return (u.display_name or u.login) if u is not None else "?"

    def entry_text(entry: Entry | None, entry_id: Any = None) -> str:
        if entry is None:
            entry = entries.get(entry_id) if isinstance(entry_id, int) else None
        return (entry.code or f"#{entry.id}") if entry is not None else \
            (f"#{entry_id}" if entry_id else "?")

    out: dict[int, tuple[str, str | None]] = {}
    for e in events:
        kind = messages.AUDIT_OBJECT_LABELS.get(e.object_type, e.object_type)
        oid = e.object_id
        snap = e.new if isinstance(e.new, dict) else e.old if isinstance(e.old, dict) else {}
        text, url = f"{kind} #{oid}" if oid is not None else kind, None
        if e.object_type == Round.__tablename__ and oid in rounds:
            text = f"{kind} {rounds[oid].name}"
            url = url_for("admin.rounds.round_detail", round_id=oid)
        elif e.object_type == RoundJuror.__tablename__ and oid in sheets:
            rj = sheets[oid]
            text = f"{kind} {who(rj.juror)} · {rj.round.name}"
            url = url_for("admin.rounds.round_detail", round_id=rj.round_id) + "#jurors"
        elif e.object_type == Review.__tablename__ and oid in reviews:
            rv = reviews[oid]
            text = f"{kind} {who(rv.juror)} · {entry_text(rv.entry)}"
        elif e.object_type == Assignment.__tablename__ and oid in assignments:
            a = assignments[oid]
            text = f"{kind} {who(a.juror)} · {entry_text(a.entry)}"
        elif e.object_type == ConflictOfInterest.__tablename__ and oid in conflicts:
            c = conflicts[oid]
            target = entry_text(c.entry) if c.entry else (c.unit.name if c.unit else "?")
            text = f"{kind} {who(c.juror)} · {target}"
        elif e.object_type == "redactions":
            entry_id = snap.get("entry_id")
            text = f"{kind} · {entry_text(None, entry_id)}"
            if isinstance(entry_id, int):
                url = url_for("admin.rounds.redact_entry", entry_id=entry_id)
        elif e.object_type == Entry.__tablename__ and oid in entries:
            text = f"{kind} {entry_text(entries[oid])}"
        elif e.object_type == User.__tablename__ and oid in users:
            text = f"{kind} {users[oid].login}"
        out[e.id] = (text, url)
    return out


def audit_log():  # noqa: ANN201
    """GET `?action=…&round=…&page=…`: the filtered audit log, 50 events a page."""
    session = get_session()
    form = AuditFilterForm(request.args)
    actions = session.scalars(select(AuditEvent.action).distinct()
                              .order_by(AuditEvent.action)).all()
    form.action.choices = as_choices([("", "全部操作")] + [
        (a, f"{messages.AUDIT_ACTION_LABELS.get(a, a)}（{a}）") for a in actions])
    rounds = session.scalars(select(Round).options(selectinload(Round.track))
                             .order_by(Round.id.desc())).all()
    form.round.choices = as_choices([(0, "全部轮次")] + [(r.id, f"{r.track.name} · {r.name}")
                                                       for r in rounds])
    if not form.validate():
        form.action.data = form.action.data if form.action.data in actions else ""
        form.round.data = form.round.data if form.round.data in {r.id for r in rounds} else 0
    conditions = []
    if form.action.data:
        conditions.append(AuditEvent.action == form.action.data)
    if form.round.data:
        conditions.append(round_condition(form.round.data))
    total = session.scalar(select(func.count(AuditEvent.id)).where(*conditions)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    events = session.scalars(select(AuditEvent).where(*conditions)
                             .options(selectinload(AuditEvent.actor))
                             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                             .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    subjects = _subjects(session, list(events))
    names = _names(session, list(events))
    rows = [EventRow(event=e, subject=subjects[e.id][0], subject_url=subjects[e.id][1],
                     changes=change_rows(e.old, e.new, names)) for e in events]
    args = {k: v for k, v in (("action", form.action.data), ("round", form.round.data)) if v}
    return render_template("admin/rounds/audit_log.html", form=form, rows=rows, total=total,
                           page=page, pages=pages, args=args)
