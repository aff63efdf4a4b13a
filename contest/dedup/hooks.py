"""The one seam between intake and duplicate detection.

The entries service calls `image_stored` after it has added (and flushed) the `EntryFile` of
a new or replacing original, before it commits. Duplicate detection computes the
fingerprint, enforces the submission policy and records flags for editors here.
"""

from __future__ import annotations

from PIL import Image
from sqlalchemy.orm import Session

from contest.models import Entry, EntryFile


def image_stored(session: Session, entry: Entry, entry_file: EntryFile,
                 image: Image.Image) -> None:
    """Fingerprint `image` (the normalised RGB image of `entry_file`), apply the submission
    policy and record duplicate flags (`contest.dedup.service.check_new_image`; the policy
    is in that module's docstring). Flushes; never commits.

    :raises DuplicateRefused: the image duplicates the same unit's entry (same track, or the
        other track); the caller rolls back and removes the stored file. Params: entry_code
        (None for a draft), entry_title, is_draft, same_track, kind ('exact'|'duplicate').
    """
    from contest.dedup.service import check_new_image

    check_new_image(session, entry, entry_file, image)


def prepare(image: Image.Image, sha256: str, *, session: Session | None = None,
            entry: Entry | None = None) -> None:
    """Optional, before the write transaction: fingerprint `image` (normalised RGB of the
    upload whose original bytes have SHA-256 `sha256`) and, given a read-only `session` and
    the `entry` it will belong to, verify the candidates, so `image_stored` on the same
    image object holds the SQLite write lock only for the database work (PITFALLS.md #13).
    Never raises for a valid image; DuplicateRefused still comes from `image_stored`."""
    from contest.dedup.service import precompute

    precompute(image, sha256, session=session, entry=entry)


def entry_submitting(session: Session, entry: Entry) -> None:
    """Call before `entry` becomes submitted (a draft submitted, a withdrawn entry
    submitted again): the submission policy against the unit's entries as they are now
    (`contest.dedup.service.check_entry_submission`). Reads only.

    :raises DuplicateRefused: as `image_stored`; the caller rolls back.
    """
    from contest.dedup.service import check_entry_submission

    check_entry_submission(session, entry)
