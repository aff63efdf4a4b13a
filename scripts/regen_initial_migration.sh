#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration, regenerated from the
# models. After a release, never regenerate: add a new revision with
#   .venv/bin/alembic revision --autogenerate -m "what changed"
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
rm -f migrations/versions/0001_initial.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/alembic revision --autogenerate \
  --rev-id 0001 -m "initial schema" >/dev/null
mv migrations/versions/0001_initial_schema.py migrations/versions/0001_initial.py
rm -rf "$tmp"
echo "migrations/versions/0001_initial.py regenerated"
