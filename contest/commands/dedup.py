"""CLI commands for the dedup area (see contest/cli.py)."""

from __future__ import annotations

commands: list = []
