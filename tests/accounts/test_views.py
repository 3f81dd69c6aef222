"""Account pages as a browser without JavaScript uses them."""
import io

from PIL import Image
from sqlalchemy import func, select

from app.accounts.models import ApiToken, User
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD, log_in


def users_in(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def test_register_logs_in_and_shows_profile(client, app):
    response = client.post_form("/register", {"username": "Newbie", "email": "new@example.com",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Newbie" in home and "Log out" in home
    profile = client.get("/u/newbie")
    assert profile.status_code == 200 and "@Newbie" in profile.get_data(as_text=True)
    assert users_in(app) == 1


def test_duplicate_username_shows_form_error_and_changes_nothing(client, app, make_user):
    make_user("taken")
    response = client.post_form("/register", {"username": "TAKEN", "email": "other@example.com",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert "This username is taken." in response.get_data(as_text=True)
    assert users_in(app) == 1


def test_weak_password_is_explained(client, app):
    response = client.post_form("/register", {"username": "ann", "email": "a@example.com", "password": "abc"})
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert users_in(app) == 0


def test_missing_csrf_token_is_refused_without_change(client, app):
    response = client.post("/register", data={"username": "ann", "email": "a@example.com",
                                               "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert users_in(app) == 0


def test_wrong_password_does_not_reveal_whether_account_exists(client, user):
    wrong = client.post_form("/login", {"login": user.username, "password": "Wrong-password-1"})
    missing = client.post_form("/login", {"login": "nobody_here", "password": "Wrong-password-1"})
    assert wrong.status_code == missing.status_code == 422
    assert "Wrong username/email or password." in wrong.get_data(as_text=True)
    assert "Wrong username/email or password." in missing.get_data(as_text=True)


def test_login_remember_me_sets_cookie_and_logout_ends_session(client, user):
    response = log_in(client, user, remember=True)
    assert response.status_code == 302
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))
    assert client.get("/settings").status_code == 200
    client.post_form("/logout")
    assert client.get("/settings").status_code == 302


def test_login_does_not_redirect_off_site(client, user):
    response = client.post_form("/login?next=https://evil.example/", {"login": user.username,
                                                                      "password": user.password})
    assert response.headers["Location"] == "/"


def test_login_is_rate_limited(client, user):
    statuses = [client.post_form("/login", {"login": user.username, "password": "Wrong-pass-123"}).status_code
                for _ in range(12)]
    assert statuses[:10] == [422] * 10
    assert statuses[-1] == 429


def test_settings_change_display_name_bio_language(user_client, app, user):
    response = user_client.post_form("/settings", {"display_name": "Ann L.", "bio": "Hiker", "locale": "zh_Hans"})
    assert response.status_code == 302
    page = user_client.get("/settings").get_data(as_text=True)
    assert "保存" in page  # the user's language now applies
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert (stored.display_name, stored.bio, stored.locale) == ("Ann L.", "Hiker", "zh_Hans")


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_avatar_upload_real_image(user_client, app, user):
    response = user_client.post_form("/settings", {"display_name": "", "bio": "", "locale": "en",
                                                   "avatar": (io.BytesIO(_png_bytes()), "me.png")},
                                     content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        path = db.session.get(User, user.id).avatar_path
    assert path and path.endswith(".webp")
    media = user_client.get(f"/media/{path}")
    assert media.status_code == 200 and "immutable" in media.headers["Cache-Control"]


def test_text_file_renamed_png_is_refused_as_avatar(user_client, app, user):
    response = user_client.post_form("/settings", {"display_name": "Changed", "bio": "", "locale": "en",
                                                   "avatar": (io.BytesIO(b"just some text"), "evil.png")},
                                     content_type="multipart/form-data")
    assert response.status_code == 422
    assert "not an image we can read" in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert stored.avatar_path is None and stored.display_name == ""


def test_fifty_megabyte_upload_gets_413_page(user_client, app, user):
    big = io.BytesIO(b"\0" * (50 * 1024 * 1024))
    response = user_client.post("/settings", data={"avatar": (big, "big.png"), "display_name": "X"},
                                content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Upload too large" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).display_name == ""


def test_password_change_page(user_client, user):
    bad = user_client.post_form("/settings/password", {"current_password": "nope-Nope-1",
                                                        "new_password": "Brand-new-pass-7"})
    assert bad.status_code == 422 and "current password is not right" in bad.get_data(as_text=True)
    ok = user_client.post_form("/settings/password", {"current_password": user.password,
                                                       "new_password": "Brand-new-pass-7"})
    assert ok.status_code == 302


def test_create_token_shows_secret_once_then_revoke(user_client, app, user):
    page = user_client.post_form("/settings/tokens", {"name": "script", "expires_in_days": "30"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "tm_" in html and page.headers["Cache-Control"] == "no-store"
    again = user_client.get("/settings/tokens").get_data(as_text=True)
    assert "script" in again and 'data-testid="new-token"' not in again
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    user_client.post_form(f"/settings/tokens/{token_id}/revoke")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_revoking_another_users_token_is_404(client, app, make_user):
    owner, other = make_user("owner"), make_user("other")
    from app.accounts.services import create_token

    with app.app_context():
        token, _secret = create_token(db.session.get(User, owner.id), "mine")
        token_id = token.id
    log_in(client, other)
    assert client.post_form(f"/settings/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_settings_requires_login(client):
    response = client.get("/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
