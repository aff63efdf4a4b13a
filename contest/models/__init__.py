"""All ORM classes, re-exported. One module per area: users, contests, entries, judging,
dedup, results, audit."""

from contest.models.audit import AuditEvent, log_event
from contest.models.contests import MIB, TRACK_DEFAULTS, Contest, Track, TrackKind
from contest.models.dedup import (DEDUP_KIND_ORDER, DedupKind, DuplicateFlag, FlagStatus,
                                  ImageFingerprint, ReferenceImage)
from contest.models.entries import AIUse, Entry, EntryFile, EntryStatus, FileKind
from contest.models.judging import (DEFAULT_RUBRIC, Assignment, ConflictOfInterest, Criterion,
                                    Redaction, Review, Round, RoundEntry, RoundJuror, RoundKind,
                                    RoundStatus, Score)
from contest.models.results import (AggregateMethod, AwardDecision, AwardPlan, AwardRules,
                                    AwardTier, OrganisationAward, PublicNotice, QuotaMode,
                                    RoundResultSettings)
from contest.models.users import City, LoginAttempt, Role, Unit, UnitType, User

__all__ = [
    "AIUse", "Assignment", "AuditEvent", "City", "ConflictOfInterest", "Contest", "Criterion",
    "DEFAULT_RUBRIC", "Entry", "EntryFile", "EntryStatus", "FileKind", "LoginAttempt", "MIB",
    "Redaction", "Review", "Role", "Round", "RoundEntry", "RoundJuror", "RoundKind",
    "RoundStatus", "Score", "TRACK_DEFAULTS", "Track", "TrackKind", "Unit", "UnitType", "User",
    "log_event",
    "DEDUP_KIND_ORDER", "DedupKind", "DuplicateFlag", "FlagStatus", "ImageFingerprint",
    "ReferenceImage",
]
__all__ += ["AggregateMethod", "AwardDecision", "AwardPlan", "AwardRules", "AwardTier",
            "OrganisationAward", "PublicNotice", "QuotaMode", "RoundResultSettings"]
