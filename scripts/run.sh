#!/usr/bin/env bash
# One command to try the product: installs what it needs, creates the embedded database
# (SQLite under instance/), loads the demo contest, prints the URL and demo logins, serves.
#   bash scripts/run.sh            # demo at the entry stage (submissions open, rounds open)
#   STAGE=results bash scripts/run.sh   # demo with every round scored and results finalised
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
flask --app contest init-db
flask --app contest seed-demo --stage "${STAGE:-judging}" --skip-if-present
echo
echo "海报大赛评审系统已启动： http://$HOST:$PORT/"
echo "（按 Ctrl+C 停止；演示账号见上方）"
exec waitress-serve --host "$HOST" --port "$PORT" --threads 8 --call contest:create_app
