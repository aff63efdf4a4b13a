"""Results: per-round aggregation settings, award plans and decisions per track, the
organisation-award rule and proposals per contest, and the public notice (公示)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base
from contest.models._types import UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from contest.models.contests import Contest, Track
    from contest.models.entries import Entry
    from contest.models.judging import Round
    from contest.models.users import Unit, User


class AggregateMethod(enum.StrEnum):
    """How a round's juror totals become one number per entry (issue #5): the mean of
    juror totals; the trimmed mean (去掉一个最高分和一个最低分后取平均); the per-juror
    z-score mean rescaled to 0–100."""

    mean = "mean"
    trimmed_mean = "trimmed_mean"
    zscore = "zscore"


class AwardTier(enum.StrEnum):
    """GLOSSARY.md `Award`: 一等奖 / 二等奖 / 三等奖 / 优秀奖, in award order."""

    first = "first"
    second = "second"
    third = "third"
    merit = "merit"


TIER_ORDER: tuple[AwardTier, ...] = (AwardTier.first, AwardTier.second, AwardTier.third,
                                     AwardTier.merit)


def _tier_enum(name: str) -> Enum:
    """An AwardTier column type whose CHECK gets its own name (two tier columns in a table
    would otherwise share the constraint name 'awardtier')."""
    return Enum(AwardTier, native_enum=False, length=32, name=name, validate_strings=True,
                values_callable=lambda e: [m.value for m in e])


class QuotaMode(enum.StrEnum):
    """An award plan's quotas are entry counts, or percentages of the ranked entries."""

    count = "count"
    percent = "percent"


DEFAULT_TRIMMED_MIN_SCORES = 5  # issue #5: trim only when an entry has at least 5 scores
DEFAULT_TOP_N = 10  # sensitivity line: the top N compared across methods
# issue #5: "roughly 1 : 2 : 3, then 优秀奖" — percentages of the ranked entries of the
# plan's round (by default the track's last round, usually the 终评 shortlist).
DEFAULT_PERCENT_QUOTAS = {AwardTier.first: 10.0, AwardTier.second: 20.0,
                          AwardTier.third: 30.0, AwardTier.merit: 40.0}


class RoundResultSettings(Base):
    """The editor's results choices for one round: the aggregate `method` that ranks it,
    the minimum number of scores before the trimmed mean trims (default 5; below it the
    trimmed mean is the plain mean), and the N of the sensitivity line. `is_finalised` is
    set when the round's track is finalised; the settings are then read-only.
    One row per round."""

    __tablename__ = "round_result_settings"
    __table_args__ = (
        UniqueConstraint("round_id"),
        CheckConstraint("trimmed_min_scores >= 3", name="trimmed_min_at_least_3"),
        CheckConstraint("top_n >= 1", name="top_n_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    method: Mapped[AggregateMethod] = mapped_column(str_enum(AggregateMethod),
                                                    default=AggregateMethod.mean)
    trimmed_min_scores: Mapped[int] = mapped_column(Integer, default=DEFAULT_TRIMMED_MIN_SCORES)
    top_n: Mapped[int] = mapped_column(Integer, default=DEFAULT_TOP_N)
    is_finalised: Mapped[bool] = mapped_column(Boolean, default=False)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    finalised_by: Mapped[User | None] = relationship()


class AwardPlan(Base):
    """How many awards of each tier a track gives, and from which round's ranking.

    `quota_mode` count: the `*_quota` columns are numbers of entries; percent: percentages of
    the ranked (eligible, scored) entries of `round` (rounding in `contest.awards`). A tier
    with `*_vacant` set is 空缺: nobody gets it, and its places are not passed on to the next
    tier. `round_id` None means the track's latest round. `is_finalised`: the track's results
    are final (names revealed, everything read-only). One row per track."""

    __tablename__ = "award_plans"
    __table_args__ = (
        UniqueConstraint("track_id"),
        CheckConstraint("first_quota >= 0 AND second_quota >= 0 AND third_quota >= 0 "
                        "AND merit_quota >= 0", name="quotas_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    quota_mode: Mapped[QuotaMode] = mapped_column(str_enum(QuotaMode), default=QuotaMode.percent)
    first_quota: Mapped[float] = mapped_column(Float, default=10.0)
    second_quota: Mapped[float] = mapped_column(Float, default=20.0)
    third_quota: Mapped[float] = mapped_column(Float, default=30.0)
    merit_quota: Mapped[float] = mapped_column(Float, default=40.0)
    first_vacant: Mapped[bool] = mapped_column(Boolean, default=False)
    second_vacant: Mapped[bool] = mapped_column(Boolean, default=False)
    third_vacant: Mapped[bool] = mapped_column(Boolean, default=False)
    merit_vacant: Mapped[bool] = mapped_column(Boolean, default=False)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_finalised: Mapped[bool] = mapped_column(Boolean, default=False)
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    track: Mapped[Track] = relationship()
    round: Mapped[Round | None] = relationship()
    finalised_by: Mapped[User | None] = relationship()

    def quota(self, tier: AwardTier | str) -> float:
        return float(getattr(self, f"{AwardTier(tier).value}_quota"))

    def is_vacant(self, tier: AwardTier | str) -> bool:
        return bool(getattr(self, f"{AwardTier(tier).value}_vacant"))


class AwardDecision(Base):
    """The award an entry of a track gets. `computed_tier` is what the plan gave it from
    its `rank` in the plan's round; `tier` is the award in force (None: no award). An editor's
    override sets `is_override` with a `reason` (required, audit-logged); re-placing keeps
    overrides. `aggregate` and `method` record the number the rank came from.
    One row per track × entry."""

    __tablename__ = "award_decisions"
    __table_args__ = (UniqueConstraint("track_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))
    tier: Mapped[AwardTier | None] = mapped_column(str_enum(AwardTier))
    computed_tier: Mapped[AwardTier | None] = mapped_column(_tier_enum("computed_tier"))
    rank: Mapped[int | None] = mapped_column(Integer)
    aggregate: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16), default="")
    is_override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    track: Mapped[Track] = relationship()
    entry: Mapped[Entry] = relationship()
    round: Mapped[Round | None] = relationship()
    decided_by: Mapped[User | None] = relationship()


class AwardRules(Base):
    """Per contest: the configurable rule proposing 优秀组织奖 (organisation award) and
    优秀指导教师奖 (adviser award); see `contest.awards.propose_organisation_awards`.

    A unit is proposed when it submitted at least `org_min_entries` entries and won at least
    `org_min_awards` awards; proposals are ranked by points (`points_<tier>` per award) and
    capped at `org_max_units` (0: no cap). Advisers are proposed (when enabled) for entries
    awarded `adviser_min_tier` or better. One row per contest."""

    __tablename__ = "award_rules"
    __table_args__ = (
        UniqueConstraint("contest_id"),
        CheckConstraint("org_min_entries >= 0 AND org_min_awards >= 0 AND org_max_units >= 0",
                        name="org_rule_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    org_min_entries: Mapped[int] = mapped_column(Integer, default=3)
    org_min_awards: Mapped[int] = mapped_column(Integer, default=1)
    org_max_units: Mapped[int] = mapped_column(Integer, default=10)
    points_first: Mapped[float] = mapped_column(Float, default=5.0)
    points_second: Mapped[float] = mapped_column(Float, default=3.0)
    points_third: Mapped[float] = mapped_column(Float, default=2.0)
    points_merit: Mapped[float] = mapped_column(Float, default=1.0)
    adviser_award_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    adviser_min_tier: Mapped[AwardTier] = mapped_column(str_enum(AwardTier),
                                                        default=AwardTier.second)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()

    def points(self, tier: AwardTier | str) -> float:
        return float(getattr(self, f"points_{AwardTier(tier).value}"))


class OrganisationAward(Base):
    """优秀组织奖 for one unit of a contest, with the rule's inputs as they were when proposed:
    `submitted_entries`, `awarded_entries`, `points`, and `rank` among the qualifying units.
    `is_proposed`: the rule proposes it; `is_awarded`: the award in force (the proposal, or
    the editor's logged decision when `is_override`). One row per contest × unit."""

    __tablename__ = "organisation_awards"
    __table_args__ = (UniqueConstraint("contest_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    submitted_entries: Mapped[int] = mapped_column(Integer, default=0)
    awarded_entries: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    rank: Mapped[int | None] = mapped_column(Integer)
    is_proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_awarded: Mapped[bool] = mapped_column(Boolean, default=False)
    is_override: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contest: Mapped[Contest] = relationship()
    unit: Mapped[Unit] = relationship()
    decided_by: Mapped[User | None] = relationship()


DEFAULT_NOTICE_WORKING_DAYS = 5  # issue #5: the notice period is 5 working days by default
DEFAULT_OBJECTION_TEXT = (
    "公示期内，任何单位或个人对拟获奖作品有异议的，可通过书面形式实名向大赛组委会提出，"
    "并提供必要的证明材料。以单位名义提出的须加盖单位公章，以个人名义提出的须签署真实姓名"
    "并注明联系方式。匿名或逾期提出的异议不予受理。")


class PublicNotice(Base):
    """The public notice (公示) of a contest's provisional winners: title, issuer, the
    notice period and how to object. `starts_on` is the first day (China Standard Time
    calendar date); `ends_on` None means `working_days` working days from `starts_on`
    (weekends skipped; public holidays are not known, so the editor may set `ends_on`).
    One row per contest."""

    __tablename__ = "public_notices"
    __table_args__ = (
        UniqueConstraint("contest_id"),
        CheckConstraint("working_days >= 1", name="working_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(100), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_NOTICE_WORKING_DAYS)
    ends_on: Mapped[date | None] = mapped_column(Date)
    objection_text: Mapped[str] = mapped_column(Text, default=DEFAULT_OBJECTION_TEXT)
    contact: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()
