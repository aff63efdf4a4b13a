"""Login, logout, throttling, `next`, role walls and CSRF."""

from __future__ import annotations

import pytest

from contest import create_app, db
from tests.conftest import login_client, make_test_config
from tests.factories import DEFAULT_PASSWORD


def _login(client, login, password=DEFAULT_PASSWORD, **extra):  # noqa: ANN001, ANN202
    return client.post("/auth/login", data={"login": login, "password": password, **extra},
                       follow_redirects=False)


def test_login_redirects_entrant_to_dashboard(client, entrant):
    r = _login(client, "school1")
    assert r.status_code == 302
    assert r.location.endswith("/submit/")


def test_wrong_password_shows_chinese_message(client, entrant):
    r = _login(client, "school1", "nope")
    assert r.status_code == 200
    assert "账号或密码不正确" in r.get_data(as_text=True)


def test_repeated_failures_are_slowed_down(client, entrant):
    for _ in range(5):
        _login(client, "school1", "wrong")
    r = _login(client, "school1")  # even the right password is refused while locked
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)


@pytest.mark.parametrize("target,expected", [
    ("/submit/", "/submit/"),
    ("https://evil.example/", "/submit/"),
    ("//evil.example/x", "/submit/"),
    ("/\\evil.example", "/submit/"),
])
def test_next_only_follows_local_paths(client, entrant, target, expected):
    r = client.post(f"/auth/login?next={target}",
                    data={"login": "school1", "password": DEFAULT_PASSWORD})
    assert r.status_code == 302
    assert r.location == expected


def test_logout_invalidates_remembered_login(client, entrant):
    _login(client, "school1", remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert client.post("/auth/logout").status_code == 302
    # a second browser replaying the old remember cookie gets nothing
    other = client.application.test_client()
    other.set_cookie("remember_token", cookie.value)
    r = other.get("/submit/")
    assert r.status_code == 302 and "/auth/login" in r.location


def test_change_password(entrant_client, entrant):
    r = entrant_client.post("/auth/password", data={
        "current": DEFAULT_PASSWORD, "new": "new-password-1", "confirm": "new-password-1"})
    assert r.status_code == 302
    fresh = entrant_client.application.test_client()
    assert _login(fresh, "school1", "new-password-1").status_code == 302


def test_change_password_rejects_mismatch(entrant_client):
    r = entrant_client.post("/auth/password", data={
        "current": DEFAULT_PASSWORD, "new": "new-password-1", "confirm": "other-password"})
    assert "两次输入的新密码不一致" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/submit/", "/judge/", "/admin/"])
def test_anonymous_is_sent_to_login(client, contest, path):
    r = client.get(path)
    assert r.status_code == 302 and "/auth/login" in r.location


@pytest.mark.parametrize("role,path", [
    ("juror", "/submit/"), ("juror", "/admin/"), ("entrant", "/judge/"),
    ("entrant", "/admin/"), ("editor", "/judge/"),
])
def test_role_walls(app, session, contest, role, path):
    from tests.factories import make_user

    user = make_user(session, role)
    session.commit()
    assert login_client(app, user).get(path).status_code == 403


def test_post_without_csrf_token_is_refused(tmp_path, _pg_schema):
    app = create_app(make_test_config(tmp_path, WTF_CSRF_ENABLED=True))
    if _pg_schema is None:
        db.create_schema(app)
    r = app.test_client().post("/auth/login", data={"login": "x", "password": "y"})
    assert r.status_code == 400
    assert "页面已过期" in r.get_data(as_text=True)
