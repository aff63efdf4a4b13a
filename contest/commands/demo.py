"""CLI commands for the demo area (see contest/cli.py)."""

from __future__ import annotations

commands: list = []
