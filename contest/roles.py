"""Role walls: one `before_request` guard per blueprint (STYLE.md §5)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, redirect, request, url_for
from flask_login import current_user


def require_roles(*roles: str) -> Callable[[], object]:
    """Return a `before_request` hook: anonymous → login page (with a local `next`);
    a logged-in user of another role → 403."""

    def guard():  # noqa: ANN202
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if str(current_user.role) not in roles:
            abort(403)
        return None

    return guard
