"""The /api/v1 frame: tokens, problem+json errors, OpenAPI document, cursor pagination."""
from datetime import timedelta

from app.accounts import services
from app.accounts.models import User
from app.core.clock import frozen_at, now
from app.extensions import db

PROBLEM = "application/problem+json"


def token_for(app, user, days=None) -> str:
    with app.app_context():
        _token, secret = services.create_token(db.session.get(User, user.id), "test", days)
        return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_me_with_token(client, app, user):
    response = client.get("/api/v1/me", headers=bearer(token_for(app, user)))
    assert response.status_code == 200
    assert response.json["username"] == user.username and response.json["email"] == user.email
    assert "password_hash" not in response.json
    assert "Set-Cookie" not in response.headers  # token calls do not start a session


def test_patch_me_changes_profile(client, app, user):
    response = client.patch("/api/v1/me", json={"display_name": "Ann API", "locale": "zh_Hans"},
                            headers=bearer(token_for(app, user)))
    assert response.status_code == 200 and response.json["display_name"] == "Ann API"
    with app.app_context():
        assert db.session.get(User, user.id).locale == "zh_Hans"


def test_patch_me_validation_error_is_problem_with_fields(client, app, user):
    response = client.patch("/api/v1/me", json={"locale": "fr", "bogus": 1}, headers=bearer(token_for(app, user)))
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert set(response.json["errors"]) == {"locale", "bogus"}
    with app.app_context():
        assert db.session.get(User, user.id).locale is None


def test_field_messages_are_in_the_readers_language(client, app, user):
    body = {"display_name": 5, "bio": "x" * 501, "locale": "fr", "bogus": 1}
    token = bearer(token_for(app, user))
    chinese = client.patch("/api/v1/me", json=body, headers={**token, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 422 and chinese.content_type == PROBLEM
    assert chinese.json["errors"] == {
        "display_name": ["不是有效的字符串。"],
        "bio": ["长度超过上限 500。"],
        "locale": ["必须是以下之一：en, zh_Hans。"],
        "bogus": ["未知字段。"],
    }
    english = client.patch("/api/v1/me", json=body, headers={**token, "Accept-Language": "en"})
    assert english.json["errors"]["bio"] == ["Longer than the maximum length of 500."]
    assert english.json["errors"]["locale"] == ["Must be one of: en, zh_Hans."]
    with app.app_context():
        assert db.session.get(User, user.id).bio != "x" * 501


def test_range_messages_keep_their_figures_in_chinese(client):
    response = client.get("/api/v1/search?q=tea&page=0&per_page=x", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert response.json["errors"]["per_page"] == ["不是有效的整数。"]
    page = response.json["errors"]["page"]
    assert len(page) == 1 and page[0].startswith("必须大于或等于 1，并且小于或等于 ")


def test_malformed_json_is_400_problem(client, app, user):
    response = client.patch("/api/v1/me", data="{not json", content_type="application/json",
                            headers=bearer(token_for(app, user)))
    assert response.status_code == 400 and response.content_type == PROBLEM
    assert response.json["status"] == 400 and response.json["title"]


def test_revoked_token_is_401_problem(client, app, user):
    secret = token_for(app, user)
    with app.app_context():
        token = db.session.scalar(db.select(services.ApiToken))
        services.revoke_token(db.session.get(User, user.id), token.id)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and response.content_type == PROBLEM
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_401_problem(client, app, user):
    secret = token_for(app, user, days=1)
    with frozen_at(now() + timedelta(days=3)):
        response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and response.content_type == PROBLEM


def test_garbage_authorization_header_is_401(client):
    for header in ("Bearer", "Basic abc", "Bearer tm_made_up"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401 and response.content_type == PROBLEM


def test_session_cookie_works_for_reads_and_needs_csrf_for_writes(user_client, app, user):
    assert user_client.get("/api/v1/me").json["username"] == user.username
    refused = user_client.patch("/api/v1/me", json={"display_name": "No CSRF"})
    assert refused.status_code == 400 and refused.content_type == PROBLEM
    allowed = user_client.patch("/api/v1/me", json={"display_name": "With CSRF"},
                                headers={"X-CSRFToken": user_client.csrf_token()})
    assert allowed.status_code == 200 and allowed.json["display_name"] == "With CSRF"


def test_public_user_and_unknown_user(client, user):
    assert client.get(f"/api/v1/users/{user.username.upper()}").json["username"] == user.username
    missing = client.get("/api/v1/users/nobody")
    assert missing.status_code == 404 and missing.content_type == PROBLEM


def test_unknown_api_route_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.content_type == PROBLEM


def test_openapi_document_lists_endpoints_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/me", "/api/v1/users/{username}", "/api/v1/me/tokens"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.get_data(as_text=True)


def test_token_list_cursor_pagination_and_tampered_cursor(client, app, user):
    secrets_made = [token_for(app, user) for _ in range(5)]
    headers = bearer(secrets_made[0])
    first = client.get("/api/v1/me/tokens?limit=2", headers=headers).json
    second = client.get(f"/api/v1/me/tokens?limit=2&cursor={first['next_cursor']}", headers=headers).json
    third = client.get(f"/api/v1/me/tokens?limit=2&cursor={second['next_cursor']}", headers=headers).json
    ids = [t["id"] for page in (first, second, third) for t in page["items"]]
    assert sorted(ids, reverse=True) == ids and len(set(ids)) == 5 and third["next_cursor"] is None
    tampered = client.get(f"/api/v1/me/tokens?cursor={first['next_cursor'][:-2]}xx", headers=headers)
    assert tampered.status_code == 422 and tampered.content_type == PROBLEM
    assert "cursor" in tampered.json["errors"]
