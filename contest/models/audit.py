"""The audit log: who changed what, when, from which value to which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, utcnow
from contest.models.users import User


class AuditEvent(Base):
    """One logged action. `action` is a dotted verb ('score.update', 'round.open',
    'entry.disqualify', 'redaction.add', 'sheet.unlock', 'results.finalise'...);
    `object_type`/`object_id` name the row acted on; `old`/`new` are JSON snapshots."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None]
    old: Mapped[Any | None] = mapped_column(JSON)
    new: Mapped[Any | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


def log_event(session: Session, actor: User | None, action: str, obj: Any = None, *,
              old: Any = None, new: Any = None, reason: str = "",
              object_type: str | None = None, object_id: int | None = None) -> AuditEvent:
    """Add an `AuditEvent` for `obj` (any ORM row with an `id`) to `session` and flush."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type or (type(obj).__tablename__ if obj is not None else ""),
        object_id=object_id if object_id is not None else getattr(obj, "id", None),
        old=old, new=new, reason=reason,
    )
    session.add(event)
    session.flush()
    return event
