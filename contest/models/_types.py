"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, TypeDecorator

from contest.timeutil import as_utc, utcnow


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetime on both engines (SQLite stores naive; we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001, ANN201
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001, ANN201
        return None if value is None else as_utc(value)


def str_enum(enum_cls: type[enum.StrEnum], length: int = 32) -> Enum:
    """Store a StrEnum by value as VARCHAR with a named CHECK (native_enum=False)."""
    return Enum(enum_cls, native_enum=False, length=length,
                values_callable=lambda e: [m.value for m in e],
                name=enum_cls.__name__.lower(), validate_strings=True)


__all__ = ["UTCDateTime", "str_enum", "utcnow"]
