"""Browser layer: Playwright driving Debian's chromium against the app served on 127.0.0.1.

The app is the test's own `app` fixture (a file-backed SQLite database, or PostgreSQL in
CI's second run) served by a werkzeug server in a thread. The whole layer skips cleanly when
/usr/bin/chromium is missing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if not shutil.which("chromium"):
                item.add_marker(pytest.mark.skip(reason="Debian chromium not installed "
                                                        "(apt-get install chromium)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # noqa: ANN001, ANN201
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):  # noqa: ANN001, ANN201
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def live_server(app) -> Iterator[str]:  # noqa: ANN001
    """Serve `app` on a free loopback port; yields the base URL ('http://127.0.0.1:PORT')."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def browser_login(page, base_url: str, login: str, password: str) -> None:  # noqa: ANN001
    """Log in through the real form."""
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
