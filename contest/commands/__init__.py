"""CLI command modules; see contest/cli.py."""
