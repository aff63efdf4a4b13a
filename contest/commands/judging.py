"""CLI commands for the judging area (see contest/cli.py)."""

from __future__ import annotations

commands: list = []
