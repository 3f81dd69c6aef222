"""Error pages, languages, security headers and the health check."""
import pytest

from app import create_app
from tests.conftest import make_config


def test_unknown_route_is_404_in_the_browsers_language(client):
    english = client.get("/no/such/page")
    assert english.status_code == 404 and "Page not found" in english.get_data(as_text=True)
    chinese = client.get("/no/such/page", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 404 and "页面不存在" in chinese.get_data(as_text=True)


def test_405_page(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "Method not allowed" in response.get_data(as_text=True)


def test_lang_switch_is_remembered_for_the_session(client):
    assert 'lang="zh-Hans"' in client.get("/?lang=zh_Hans").get_data(as_text=True)
    assert "登录" in client.get("/login").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def test_user_setting_beats_accept_language(user_client, app, user):
    # The preference is saved by the Settings form (a POST), never by a GET.
    user_client.post_form("/settings", {"display_name": "", "bio": "", "locale": "zh_Hans"})
    from app.accounts.models import User
    from app.extensions import db

    with app.app_context():
        assert db.session.get(User, user.id).locale == "zh_Hans"
    user_client.delete_cookie("session")  # a new browser session: only the stored preference is left
    from tests.conftest import log_in

    log_in(user_client, user)
    page = user_client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "退出" in page


def test_lang_query_on_a_get_switches_the_session_only(user_client, app, user):
    from app.accounts.models import User
    from app.extensions import db

    page = user_client.get("/?lang=zh_Hans").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page  # this session reads Chinese...
    with app.app_context():
        assert db.session.get(User, user.id).locale is None  # ...but the account's preference is unchanged


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_carry_no_inline_script(client):
    for url in ("/", "/login", "/register", "/api/v1/docs"):
        html = client.get(url).get_data(as_text=True)
        for tag in html.split("<script")[1:]:
            assert "src=" in tag.split(">")[0], f"inline script on {url}"


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok", "search": "ok", "search_documents": 0}


def test_healthz_reports_unreachable_database(tmp_path):
    config = make_config("postgresql+psycopg://postgres@127.0.0.1:1/none", tmp_path)
    config.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"connect_timeout": 2}}
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503 and response.json["db"] != "ok"


@pytest.mark.parametrize("lang,text", [("en", "Something went wrong"), ("zh_Hans", "出错了")])
def test_500_page_is_translated_and_logged(fresh_app, lang, text):
    app = fresh_app  # it adds a route

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get(f"/boom?lang={lang}")
    assert response.status_code == 500 and text in response.get_data(as_text=True)


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    from app.config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY


@pytest.mark.parametrize("status", [400, 403, 404, 405, 413, 429, 500])
def test_error_pages_exist_in_both_languages(fresh_app, status):
    from flask import abort

    app = fresh_app  # it adds a route

    @app.get("/raise/<int:code>")
    def raise_status(code):
        abort(code)

    client = app.test_client()
    english = client.get(f"/raise/{status}?lang=en")
    chinese = client.get(f"/raise/{status}?lang=zh_Hans")
    assert english.status_code == chinese.status_code == status
    from app.core.errors import ERROR_TITLES

    assert str(ERROR_TITLES[status]) in english.get_data(as_text=True)
    assert 'lang="zh-Hans"' in chinese.get_data(as_text=True)
    assert english.get_data(as_text=True) != chinese.get_data(as_text=True)
