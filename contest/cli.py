"""`flask --app contest …` commands. Each area keeps its commands in `contest/commands/<area>.py`
as a module-level `commands` list; this module only registers them."""

from __future__ import annotations

import importlib

from flask import Flask

COMMAND_MODULES = ("core", "intake", "dedup", "judging", "results", "demo")


def register_commands(app: Flask) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"contest.commands.{name}")
        for command in module.commands:
            app.cli.add_command(command)
