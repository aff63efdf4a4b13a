"""Domain exceptions. Services raise these; views turn them into Chinese messages via
`contest.messages.message_for(error)`. Each carries a stable `code` and the values the message
needs in `params` (actual width, size, format, ...)."""

from __future__ import annotations

from typing import Any


class ContestError(Exception):
    """Base of every domain error. `code`: stable identifier; `params`: message values."""

    code = "contest_error"
    http_status = 400

    def __init__(self, code: str | None = None, **params: Any) -> None:
        if code:
            self.code = code
        self.params = params
        super().__init__(f"{self.code}: {params}" if params else self.code)


class InvalidImage(ContestError):
    """The uploaded file breaks an intake rule. `code` in: format, width, size_small,
    size_large, corrupt, bomb, empty, animated, unsupported_jpeg, too_small_height, aspect.
    `reason` maps it to one of the six stable reason codes of `validate` (issue #2)."""

    code = "corrupt"
    REASONS = {"empty": "corrupt", "animated": "format", "unsupported_jpeg": "format",
               "too_small_height": "width", "aspect": "width"}

    @property
    def reason(self) -> str:
        """format | width | size_small | size_large | corrupt | bomb."""
        return self.REASONS.get(self.code, self.code)


class FileTooLarge(InvalidImage):
    code = "size_large"


class InvalidEntry(ContestError):
    """An entry's fields break a rule (missing caption, statement too long, quota...)."""

    code = "invalid_entry"


class RulesBroken(InvalidEntry):
    """Several rules broken at once (submitting, or editing a submitted entry), so the
    entrant sees every message together. `errors`: the single ContestErrors, each with
    params['field'] naming the form field it belongs to ('title', 'statement', 'image'...)."""

    code = "rules_broken"

    def __init__(self, errors: list[ContestError]) -> None:
        super().__init__(count=len(errors))
        self.errors = list(errors)


class PhaseClosed(ContestError):
    """The action is outside its window (submission deadline passed, round closed)."""

    code = "phase_closed"
    http_status = 409


class QuotaExceeded(ContestError):
    code = "quota"
    http_status = 409


class AlreadySubmitted(ContestError):
    code = "already_submitted"
    http_status = 409


class DuplicateRefused(ContestError):
    """Submission policy refused the image as a duplicate of the same unit's entry.
    params: entry_code, same_track (bool), kind ('exact' | 'duplicate')."""

    code = "duplicate_refused"
    http_status = 409


class NotAssigned(ContestError):
    code = "not_assigned"
    http_status = 404


class ConflictOfInterest(ContestError):
    code = "conflict_of_interest"
    http_status = 403


class SheetLocked(ContestError):
    code = "sheet_locked"
    http_status = 409


class InvalidScore(ContestError):
    """A score sheet value breaks the rubric. `code` in: score_range (params criterion, max,
    actual), score_step (criterion, actual), score_unknown_criterion, comment_too_long
    (max, actual)."""

    code = "score_range"


class RedactionInvalid(ContestError):
    """A redaction rectangle is outside the image or thinner than 0.2 % of a side."""

    code = "redaction_invalid"


class RoundError(ContestError):
    """A round action is not possible now. `code` in: round_not_open, round_state (params
    status), round_no_jurors, round_no_entries, round_entry_invalid (entry_id),
    round_rubric_locked, rubric_invalid (detail), reason_required, sheet_incomplete
    (missing), juror_invalid (login)."""

    code = "round_state"
    http_status = 409


class ResultsFinalised(ContestError):
    code = "results_finalised"
    http_status = 409


class AwardError(ContestError):
    """An awards / results action is not possible. `code` in: plan_invalid (detail),
    plan_percent_sum (total), award_no_round, award_no_scores, awards_not_placed,
    override_reason_required, award_entry_not_in_track, notice_dates (starts, ends),
    reopen_reason_required."""

    code = "plan_invalid"


class ImportRowError(ContestError):
    """A row of an import file is invalid. params: row (1-based), column, detail."""

    code = "import_row"


class WechatError(ContestError):
    """The WeChat package (公众号图文) cannot be built. `code` in: wechat_no_winners
    (track), wechat_title_too_long / wechat_digest_too_long (max, actual),
    wechat_focus_invalid (value), wechat_cover_not_winner (entry_code), wechat_image_missing
    / wechat_image_unreadable (entry_code), wechat_image_budget (name, size)."""

    code = "wechat_no_winners"
