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
