"""Log-in limits per account, neutral registration, safe names."""
import pytest
from sqlalchemy import func, select

from app.accounts.models import OutboundEmail, User
from app.accounts.services import check_name_characters, update_profile
from app.core.errors import Invalid
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD, log_in


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# --- log-in limited per account as well as per address -------------------------------------------

def test_failed_log_ins_on_one_account_from_many_addresses_are_limited(app, client, user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "5 per hour"
    statuses = []
    for attempt in range(7):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{attempt + 1}"  # a new address every time
        login = user.email if attempt % 2 else user.username  # username and email count together
        statuses.append(client.post_form("/login", {"login": login, "password": "Wrong-pass-123"}).status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]
    # The right password is refused too while the account is limited: guessing gains nothing.
    client.environ_base["REMOTE_ADDR"] = "203.0.113.99"
    assert log_in(client, user).status_code == 429


def test_account_limit_counts_failures_only_and_not_other_accounts(app, client, make_user):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per hour"
    ann, bob = make_user("ann"), make_user("bob")
    for attempt in range(4):  # successful log-ins do not use up the allowance
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt + 1}"
        assert log_in(client, ann).status_code == 302
        client.post_form("/logout")
    for attempt in range(3):
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{attempt + 1}"
        client.post_form("/login", {"login": "ann", "password": "Wrong-pass-123"})
    client.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert client.post_form("/login", {"login": "ann", "password": "Wrong-pass-123"}).status_code == 429
    assert log_in(client, bob).status_code == 302


# --- registration does not say whether an email has an account -------------------------------------

def test_sign_up_with_a_registered_email_answers_neutrally_and_tells_the_owner(app, client, make_user):
    owner = make_user("owner", email="Owner@Example.com")
    response = client.post_form("/register", {"username": "Newcomer", "email": "owner@example.com",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/register/check-email"
    page = client.get("/register/check-email").get_data(as_text=True)
    assert "Check your email" in page
    assert "already" not in page.split("<main")[1].split("Already have an account?")[0]
    assert count(app, User) == 1
    with app.app_context():
        notice = db.session.scalar(select(OutboundEmail))
        assert notice.user_id == owner.id and notice.to_address == "Owner@example.com"
        assert notice.kind == "signup_attempt" and "owner" in notice.body
    # Repeated attempts do not flood the owner's inbox.
    client.post_form("/register", {"username": "Newcomer2", "email": "owner@example.com",
                                   "password": DEFAULT_PASSWORD})
    assert count(app, OutboundEmail) == 1


def test_owner_notice_is_in_the_owners_language(app, client, make_user):
    make_user("owner", email="owner@example.com", locale="zh_Hans")
    client.post_form("/register", {"username": "Newcomer", "email": "owner@example.com",
                                   "password": DEFAULT_PASSWORD})
    with app.app_context():
        notice = db.session.scalar(select(OutboundEmail))
        assert "Tastemaker" in notice.subject and "你" in notice.subject + notice.body


def test_email_check_comes_after_everything_a_stranger_may_see(app, client, make_user):
    make_user("owner", email="owner@example.com")
    weak = client.post_form("/register", {"username": "Newcomer", "email": "owner@example.com",
                                          "password": "abc"})
    assert weak.status_code == 422 and "already" not in weak.get_data(as_text=True)
    taken = client.post_form("/register", {"username": "owner", "email": "owner@example.com",
                                           "password": DEFAULT_PASSWORD})
    assert taken.status_code == 422 and "This username is taken." in taken.get_data(as_text=True)
    assert count(app, OutboundEmail) == 0


def test_new_email_still_signs_up_and_logs_in(app, client):
    response = client.post_form("/register", {"username": "Newbie", "email": "new@example.com",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/settings").status_code == 200
    assert count(app, OutboundEmail) == 0


# --- names without control or text-direction characters --------------------------------------------

SPOOFS = ["moc.\u202eelgoog", "Ann\u2066x\u2069", "\u200fAnn", "Ann\u200e", "Ann\x07", "Ann\nBob", "Ann\u2028",
          "A\u061cnn"]


@pytest.mark.parametrize("name", SPOOFS)
def test_name_validator_refuses_control_and_bidi_characters(name):
    with pytest.raises(Invalid) as refused:
        check_name_characters(name, "display_name")
    assert "display_name" in refused.value.errors


def test_name_validator_keeps_real_names():
    for name in ("Ann Lee", "李雷", "🧑\u200d🍳 Chef", "Zoë", "مريم"):
        assert check_name_characters(name, "display_name") == name


def test_settings_refuses_bidi_display_name_with_a_form_error(app, user_client, user):
    response = user_client.post_form("/settings", {"display_name": "moc.\u202eelgoog", "bio": "", "locale": "en"})
    assert response.status_code == 422
    assert "Remove invisible control or text-direction characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).display_name == ""


def test_api_refuses_bidi_display_name_with_422(app, user_client, user):
    token = user_client.csrf_token()
    response = user_client.patch("/api/v1/me", json={"display_name": "Ann\u2067"}, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert response.get_json()["errors"]["display_name"]
    with app.app_context():
        assert db.session.get(User, user.id).display_name == ""


def test_register_refuses_control_characters_in_the_username(app, client):
    response = client.post_form("/register", {"username": "ann\u202e", "email": "a@example.com",
                                              "password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    assert count(app, User) == 0


def test_service_refuses_bidi_display_name_at_registration(ctx):
    from app.accounts.services import register_user

    with pytest.raises(Invalid):
        register_user("ann", "a@example.com", DEFAULT_PASSWORD, display_name="\u202eAnn")
    with pytest.raises(Invalid):
        update_profile(register_user("bob", "b@example.com", DEFAULT_PASSWORD), display_name="Bob\u200f")
