#!/usr/bin/env bash
# One command for the whole test suite: installs the Python requirements and (as root, via
# apt) Debian's chromium for the browser tests, then runs pytest. Extra args go to pytest.
# DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test bash scripts/test.sh
# runs the same suite on PostgreSQL.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "==> 安装 Debian chromium（浏览器测试）"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "chromium 安装失败：浏览器测试将跳过" >&2
fi
exec python -m pytest "$@"
