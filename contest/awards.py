"""Awards: tiers per track from a plan (counts or percentages, vacant tiers), overrides with
a logged reason, provisional results (拟获奖名单), finalisation (names revealed, read-only),
the winners list other areas read, 优秀组织奖 and 优秀指导教师奖 proposals.

Services only (STYLE.md §2): explicit arguments, `session.flush()`, never `commit()`;
errors are `AwardError` / `ResultsFinalised`; every change is audit-logged.

Placement rule (documented on the awards page):
  * The ranking is the plan's round (default: the track's latest round) under that round's
    chosen aggregate, with its tie-break chain (`contest.scoring.rank_results`). Only
    eligible entries with at least one counted score take part.
  * Quotas: counts, or percentages of the ranked entries rounded half up; a non-vacant first
    tier with a positive percentage gives at least one award; tiers are cut in order so the
    total never exceeds the ranked entries.
  * Tiers are filled by cumulative cut-offs on the competition rank (1, 2, 2, 4): an entry of
    rank r gets the first tier whose cut-off (sum of the quotas so far) is ≥ r. Entries tied
    at a boundary therefore all get the better tier, and the next tier shrinks by as many.
  * A vacant tier (空缺) gives no award; its places are not passed on, so the next tier
    starts after the vacant tier's places (一等奖空缺: the best entries get 二等奖, up to
    the 二等奖 quota).
  * Overridden entries are taken out of the ranking; the others are re-ranked (ties kept)
    and placed by the same quotas. Overrides do not use up a quota.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from contest import scoring
from contest.errors import AwardError, ResultsFinalised
from contest.models import (AwardDecision, AwardPlan, AwardRules, AwardTier, Contest, Entry,
                            EntryStatus, OrganisationAward, QuotaMode, Role, Round, Track, Unit,
                            User, log_event)
from contest.models.results import DEFAULT_PERCENT_QUOTAS, TIER_ORDER
from contest.scoring import EntryResult
from contest.timeutil import utcnow

TIER_RANK = {tier: i for i, tier in enumerate(TIER_ORDER)}


@dataclass
class Placement:
    """One entry of the plan's round on the awards page: its `result` (rank, aggregate),
    the tier the plan gives it (`computed_tier`, as if there were no overrides), and the
    tier in force (`tier`: the override, else the placement among non-overridden entries).
    None: no award."""

    entry_id: int
    result: EntryResult
    computed_tier: AwardTier | None
    tier: AwardTier | None
    is_override: bool = False
    reason: str = ""


@dataclass
class Winner:
    """An awarded entry of a track, in award order (`position` 1-based: tier, then rank,
    then entry code). `rank`/`aggregate`: in the plan's round (None for an override of an
    unranked entry)."""

    position: int
    tier: AwardTier
    entry: Entry
    rank: int | None
    aggregate: float | None
    is_override: bool = False


@dataclass
class UnitStats:
    """The 优秀组织奖 rule's inputs for one unit: submitted entries (eligible, all tracks),
    awarded entries and points (per the rule's points per tier)."""

    unit_id: int
    unit_name: str
    submitted: int
    awarded: int
    points: float
    rank: int | None = None
    is_proposed: bool = False


@dataclass
class AdviserAward:
    """A proposed 优秀指导教师奖: one adviser of one unit with their awarded entries
    [(entry, tier)], best first."""

    adviser: str
    unit_name: str
    entries: list[tuple[Entry, AwardTier]] = field(default_factory=list)


# --------------------------------------------------------------------------- pure rules


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5 + 1e-9))


def tier_counts(mode: QuotaMode | str, quotas: Mapping[AwardTier, float],
                vacant: Iterable[AwardTier], n_ranked: int) -> dict[AwardTier, int]:
    """Awards per tier for `n_ranked` ranked entries (see the module docstring).

    `mode`: 'count' (quotas are numbers of entries, rounded down) or 'percent' (of
    `n_ranked`, rounded half up; the first tier gets at least 1 when its percentage is > 0).
    `vacant` tiers get 0. Tiers are taken in order and cut so the sum never exceeds
    `n_ranked`. Returns {tier: count} for all four tiers."""
    vacant = set(vacant)
    counts: dict[AwardTier, int] = {}
    left = max(0, n_ranked)
    for tier in TIER_ORDER:
        q = max(0.0, float(quotas.get(tier, 0.0)))
        if tier in vacant or left == 0:
            want = 0
        elif QuotaMode(mode) == QuotaMode.count:
            want = int(q)
        else:
            want = _half_up(q * n_ranked / 100.0)
            if tier == AwardTier.first and q > 0 and want == 0:
                want = 1
        counts[tier] = min(want, left)
        left -= counts[tier]
    return counts


def rerank(ordered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Competition ranks among `ordered` [(entry_id, original rank)] (best first), keeping
    ties of the original ranking: [(1,1),(5,3),(6,3)] → [(1,1),(5,2),(6,2)]."""
    out = []
    prev_orig: int | None = None
    prev_new = 0
    for position, (entry_id, orig) in enumerate(ordered, start=1):
        new = prev_new if orig == prev_orig else position
        out.append((entry_id, new))
        prev_orig, prev_new = orig, new
    return out


def place(ordered: Sequence[tuple[int, int]], counts: Mapping[AwardTier, int]
          ) -> dict[int, AwardTier | None]:
    """Tiers for `ordered` [(entry_id, rank)] (best first; ranks as in `rerank`) by
    cumulative cut-offs: rank r gets the first tier with a positive count whose cut-off
    (sum of counts up to and including it) is ≥ r; None beyond the last cut-off."""
    cutoffs = []
    total = 0
    for tier in TIER_ORDER:
        total += counts.get(tier, 0)
        if counts.get(tier, 0) > 0:
            cutoffs.append((tier, total))
    out: dict[int, AwardTier | None] = {}
    for entry_id, rank in ordered:
        out[entry_id] = next((tier for tier, cut in cutoffs if rank <= cut), None)
    return out


def rank_units(stats: Sequence[UnitStats], *, min_entries: int, min_awards: int,
               max_units: int) -> list[UnitStats]:
    """The 优秀组织奖 rule: a unit qualifies with ≥ `min_entries` submitted entries and
    ≥ `min_awards` awarded ones; qualifying units are ranked by points, then awarded
    entries, then submitted entries (higher first; equal on all three share a rank), and
    proposed while their rank ≤ `max_units` (0: no cap; ties at the cap all go through).
    Returns every unit: qualifying ones ranked first, the rest after with rank None."""
    for s in stats:
        s.rank, s.is_proposed = None, False
    qualifying = [s for s in stats if s.submitted >= min_entries and s.awarded >= min_awards]
    qualifying.sort(key=lambda s: (-s.points, -s.awarded, -s.submitted, s.unit_name))
    prev_key = None
    for position, s in enumerate(qualifying, start=1):
        key = (s.points, s.awarded, s.submitted)
        s.rank = qualifying[position - 2].rank if key == prev_key else position
        prev_key = key
        s.is_proposed = max_units == 0 or s.rank <= max_units
    rest = sorted((s for s in stats if s.rank is None),
                  key=lambda s: (-s.points, -s.submitted, s.unit_name))
    return qualifying + rest


_ADVISER_SPLIT = re.compile(r"[、，,;；/／\s]+")


def split_advisers(text: str) -> list[str]:
    """'王老师、李老师' → ['王老师', '李老师'] (separators 、，,;；/ and spaces)."""
    return [name for name in _ADVISER_SPLIT.split(text or "") if name]


# --------------------------------------------------------------------------- plan, state


def get_plan(session: Session, track: Track) -> AwardPlan:
    """The award plan of `track`, created with the defaults (percent 10/20/30/40, issue #5:
    roughly 1 : 2 : 3 then 优秀奖; the latest round) on first use (flushes)."""
    plan = session.scalar(select(AwardPlan).where(AwardPlan.track_id == track.id))
    if plan is None:
        plan = AwardPlan(track_id=track.id, quota_mode=QuotaMode.percent,
                         first_quota=DEFAULT_PERCENT_QUOTAS[AwardTier.first],
                         second_quota=DEFAULT_PERCENT_QUOTAS[AwardTier.second],
                         third_quota=DEFAULT_PERCENT_QUOTAS[AwardTier.third],
                         merit_quota=DEFAULT_PERCENT_QUOTAS[AwardTier.merit],
                         first_vacant=False, second_vacant=False, third_vacant=False,
                         merit_vacant=False, is_finalised=False)
        session.add(plan)
        session.flush()
    return plan


def is_finalised(session: Session, track: Track) -> bool:
    """True once `track`'s results are final (names revealed, read-only)."""
    return bool(session.scalar(select(AwardPlan.is_finalised)
                               .where(AwardPlan.track_id == track.id)))


def ensure_open(session: Session, track: Track) -> None:
    """Raise `ResultsFinalised` when `track`'s results are final."""
    if is_finalised(session, track):
        raise ResultsFinalised(track_id=track.id)


def source_round(session: Session, track: Track, plan: AwardPlan | None = None) -> Round | None:
    """The round whose ranking decides `track`'s awards: the plan's round, else the track's
    latest round (highest id); None when the track has no round."""
    plan = plan or get_plan(session, track)
    if plan.round_id is not None and plan.round is not None:
        return plan.round
    return session.scalar(select(Round).where(Round.track_id == track.id)
                          .order_by(Round.id.desc()).limit(1))


def _plan_snapshot(plan: AwardPlan) -> dict:
    return {"round_id": plan.round_id, "quota_mode": str(plan.quota_mode),
            **{f"{t.value}_quota": plan.quota(t) for t in TIER_ORDER},
            **{f"{t.value}_vacant": plan.is_vacant(t) for t in TIER_ORDER}}


def update_plan(session: Session, track: Track, actor: User | None, *,
                quota_mode: QuotaMode | str, quotas: Mapping[AwardTier | str, float],
                vacant: Iterable[AwardTier | str] = (), round_id: int | None = None
                ) -> AwardPlan:
    """Set `track`'s plan: `quota_mode` count | percent, `quotas` {tier: number ≥ 0} (counts
    are whole numbers; percentages sum to at most 100 over non-vacant tiers), `vacant`
    tiers, and the deciding round (`round_id` of this track, or None for the latest).
    Logged 'awards.plan' with old and new values. Raises `ResultsFinalised`, `AwardError`
    (plan_invalid, plan_percent_sum)."""
    ensure_open(session, track)
    plan = get_plan(session, track)
    mode = QuotaMode(quota_mode)
    vacant_set = {AwardTier(t) for t in vacant}
    clean: dict[AwardTier, float] = {}
    for tier in TIER_ORDER:
        raw = quotas.get(tier, quotas.get(tier.value, 0))
        try:
            value = float(raw or 0)
        except (TypeError, ValueError):
            raise AwardError("plan_invalid", detail="获奖名额须为数字") from None
        if value < 0 or math.isnan(value):
            raise AwardError("plan_invalid", detail="获奖名额不能为负数")
        if mode == QuotaMode.count and value != int(value):
            raise AwardError("plan_invalid", detail=f"按名额设置时须为整数（当前：{value:g}）")
        clean[tier] = value
    if mode == QuotaMode.percent:
        total = sum(v for t, v in clean.items() if t not in vacant_set)
        if total > 100 + 1e-9:
            raise AwardError("plan_percent_sum", total=total)
    if round_id is not None:
        round_ = session.get(Round, round_id)
        if round_ is None or round_.track_id != track.id:
            raise AwardError("plan_invalid", detail="所选轮次不属于本赛道")
    old = _plan_snapshot(plan)
    plan.quota_mode = mode
    plan.round_id = round_id
    for tier in TIER_ORDER:
        setattr(plan, f"{tier.value}_quota", clean[tier])
        setattr(plan, f"{tier.value}_vacant", tier in vacant_set)
    session.flush()
    new = _plan_snapshot(plan)
    if new != old:
        log_event(session, actor, "awards.plan", plan,
                  old={k: v for k, v in old.items() if new[k] != v},
                  new={k: v for k, v in new.items() if old[k] != v})
    return plan


def plan_counts(plan: AwardPlan, n_ranked: int) -> dict[AwardTier, int]:
    """`tier_counts` for `plan` and `n_ranked` ranked entries."""
    return tier_counts(plan.quota_mode, {t: plan.quota(t) for t in TIER_ORDER},
                       [t for t in TIER_ORDER if plan.is_vacant(t)], n_ranked)


def _decisions(session: Session, track: Track) -> dict[int, AwardDecision]:
    return {d.entry_id: d for d in session.scalars(
        select(AwardDecision).where(AwardDecision.track_id == track.id)
        .options(selectinload(AwardDecision.entry)))}


# --------------------------------------------------------------------------- placement


def compute_placement(session: Session, track: Track) -> list[Placement]:
    """The plan's placement for every entry of the deciding round, in ranking order, with
    stored overrides applied (module docstring). Reads only; `apply_placement` stores it.
    Raises `AwardError` (award_no_round)."""
    plan = get_plan(session, track)
    round_ = source_round(session, track, plan)
    if round_ is None:
        raise AwardError("award_no_round")
    results = scoring.compute_results(session, round_)
    decisions = _decisions(session, track)
    overrides = {e: d for e, d in decisions.items() if d.is_override}
    ranked = [(r.entry_id, r.rank) for r in results if r.rank is not None]
    counts = plan_counts(plan, len(ranked))
    as_if_none = place(rerank(ranked), counts)
    remaining = place(rerank([(e, r) for e, r in ranked if e not in overrides]), counts)
    out = []
    for res in results:
        d = overrides.get(res.entry_id)
        out.append(Placement(
            entry_id=res.entry_id, result=res, computed_tier=as_if_none.get(res.entry_id),
            tier=d.tier if d is not None else remaining.get(res.entry_id),
            is_override=d is not None, reason=d.reason if d is not None else ""))
    return out


def apply_placement(session: Session, track: Track, actor: User | None) -> list[AwardDecision]:
    """Store the plan's placement as `track`'s provisional results (拟获奖名单): one
    AwardDecision per entry of the deciding round (overrides kept; other rows of entries
    no longer in the round removed). Logged 'awards.place' with the count per tier.
    Raises `ResultsFinalised`, `AwardError` (award_no_round, award_no_scores)."""
    ensure_open(session, track)
    plan = get_plan(session, track)
    placements = compute_placement(session, track)
    if not any(p.result.rank is not None for p in placements):
        raise AwardError("award_no_scores")
    round_ = source_round(session, track, plan)
    decisions = _decisions(session, track)
    now = utcnow()
    seen = set()
    for p in placements:
        seen.add(p.entry_id)
        d = decisions.get(p.entry_id)
        if d is None:
            d = AwardDecision(track_id=track.id, entry_id=p.entry_id, is_override=False,
                              reason="")
            session.add(d)
        d.round_id = round_.id if round_ is not None else None
        d.computed_tier = p.computed_tier
        d.rank = p.result.rank
        d.aggregate = p.result.aggregate
        d.method = str(p.result.method)
        if not d.is_override:
            d.tier = p.tier
            d.decided_by_id = actor.id if actor is not None else None
            d.decided_at = now
    for entry_id, d in decisions.items():
        if entry_id not in seen and not d.is_override:
            session.delete(d)
    plan.placed_at = now
    session.flush()
    tally: dict[str, int] = defaultdict(int)
    for p in placements:
        if p.tier is not None:
            tally[p.tier.value] += 1
    log_event(session, actor, "awards.place", plan,
              new={"round_id": round_.id if round_ else None, "counts": dict(tally)})
    return list(_decisions(session, track).values())


def override_award(session: Session, track: Track, entry: Entry, tier: AwardTier | str | None,
                   reason: str, actor: User | None) -> AwardDecision:
    """Set `entry`'s award in `track` by hand to `tier` (None: no award), with a required
    `reason`; logged 'awards.override' with old and new tier. The other entries are then
    placed again without it (overrides use no quota). Raises `ResultsFinalised`,
    `AwardError` (override_reason_required, award_entry_not_in_track)."""
    ensure_open(session, track)
    reason = (reason or "").strip()
    if not reason:
        raise AwardError("override_reason_required")
    if entry.track_id != track.id:
        raise AwardError("award_entry_not_in_track")
    new_tier = AwardTier(tier) if tier else None
    d = session.scalar(select(AwardDecision).where(AwardDecision.track_id == track.id,
                                                   AwardDecision.entry_id == entry.id))
    if d is None:
        d = AwardDecision(track_id=track.id, entry_id=entry.id)
        session.add(d)
    old = {"tier": d.tier.value if d.tier else None, "is_override": bool(d.is_override)}
    d.tier = new_tier
    d.is_override = True
    d.reason = reason
    d.decided_by_id = actor.id if actor is not None else None
    d.decided_at = utcnow()
    session.flush()
    log_event(session, actor, "awards.override", d, old=old,
              new={"tier": new_tier.value if new_tier else None, "entry": entry.code},
              reason=reason)
    _replace_if_placed(session, track, actor)
    return d


def clear_override(session: Session, track: Track, entry: Entry, actor: User | None,
                   reason: str = "") -> None:
    """Give `entry` back to the plan's placement (drop its override); logged
    'awards.override_clear'. Raises `ResultsFinalised`."""
    ensure_open(session, track)
    d = session.scalar(select(AwardDecision).where(AwardDecision.track_id == track.id,
                                                   AwardDecision.entry_id == entry.id))
    if d is None or not d.is_override:
        return
    old = {"tier": d.tier.value if d.tier else None, "reason": d.reason}
    d.is_override = False
    d.reason = ""
    session.flush()
    log_event(session, actor, "awards.override_clear", d, old=old, reason=reason)
    _replace_if_placed(session, track, actor)


def _replace_if_placed(session: Session, track: Track, actor: User | None) -> None:
    plan = get_plan(session, track)
    if plan.placed_at is not None and source_round(session, track, plan) is not None:
        try:
            apply_placement(session, track, actor)
        except AwardError:
            pass  # nothing ranked yet: the override alone stands


# --------------------------------------------------------------------------- winners, final


def winners(session: Session, track: Track) -> list[Winner]:
    """The awarded entries of `track` in award order: tier (一等奖 first), then rank in the
    deciding round (unranked overrides last), then entry code. Provisional (拟获奖名单)
    until `is_finalised(session, track)`. Withdrawn or disqualified entries never appear.
    Returns list[Winner] (position 1-based)."""
    rows = [d for d in _decisions(session, track).values()
            if d.tier is not None and d.entry.status == EntryStatus.submitted]
    rows.sort(key=lambda d: (TIER_RANK[d.tier], d.rank if d.rank is not None else 1 << 30,
                             d.entry.code or "", d.entry_id))
    return [Winner(position=i, tier=d.tier, entry=d.entry, rank=d.rank, aggregate=d.aggregate,
                   is_override=d.is_override) for i, d in enumerate(rows, start=1)]


def tracks_of(target: Track | Contest) -> list[Track]:
    """[target] for a track; every track of a contest."""
    return list(target.tracks) if isinstance(target, Contest) else [target]


def finalise(session: Session, target: Track | Contest, actor: User | None) -> list[Track]:
    """Make the results of a track (or every placed track of a contest) final: names are
    revealed to editors (logged 'results.reveal_names' with the entry codes) and the plan,
    decisions and the rounds' method settings become read-only (`ResultsFinalised`).
    Logged 'results.finalise' with the count per tier. Returns the tracks finalised.
    Raises `ResultsFinalised` (a track already final), `AwardError` (awards_not_placed)."""
    tracks = tracks_of(target)
    todo = []
    for track in tracks:
        plan = get_plan(session, track)
        if plan.is_finalised:
            if isinstance(target, Track):
                raise ResultsFinalised(track_id=track.id)
            continue
        if plan.placed_at is not None:
            todo.append((track, plan))
    if not todo:
        raise AwardError("awards_not_placed")
    now = utcnow()
    for track, plan in todo:
        plan.is_finalised = True
        plan.finalised_at = now
        plan.finalised_by_id = actor.id if actor is not None else None
        for round_ in session.scalars(select(Round).where(Round.track_id == track.id)):
            settings = scoring.get_settings(session, round_)
            settings.is_finalised = True
            settings.finalised_at = now
            settings.finalised_by_id = plan.finalised_by_id
        session.flush()
        won = winners(session, track)
        tally: dict[str, int] = defaultdict(int)
        for w in won:
            tally[w.tier.value] += 1
        log_event(session, actor, "results.finalise", plan,
                  new={"track": str(track.kind), "counts": dict(tally)})
        log_event(session, actor, "results.reveal_names", plan,
                  new={"entries": [w.entry.code for w in won]})
    return [t for t, _ in todo]


def can_reopen(user: User) -> bool:
    """Only an admin may take back a finalisation (an objection upheld in the notice period)."""
    return user.role == Role.admin


def reopen(session: Session, track: Track, actor: User, reason: str) -> AwardPlan:
    """Take back `track`'s finalisation (e.g. an objection upheld during the 公示); requires
    a `reason`; logged 'results.reopen'. The caller checks `can_reopen(actor)`.
    Raises `AwardError` (reopen_reason_required)."""
    reason = (reason or "").strip()
    if not reason:
        raise AwardError("reopen_reason_required")
    plan = get_plan(session, track)
    if not plan.is_finalised:
        return plan
    old = {"finalised_at": plan.finalised_at.isoformat() if plan.finalised_at else None}
    plan.is_finalised = False
    plan.finalised_at = None
    plan.finalised_by_id = None
    for round_ in session.scalars(select(Round).where(Round.track_id == track.id)):
        settings = scoring.get_settings(session, round_)
        settings.is_finalised = False
        settings.finalised_at = None
        settings.finalised_by_id = None
    session.flush()
    log_event(session, actor, "results.reopen", plan, old=old, reason=reason)
    return plan


def contest_finalised(session: Session, contest: Contest) -> bool:
    """True when every track of `contest` that has a round is final (and one has)."""
    with_rounds = [t for t in contest.tracks
                   if session.scalar(select(func.count(Round.id))
                                     .where(Round.track_id == t.id))]
    return bool(with_rounds) and all(is_finalised(session, t) for t in with_rounds)


# --------------------------------------------------------------------------- organisation


def get_rules(session: Session, contest: Contest) -> AwardRules:
    """`contest`'s 优秀组织奖 / 优秀指导教师奖 rule, created with the defaults on first use."""
    rules = session.scalar(select(AwardRules).where(AwardRules.contest_id == contest.id))
    if rules is None:
        rules = AwardRules(contest_id=contest.id, org_min_entries=3, org_min_awards=1,
                           org_max_units=10, points_first=5.0, points_second=3.0,
                           points_third=2.0, points_merit=1.0, adviser_award_enabled=False,
                           adviser_min_tier=AwardTier.second)
        session.add(rules)
        session.flush()
    return rules


RULE_FIELDS = ("org_min_entries", "org_min_awards", "org_max_units", "points_first",
               "points_second", "points_third", "points_merit", "adviser_award_enabled",
               "adviser_min_tier")


def update_rules(session: Session, contest: Contest, actor: User | None, **fields: object
                 ) -> AwardRules:
    """Change the rule (any of RULE_FIELDS; counts ≥ 0, points ≥ 0); logged 'awards.rules'.
    Raises `ResultsFinalised` once the contest is final, `AwardError` (plan_invalid)."""
    if contest_finalised(session, contest):
        raise ResultsFinalised(contest_id=contest.id)
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")
    rules = get_rules(session, contest)
    old = {k: _plain(getattr(rules, k)) for k in RULE_FIELDS}
    values: dict[str, object] = {}
    for key, value in fields.items():
        if key == "adviser_award_enabled":
            value = bool(value)
        elif key == "adviser_min_tier":
            value = AwardTier(value)
        elif key.startswith("org_"):
            value = int(value)  # type: ignore[arg-type]
        else:
            value = float(value)  # type: ignore[arg-type]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise AwardError("plan_invalid", detail="规则中的数值不能为负数")
        values[key] = value
    for key, value in values.items():
        setattr(rules, key, value)
    session.flush()
    new = {k: _plain(getattr(rules, k)) for k in RULE_FIELDS}
    if new != old:
        log_event(session, actor, "awards.rules", rules,
                  old={k: v for k, v in old.items() if new[k] != v},
                  new={k: v for k, v in new.items() if old[k] != v})
    return rules


def _plain(value: object) -> object:
    return value.value if isinstance(value, AwardTier) else value


def unit_stats(session: Session, contest: Contest, rules: AwardRules) -> list[UnitStats]:
    """The rule's inputs per unit with at least one submitted entry in `contest`: submitted
    (eligible) entries over all tracks, awarded entries and points from the award decisions
    in force (provisional or final)."""
    submitted = dict(session.execute(
        select(Entry.unit_id, func.count(Entry.id))
        .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.submitted)
        .group_by(Entry.unit_id)).all())
    awarded: dict[int, int] = defaultdict(int)
    points: dict[int, float] = defaultdict(float)
    track_ids = [t.id for t in contest.tracks]
    for d in session.scalars(select(AwardDecision).where(AwardDecision.track_id.in_(track_ids),
                                                         AwardDecision.tier.is_not(None))
                             .options(selectinload(AwardDecision.entry))):
        if d.entry.status != EntryStatus.submitted:
            continue
        awarded[d.entry.unit_id] += 1
        points[d.entry.unit_id] += rules.points(d.tier)
    names = dict(session.execute(select(Unit.id, Unit.name)
                                 .where(Unit.id.in_(list(submitted)))).all())
    return [UnitStats(unit_id=u, unit_name=names.get(u, ""), submitted=n,
                      awarded=awarded.get(u, 0), points=points.get(u, 0.0))
            for u, n in submitted.items()]


def propose_organisation_awards(session: Session, contest: Contest, actor: User | None
                                ) -> list[OrganisationAward]:
    """Apply the 优秀组织奖 rule (`rank_units` with `get_rules`) and store one row per unit
    with its inputs; a unit's award follows the proposal unless an editor decided it
    (kept). Logged 'awards.organisation_propose' with the proposed unit ids.
    Raises `ResultsFinalised` once the contest is final. Returns rows, ranked first."""
    if contest_finalised(session, contest):
        raise ResultsFinalised(contest_id=contest.id)
    rules = get_rules(session, contest)
    ranked = rank_units(unit_stats(session, contest, rules), min_entries=rules.org_min_entries,
                        min_awards=rules.org_min_awards, max_units=rules.org_max_units)
    existing = {a.unit_id: a for a in session.scalars(
        select(OrganisationAward).where(OrganisationAward.contest_id == contest.id))}
    seen = set()
    for s in ranked:
        seen.add(s.unit_id)
        row = existing.get(s.unit_id)
        if row is None:
            row = OrganisationAward(contest_id=contest.id, unit_id=s.unit_id, is_override=False,
                                    reason="")
            session.add(row)
        row.submitted_entries, row.awarded_entries, row.points = s.submitted, s.awarded, s.points
        row.rank, row.is_proposed = s.rank, s.is_proposed
        if not row.is_override:
            row.is_awarded = s.is_proposed
            row.decided_by_id = actor.id if actor is not None else None
            row.decided_at = utcnow()
    for unit_id, row in existing.items():
        if unit_id not in seen and not row.is_override:
            session.delete(row)
    session.flush()
    log_event(session, actor, "awards.organisation_propose", contest,
              new={"proposed": [s.unit_id for s in ranked if s.is_proposed]})
    return organisation_awards(session, contest)


def organisation_awards(session: Session, contest: Contest) -> list[OrganisationAward]:
    """Stored 优秀组织奖 rows of `contest`: ranked units first (by rank), then the rest by
    points."""
    rows = list(session.scalars(select(OrganisationAward)
                                .where(OrganisationAward.contest_id == contest.id)
                                .options(selectinload(OrganisationAward.unit))))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, -r.points, r.unit.name))
    return rows


def decide_organisation_award(session: Session, award: OrganisationAward, is_awarded: bool,
                              reason: str, actor: User | None) -> OrganisationAward:
    """An editor gives or withholds 优秀组织奖 against the proposal, with a required
    `reason`; logged 'awards.organisation_decide'. Raises `ResultsFinalised`,
    `AwardError` (override_reason_required)."""
    if contest_finalised(session, award.contest):
        raise ResultsFinalised(contest_id=award.contest_id)
    reason = (reason or "").strip()
    if not reason:
        raise AwardError("override_reason_required")
    old = {"is_awarded": award.is_awarded}
    award.is_awarded = bool(is_awarded)
    award.is_override = True
    award.reason = reason
    award.decided_by_id = actor.id if actor is not None else None
    award.decided_at = utcnow()
    session.flush()
    log_event(session, actor, "awards.organisation_decide", award, old=old,
              new={"is_awarded": award.is_awarded}, reason=reason)
    return award


def propose_adviser_awards(session: Session, contest: Contest) -> list[AdviserAward]:
    """优秀指导教师奖 (optional; `AwardRules.adviser_award_enabled`): every adviser named on
    an entry awarded `adviser_min_tier` or better, per adviser and unit, with those
    entries. Several advisers on one entry ('王老师、李老师') are each proposed. Empty when
    switched off. Ordered by best tier, then number of entries, then name."""
    rules = get_rules(session, contest)
    if not rules.adviser_award_enabled:
        return []
    limit = TIER_RANK[AwardTier(rules.adviser_min_tier)]
    groups: dict[tuple[str, str], AdviserAward] = {}
    for track in contest.tracks:
        for w in winners(session, track):
            if TIER_RANK[w.tier] > limit:
                continue
            for name in split_advisers(w.entry.adviser):
                key = (name, w.entry.unit.name)
                groups.setdefault(key, AdviserAward(adviser=name, unit_name=key[1]))
                groups[key].entries.append((w.entry, w.tier))
    out = list(groups.values())
    for a in out:
        a.entries.sort(key=lambda et: (TIER_RANK[et[1]], et[0].code or ""))
    out.sort(key=lambda a: (TIER_RANK[a.entries[0][1]], -len(a.entries), a.unit_name,
                            a.adviser))
    return out
