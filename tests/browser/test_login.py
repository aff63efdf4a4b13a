from tests.browser.conftest import browser_login
from tests.factories import DEFAULT_PASSWORD


def test_entrant_logs_in_through_the_form(page, live_server, entrant):
    browser_login(page, live_server, "school1", DEFAULT_PASSWORD)
    page.wait_for_url(f"{live_server}/submit/")
    assert "退出" in page.inner_text("header")
