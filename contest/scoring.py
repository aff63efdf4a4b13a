"""Rubric arithmetic, per-entry results, ranking, the sensitivity line and juror agreement.

Two layers (STYLE.md §4): pure functions over plain numbers (`ScoreRow`, lists of floats),
which the tests check against hand-computed values, and thin database functions
(`compute_results`, `sensitivity`, `agreement`, `set_method`) that load a round's scores
and call them. Services only: explicit arguments, `session.flush()`, never `commit()`.

Which scores count: complete score sheets (every criterion scored) of jurors who have
submitted the round (`RoundJuror.submitted_at` set; an unlocked sheet drops out until it is
submitted again), excluding any juror × entry whose assignment was deactivated (回避).

Scales: a juror's total is the sum of their criterion points (0 … `Round.max_total`, which
is 100 for the default rubric). The mean, trimmed mean, median and first-criterion score are
in those points; the z-score aggregate is on a 0–100 scale (see `zscore_aggregates`). With
the default rubric all three aggregates therefore share one scale.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contest.errors import ResultsFinalised
from contest.models import (AggregateMethod, Assignment, EntryStatus, Review, Round, RoundEntry,
                            RoundResultSettings, User, log_event)
from contest.models.results import DEFAULT_TOP_N, DEFAULT_TRIMMED_MIN_SCORES

METHODS: tuple[AggregateMethod, ...] = (AggregateMethod.mean, AggregateMethod.trimmed_mean,
                                        AggregateMethod.zscore)
# Values are compared for ranking after rounding to this many decimals, so float noise
# (70.00000000001 vs 70.0) never splits a tie that the displayed numbers show as equal.
TIE_DECIMALS = 6
# Juror agreement (documented on the results page): a juror is flagged as disagreeing
# strongly with the rest when the Spearman rank correlation between their totals and the
# leave-one-out consensus (mean of the other jurors' totals on the same entries) is below
# AGREEMENT_FLAG_RHO, computed over at least AGREEMENT_MIN_ENTRIES shared entries.
AGREEMENT_FLAG_RHO = 0.2
AGREEMENT_MIN_ENTRIES = 5


# --------------------------------------------------------------------------- plain data


@dataclass(frozen=True)
class ScoreRow:
    """One complete score sheet: `points` per criterion in rubric order (points, floats)."""

    entry_id: int
    juror_id: int
    points: tuple[float, ...]
    comment: str = ""

    @property
    def total(self) -> float:
        return float(sum(self.points))


@dataclass
class EntryResult:
    """One entry's results in a round.

    `juror_totals`: {juror_id: total points}. `mean`, `trimmed_mean`, `median`,
    `first_criterion` in points; `zscore` on 0–100; all None when the entry has no score.
    `is_trimmed`: the trimmed mean dropped a highest and a lowest score (n ≥ the minimum).
    `aggregate`: the value under `method`; `rank`: 1-based competition rank (ties share the
    better rank, '1224'), None for unscored or ineligible entries.
    """

    entry_id: int
    n_scores: int = 0
    juror_totals: dict[int, float] = field(default_factory=dict)
    mean: float | None = None
    trimmed_mean: float | None = None
    is_trimmed: bool = False
    zscore: float | None = None
    median: float | None = None
    first_criterion: float | None = None
    method: AggregateMethod = AggregateMethod.mean
    aggregate: float | None = None
    rank: int | None = None
    is_eligible: bool = True
    anon_code: str = ""
    entry_code: str = ""
    title: str = ""

    def value(self, method: AggregateMethod | str) -> float | None:
        """The aggregate under `method` (mean | trimmed_mean | zscore)."""
        return getattr(self, AggregateMethod(method).value)


@dataclass(frozen=True)
class SensitivityLine:
    """Compared with the chosen method's top N, under `method` the entries `entering`
    join the top N and the entries `leaving` drop out of it (EntryResult of the chosen
    method, best first)."""

    method: AggregateMethod
    top_n: int
    entering: list[EntryResult]
    leaving: list[EntryResult]

    @property
    def is_stable(self) -> bool:
        return not self.entering and not self.leaving


@dataclass
class JurorAgreement:
    """One juror's scoring in a round. `mean`/`sd`: of their totals (points; sd with
    ddof=0). `leniency`: their mean total minus the consensus on the same entries (points;
    > 0 lenient, < 0 strict). `pearson`/`spearman`: correlation of their totals with the
    leave-one-out consensus over `n_compared` entries (None when fewer than 3 entries or a
    constant vector). `is_flagged`: disagrees strongly (see AGREEMENT_FLAG_RHO)."""

    juror_id: int
    alias: str = ""
    n_scores: int = 0
    mean: float | None = None
    sd: float | None = None
    leniency: float | None = None
    n_compared: int = 0
    pearson: float | None = None
    spearman: float | None = None
    is_flagged: bool = False


@dataclass
class RoundAgreement:
    """Agreement in one round. `kendalls_w` (0–1, tie-corrected) over the `w_entries`
    entries scored by all `w_jurors` jurors; None when fewer than 2 jurors or 3 such
    entries (an incomplete design: each entry seen by some jurors only). `icc`: ICC(1)
    one-way random effects, single juror, unbalanced (see `icc_oneway`); None when it
    cannot be computed. `jurors`: per-juror agreement, alias order."""

    kendalls_w: float | None
    w_entries: int
    w_jurors: int
    icc: float | None
    jurors: list[JurorAgreement]

    @property
    def flagged(self) -> list[JurorAgreement]:
        return [j for j in self.jurors if j.is_flagged]


# --------------------------------------------------------------------------- pure functions


def trimmed_mean(values: Sequence[float], min_scores: int = DEFAULT_TRIMMED_MIN_SCORES
                 ) -> tuple[float, bool]:
    """去掉一个最高分和一个最低分后取平均 (GLOSSARY.md `trimmed_mean`).

    With at least `min_scores` values (issue #5: default 5, a setting; at least 3), drop one
    highest and one lowest and return the mean of the rest; below the minimum return the
    plain mean. Returns (value, trimmed?). Raises ValueError on an empty sequence.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(float(v) for v in values)
    if len(ordered) >= max(3, min_scores):
        return statistics.fmean(ordered[1:-1]), True
    return statistics.fmean(ordered), False


def juror_zscores(rows: Iterable[ScoreRow]) -> dict[tuple[int, int], float]:
    """Standardise each juror's totals against that juror's own scores in the round:
    z = (total − juror mean) / juror sd (population sd, ddof=0). A juror with fewer than 2
    scores or a zero sd gives z = 0 (their scores say nothing about order).
    Returns {(entry_id, juror_id): z}."""
    by_juror: dict[int, list[ScoreRow]] = defaultdict(list)
    for row in rows:
        by_juror[row.juror_id].append(row)
    out: dict[tuple[int, int], float] = {}
    for juror_id, jrows in by_juror.items():
        totals = np.array([r.total for r in jrows], dtype=float)
        sd = float(totals.std()) if len(totals) >= 2 else 0.0
        mu = float(totals.mean())
        for r, t in zip(jrows, totals, strict=True):
            out[(r.entry_id, juror_id)] = (float(t) - mu) / sd if sd > 1e-12 else 0.0
    return out


def zscore_aggregates(rows: Sequence[ScoreRow], max_total: float) -> dict[int, float]:
    """Per-juror z-score normalised mean per entry, rescaled to 0–100 (issue #5: corrects
    strict and lenient jurors).

    Each total is standardised against its juror (`juror_zscores`); an entry's z̄ is the
    mean of its jurors' z. Rescale: with G and S the mean and the population sd of all
    totals in the round expressed in percent of `max_total` (points → 0–100), the value is
    G + S·z̄, clipped to [0, 100]. So an average entry sits at the round's average score
    and a one-sd-better entry one sd higher, on the same 0–100 scale as the raw scores.
    Returns {entry_id: value}. `max_total`: the rubric's maximum total (points, > 0).
    """
    if not rows:
        return {}
    z = juror_zscores(rows)
    percents = np.array([100.0 * r.total / max_total for r in rows], dtype=float)
    grand, spread = float(percents.mean()), float(percents.std())
    per_entry: dict[int, list[float]] = defaultdict(list)
    for r in rows:
        per_entry[r.entry_id].append(z[(r.entry_id, r.juror_id)])
    return {eid: min(100.0, max(0.0, grand + spread * statistics.fmean(zs)))
            for eid, zs in per_entry.items()}


def aggregate_rows(rows: Sequence[ScoreRow], *, max_total: float,
                   trimmed_min_scores: int = DEFAULT_TRIMMED_MIN_SCORES,
                   entry_ids: Iterable[int] = ()) -> dict[int, EntryResult]:
    """Every aggregate of every entry in `rows` (plus `entry_ids` with no rows, which stay
    empty): n, juror totals, mean, trimmed mean, z-score (0–100), median of juror totals,
    and the mean score on the first criterion. Returns {entry_id: EntryResult} unranked."""
    by_entry: dict[int, list[ScoreRow]] = defaultdict(list)
    for row in rows:
        by_entry[row.entry_id].append(row)
    zs = zscore_aggregates(rows, max_total)
    results = {eid: EntryResult(entry_id=eid) for eid in entry_ids}
    for eid, erows in by_entry.items():
        totals = [r.total for r in erows]
        tmean, is_trimmed = trimmed_mean(totals, trimmed_min_scores)
        results[eid] = EntryResult(
            entry_id=eid, n_scores=len(erows),
            juror_totals={r.juror_id: r.total for r in erows},
            mean=statistics.fmean(totals), trimmed_mean=tmean, is_trimmed=is_trimmed,
            zscore=zs.get(eid), median=float(statistics.median(totals)),
            first_criterion=statistics.fmean(r.points[0] for r in erows) if erows[0].points
            else None)
    return results


def _tie_key(result: EntryResult, method: AggregateMethod) -> tuple[float, float, float]:
    def r(value: float | None) -> float:
        return -math.inf if value is None else round(value, TIE_DECIMALS)

    return (r(result.value(method)), r(result.median), r(result.first_criterion))


def rank_results(results: Iterable[EntryResult], method: AggregateMethod | str
                 ) -> list[EntryResult]:
    """Rank entries under `method`; returns them best first with `aggregate` and `rank` set.

    Tie-break chain (issue #5; documented as CTFd `get_standings` documents its order):
      1. the chosen aggregate, higher first;
      2. then the median of the juror totals, higher first;
      3. then the mean score on the rubric's first criterion (思想性与主题 by default),
         higher first;
      4. entries still equal share a rank (competition ranking: 1, 2, 2, 4), listed by
         评审编号.
    Values are compared after rounding to TIE_DECIMALS decimals. Entries that are not
    eligible (withdrawn, disqualified) or have no score get rank None and come last.
    """
    method = AggregateMethod(method)
    items = list(results)
    for res in items:
        res.method = method
        res.aggregate = res.value(method)
        res.rank = None
    ranked = [r for r in items if r.is_eligible and r.n_scores > 0 and r.aggregate is not None]
    ranked_ids = {id(r) for r in ranked}
    rest = [r for r in items if id(r) not in ranked_ids]
    ranked.sort(key=lambda r: (tuple(-k for k in _tie_key(r, method)), r.anon_code, r.entry_id))
    previous: tuple[float, float, float] | None = None
    for position, res in enumerate(ranked, start=1):
        key = _tie_key(res, method)
        res.rank = ranked[position - 2].rank if key == previous else position
        previous = key
    rest.sort(key=lambda r: (r.anon_code, r.entry_id))
    return ranked + rest


def top_n_ids(ranked: Iterable[EntryResult], top_n: int) -> set[int]:
    """Entry ids ranked within the top `top_n` (rank ≤ N, so a tie at the boundary takes
    every tied entry in)."""
    return {r.entry_id for r in ranked if r.rank is not None and r.rank <= top_n}


def compare_top_n(by_method: Mapping[AggregateMethod, list[EntryResult]],
                  base: AggregateMethod | str, top_n: int) -> list[SensitivityLine]:
    """The sensitivity line: for each method other than `base`, which entries enter and
    which leave the top `top_n` if the ranking used that method instead of `base`.
    `by_method`: {method: ranked results}. Entries are listed in the base ranking's order
    (entering ones that are unranked under `base` last)."""
    base = AggregateMethod(base)
    base_list = by_method[base]
    order = {r.entry_id: i for i, r in enumerate(base_list)}
    by_id = {r.entry_id: r for r in base_list}
    base_top = top_n_ids(base_list, top_n)
    lines = []
    for method, ranked in by_method.items():
        if method == base:
            continue
        other_top = top_n_ids(ranked, top_n)
        entering = sorted(other_top - base_top, key=lambda i: order.get(i, 1 << 30))
        leaving = sorted(base_top - other_top, key=lambda i: order.get(i, 1 << 30))
        lines.append(SensitivityLine(method=AggregateMethod(method), top_n=top_n,
                                     entering=[by_id[i] for i in entering if i in by_id],
                                     leaving=[by_id[i] for i in leaving]))
    return lines


def shortlist(ranked: Iterable[EntryResult], *, top_n: int | None = None,
              threshold: float | None = None) -> list[EntryResult]:
    """Cut a shortlist (入围) from a ranking: the entries ranked within `top_n` (ties at the
    boundary all go through), and/or whose aggregate is at least `threshold` (same scale as
    the aggregate). With both, an entry must meet both. Returns best first."""
    out = []
    for res in ranked:
        if res.rank is None or res.aggregate is None:
            continue
        if top_n is not None and res.rank > top_n:
            continue
        if threshold is not None and round(res.aggregate, TIE_DECIMALS) < threshold:
            continue
        out.append(res)
    return out


def _pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 3:
        return None
    da, db = a - a.mean(), b - b.mean()
    denom = math.sqrt(float((da * da).sum()) * float((db * db).sum()))
    if denom < 1e-12:
        return None
    return float((da * db).sum()) / denom


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation of two equal-length sequences; None with fewer than 3 pairs or a
    constant sequence."""
    return _pearson(x, y)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation: Pearson correlation of the average ranks (ties get the
    mean of their ranks). None with fewer than 3 pairs or a constant sequence."""
    if len(x) < 3:
        return None
    return _pearson(rankdata(x), rankdata(y))


def kendalls_w(matrix: Sequence[Sequence[float]]) -> float | None:
    """Kendall's coefficient of concordance W with the tie correction.

    `matrix`: m rows (jurors) × n columns (entries) of scores, complete. Each juror's scores
    are ranked (ties get average ranks); with R_i the rank sum of entry i,
    S = Σ (R_i − m(n+1)/2)², T_j = Σ over tie groups of juror j of (t³ − t):
        W = 12·S / (m²·(n³ − n) − m·Σ T_j).
    Returns 0–1 (1: every juror orders the entries the same way); None when m < 2, n < 3
    or the denominator is 0 (every juror tied everything).
    """
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2:
        return None
    m, n = data.shape
    if m < 2 or n < 3:
        return None
    ranks = np.vstack([rankdata(row) for row in data])
    rank_sums = ranks.sum(axis=0)
    s = float(((rank_sums - m * (n + 1) / 2.0) ** 2).sum())
    ties = 0.0
    for row in data:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denom = m * m * (n ** 3 - n) - m * ties
    if denom <= 0:
        return None
    return 12.0 * s / denom


def icc_oneway(groups: Sequence[Sequence[float]]) -> float | None:
    """ICC(1): one-way random effects, agreement of a single juror (Shrout & Fleiss ICC(1,1)),
    for an unbalanced design where each entry has its own jurors.

    `groups`: per entry, the totals it received; entries with fewer than 2 scores are left
    out. With a entries, N scores, k_i scores of entry i:
        MSB = Σ k_i (ȳ_i − ȳ)² / (a − 1),  MSW = Σ Σ (y − ȳ_i)² / (N − a),
        k0 = (N − Σ k_i² / N) / (a − 1)     (= k when balanced),
        ICC = (MSB − MSW) / (MSB + (k0 − 1)·MSW).
    Returns a value ≤ 1 (may be negative); None when a < 2 or the denominator is 0.
    """
    usable = [np.asarray(g, dtype=float) for g in groups if len(g) >= 2]
    a = len(usable)
    if a < 2:
        return None
    n_total = sum(len(g) for g in usable)
    grand = float(np.concatenate(usable).mean())
    ssb = sum(len(g) * (float(g.mean()) - grand) ** 2 for g in usable)
    ssw = sum(float(((g - g.mean()) ** 2).sum()) for g in usable)
    msb = ssb / (a - 1)
    msw = ssw / (n_total - a)
    k0 = (n_total - sum(len(g) ** 2 for g in usable) / n_total) / (a - 1)
    denom = msb + (k0 - 1) * msw
    if abs(denom) < 1e-12:
        return None
    return (msb - msw) / denom


def juror_agreement(rows: Sequence[ScoreRow], *, flag_rho: float = AGREEMENT_FLAG_RHO,
                    min_entries: int = AGREEMENT_MIN_ENTRIES) -> list[JurorAgreement]:
    """Per juror: n, mean and sd of their totals, leniency, and the Pearson and Spearman
    correlation of their totals with the leave-one-out consensus (for each entry they
    scored, the mean of the *other* jurors' totals; entries nobody else scored are left
    out). Flagged when Spearman < `flag_rho` over at least `min_entries` entries.
    Returns one JurorAgreement per juror, by juror id (aliases are filled in by callers)."""
    by_entry: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_entry[row.entry_id][row.juror_id] = row.total
    by_juror: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_juror[row.juror_id][row.entry_id] = row.total
    out = []
    for juror_id in sorted(by_juror):
        mine = by_juror[juror_id]
        totals = np.array(list(mine.values()), dtype=float)
        xs, cs = [], []
        for entry_id, total in mine.items():
            others = [t for j, t in by_entry[entry_id].items() if j != juror_id]
            if others:
                xs.append(total)
                cs.append(statistics.fmean(others))
        rho = spearman(xs, cs)
        out.append(JurorAgreement(
            juror_id=juror_id, n_scores=len(mine), mean=float(totals.mean()),
            sd=float(totals.std()), n_compared=len(xs),
            leniency=statistics.fmean(x - c for x, c in zip(xs, cs, strict=True)) if xs
            else None,
            pearson=pearson(xs, cs), spearman=rho,
            is_flagged=bool(rho is not None and len(xs) >= min_entries and rho < flag_rho)))
    return out


def round_agreement(rows: Sequence[ScoreRow], **flag_kw: float) -> RoundAgreement:
    """Kendall's W over the complete block (entries scored by every juror present in
    `rows`), ICC(1) over all entries, and per-juror agreement. See `kendalls_w`,
    `icc_oneway`, `juror_agreement`."""
    jurors = sorted({r.juror_id for r in rows})
    by_entry: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_entry[row.entry_id][row.juror_id] = row.total
    block = sorted(e for e, scores in by_entry.items() if len(scores) == len(jurors))
    w = None
    if len(jurors) >= 2 and len(block) >= 3:
        w = kendalls_w([[by_entry[e][j] for e in block] for j in jurors])
    icc = icc_oneway([list(s.values()) for s in by_entry.values()])
    return RoundAgreement(kendalls_w=w, w_entries=len(block) if w is not None else 0,
                          w_jurors=len(jurors) if w is not None else 0, icc=icc,
                          jurors=juror_agreement(rows, **flag_kw))


# --------------------------------------------------------------------------- database layer


def get_settings(session: Session, round_: Round) -> RoundResultSettings:
    """The results settings of `round_`, created with the defaults (mean; trimmed mean from
    5 scores; top 10) on first use (flushes)."""
    settings = session.scalar(select(RoundResultSettings)
                              .where(RoundResultSettings.round_id == round_.id))
    if settings is None:
        settings = RoundResultSettings(round_id=round_.id, method=AggregateMethod.mean,
                                       trimmed_min_scores=DEFAULT_TRIMMED_MIN_SCORES,
                                       top_n=DEFAULT_TOP_N, is_finalised=False)
        session.add(settings)
        session.flush()
    return settings


def set_method(session: Session, round_: Round, actor: User | None, *,
               method: AggregateMethod | str | None = None,
               trimmed_min_scores: int | None = None,
               top_n: int | None = None) -> RoundResultSettings:
    """Choose the aggregate that ranks `round_` and/or the trimmed-mean minimum (≥ 3
    scores) and sensitivity N (≥ 1); logged 'results.method' with old and new values.
    Raises `ResultsFinalised` once the round's results are final, ValueError on a bad value."""
    settings = get_settings(session, round_)
    if settings.is_finalised:
        raise ResultsFinalised(round_id=round_.id)
    old = {"method": str(settings.method), "trimmed_min_scores": settings.trimmed_min_scores,
           "top_n": settings.top_n}
    if method is not None:
        settings.method = AggregateMethod(method)
    if trimmed_min_scores is not None:
        if int(trimmed_min_scores) < 3:
            raise ValueError("trimmed_min_scores must be at least 3")
        settings.trimmed_min_scores = int(trimmed_min_scores)
    if top_n is not None:
        if int(top_n) < 1:
            raise ValueError("top_n must be at least 1")
        settings.top_n = int(top_n)
    session.flush()
    new = {"method": str(settings.method), "trimmed_min_scores": settings.trimmed_min_scores,
           "top_n": settings.top_n}
    if new != old:
        log_event(session, actor, "results.method", round_,
                  old={k: v for k, v in old.items() if new[k] != v},
                  new={k: v for k, v in new.items() if old[k] != v})
    return settings


def ensure_round_open_for_results(session: Session, round_: Round) -> None:
    """Raise `ResultsFinalised` when `round_`'s results are final. Judging services may call
    this before changing a score of a finalised round."""
    settings = session.scalar(select(RoundResultSettings)
                              .where(RoundResultSettings.round_id == round_.id))
    if settings is not None and settings.is_finalised:
        raise ResultsFinalised(round_id=round_.id)


def load_score_rows(session: Session, round_: Round) -> list[ScoreRow]:
    """The round's countable score sheets as `ScoreRow`s (see the module docstring: complete
    sheets of jurors who submitted the round, without deactivated assignments), points in
    rubric order."""
    position = {c.id: i for i, c in enumerate(round_.criteria)}
    submitted = {rj.juror_id for rj in round_.jurors if rj.submitted_at is not None}
    inactive = set(session.execute(
        select(Assignment.entry_id, Assignment.juror_id)
        .where(Assignment.round_id == round_.id, Assignment.is_active.is_(False))).all())
    reviews = session.scalars(select(Review).where(Review.round_id == round_.id)
                              .options(selectinload(Review.scores))
                              .order_by(Review.entry_id, Review.juror_id))
    rows = []
    for review in reviews:
        if review.juror_id not in submitted or (review.entry_id, review.juror_id) in inactive:
            continue
        points: list[float | None] = [None] * len(position)
        for score in review.scores:
            if score.criterion_id in position:
                points[position[score.criterion_id]] = float(score.points)
        if not points or any(p is None for p in points):
            continue
        rows.append(ScoreRow(entry_id=review.entry_id, juror_id=review.juror_id,
                             points=tuple(p for p in points if p is not None),
                             comment=review.comment or ""))
    return rows


def alias_for(index: int) -> str:
    """0 → '评委A', 25 → '评委Z', 26 → '评委AA': the same format the judging area stores in
    `RoundJuror.alias` (used only for a juror row that has none)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rem] + letters
    return f"评委{letters}"


def juror_aliases(round_: Round) -> dict[int, str]:
    """{juror_id: '评委A', …}: the round's stored aliases; a juror without one gets the next
    letter after the others in RoundJuror order. Results show jurors only by alias outside
    the editors' own pages."""
    aliases: dict[int, str] = {}
    used = {rj.alias for rj in round_.jurors if rj.alias}
    index = 0
    for rj in sorted(round_.jurors, key=lambda r: r.id or 0):
        if rj.alias:
            aliases[rj.juror_id] = rj.alias
            continue
        while alias_for(index) in used:
            index += 1
        aliases[rj.juror_id] = alias_for(index)
        used.add(aliases[rj.juror_id])
    return aliases


def _round_entries(session: Session, round_: Round) -> list[RoundEntry]:
    return list(session.scalars(select(RoundEntry).where(RoundEntry.round_id == round_.id)
                                .options(selectinload(RoundEntry.entry))
                                .order_by(RoundEntry.anon_code)))


def compute_all_methods(session: Session, round_: Round,
                        rows: Sequence[ScoreRow] | None = None
                        ) -> dict[AggregateMethod, list[EntryResult]]:
    """The round's results ranked under each of the three methods:
    {method: [EntryResult best first]} (each list holds its own EntryResult objects)."""
    rows = load_score_rows(session, round_) if rows is None else rows
    settings = get_settings(session, round_)
    round_entries = _round_entries(session, round_)
    max_total = round_.max_total or 100.0
    out = {}
    for method in METHODS:
        results = aggregate_rows(rows, max_total=max_total,
                                 trimmed_min_scores=settings.trimmed_min_scores,
                                 entry_ids=[re.entry_id for re in round_entries])
        for re in round_entries:
            res = results[re.entry_id]
            res.anon_code = re.anon_code
            res.entry_code = re.entry.code or ""
            res.title = re.entry.title
            res.is_eligible = re.entry.status == EntryStatus.submitted
        # scores of an entry no longer in the round are ignored
        in_round = {re.entry_id for re in round_entries}
        out[method] = rank_results([r for e, r in results.items() if e in in_round], method)
    return out


def compute_results(session: Session, round_: Round,
                    method: AggregateMethod | str | None = None) -> list[EntryResult]:
    """Results of every entry of `round_` ranked under `method` ("mean" | "trimmed_mean" |
    "zscore"; default the round's chosen method), best first; see `rank_results` for the
    tie-break chain and `aggregate_rows` for the values. Reads only."""
    settings = get_settings(session, round_)
    chosen = AggregateMethod(method) if method is not None else settings.method
    return compute_all_methods(session, round_)[chosen]


def sensitivity(session: Session, round_: Round, top_n: int | None = None,
                method: AggregateMethod | str | None = None) -> list[SensitivityLine]:
    """Which entries enter or leave the top `top_n` (default the round's setting, 10) if the
    round were ranked by each other method instead of `method` (default the chosen one)."""
    settings = get_settings(session, round_)
    base = AggregateMethod(method) if method is not None else settings.method
    return compare_top_n(compute_all_methods(session, round_), base, top_n or settings.top_n)


def agreement(session: Session, round_: Round,
              rows: Sequence[ScoreRow] | None = None) -> RoundAgreement:
    """Juror agreement in `round_` (`round_agreement`), with each juror's alias filled in
    and jurors listed in alias order."""
    rows = load_score_rows(session, round_) if rows is None else rows
    result = round_agreement(rows)
    aliases = juror_aliases(round_)
    for ja in result.jurors:
        ja.alias = aliases.get(ja.juror_id, "")
    result.jurors.sort(key=lambda j: (len(j.alias), j.alias))
    return result


def pending_jurors(round_: Round) -> list[str]:
    """Aliases of the round's jurors who have not submitted their sheet (their scores are
    not counted yet), in alias order."""
    aliases = juror_aliases(round_)
    names = [aliases[rj.juror_id] for rj in round_.jurors if rj.submitted_at is None]
    return sorted(names, key=lambda a: (len(a), a))
