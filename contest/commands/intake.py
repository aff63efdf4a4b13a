"""CLI commands for the intake area (see contest/cli.py)."""

from __future__ import annotations

commands: list = []
