"""CLI commands for the results area (see contest/cli.py)."""

from __future__ import annotations

commands: list = []
