#!/usr/bin/env bash
# One command to try the product: installs what it needs, creates the embedded database
# (SQLite under instance/), loads the demo contest, prints the URL and demo logins, serves.
#   bash scripts/run.sh            # demo at the entry stage (submissions open, rounds open)
#   STAGE=results bash scripts/run.sh   # demo with every round scored and results finalised
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
# The demo posters carry Chinese titles; without a CJK font they fall back to English ones.
if ! fc-list :lang=zh 2>/dev/null | grep -q . && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> 安装中文字体 fonts-noto-cjk（演示海报用）"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
    || echo "中文字体安装失败：演示海报将使用英文标题" >&2
fi
flask --app contest init-db
flask --app contest seed-demo --stage "${STAGE:-judging}" --skip-if-present
echo
echo "海报大赛评审系统已启动： http://$HOST:$PORT/"
echo "（按 Ctrl+C 停止；演示账号见上方）"
exec waitress-serve --host "$HOST" --port "$PORT" --threads 8 --call contest:create_app
