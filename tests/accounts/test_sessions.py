"""Server-side log-in sessions: logout and password changes end sessions on the server, as in Django/Rails."""
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import UserSession
from app.accounts.sessions import describe_user_agent
from app.core.clock import frozen_at, now
from app.extensions import db
from tests.conftest import Client, log_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def new_client(app, user_agent: str | None = None) -> Client:
    app.test_client_class = Client
    client = app.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def copy_cookies(source: Client, target: Client, names=("session", "remember_token")) -> None:
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def signed_in(client: Client) -> bool:
    return client.get("/settings").status_code == 200


def test_copied_session_cookie_stops_working_after_logout(app, user):
    browser, thief = new_client(app), new_client(app)
    log_in(browser, user)
    copy_cookies(browser, thief, names=("session",))
    assert signed_in(thief)
    browser.post_form("/logout")
    assert not signed_in(browser)
    assert not signed_in(thief)


def test_copied_remember_cookie_stops_working_after_logout(app, user):
    browser, thief = new_client(app), new_client(app)
    log_in(browser, user, remember=True)
    copy_cookies(browser, thief, names=("remember_token",))
    assert signed_in(thief)  # the remember cookie alone restores the log-in...
    browser.post_form("/logout")
    thief.delete_cookie("session")
    assert not signed_in(thief)  # ...until that log-in ends


def test_remember_cookie_differs_between_log_ins_and_carries_no_user_id(app, user):
    first, second = new_client(app), new_client(app)
    log_in(first, user, remember=True)
    log_in(second, user, remember=True)
    one, two = first.get_cookie("remember_token").value, second.get_cookie("remember_token").value
    assert one != two
    assert not one.startswith(f"{user.id}|")
    with app.app_context():
        hashes = set(db.session.scalars(select(UserSession.token_hash)))
    assert len(hashes) == 2
    assert not any(one.split("|")[0] in h or h in one for h in hashes)  # only hashes are stored


def test_password_change_signs_out_other_devices_but_not_this_one(app, user):
    laptop, phone, phone_remembered = new_client(app), new_client(app), new_client(app)
    log_in(laptop, user)
    log_in(phone, user)
    log_in(phone_remembered, user, remember=True)
    remember_only = new_client(app)
    copy_cookies(phone_remembered, remember_only, names=("remember_token",))
    assert signed_in(phone) and signed_in(remember_only)

    response = laptop.post_form("/settings/password", {"current_password": user.password,
                                                       "new_password": "Another-horse-77"})
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(phone_remembered)
    assert not signed_in(remember_only)


def test_api_token_keeps_working_after_logout_and_password_change(app, user, client):
    log_in(client, user)
    page = client.post_form("/settings/tokens", {"name": "script", "expires_in_days": "30"})
    secret = page.get_data(as_text=True).split('data-testid="new-token">')[1].split("<")[0]
    client.post_form("/settings/password", {"current_password": user.password, "new_password": "Another-horse-77"})
    client.post_form("/logout")
    script = new_client(app)
    response = script.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["username"] == user.username


def test_device_list_shows_devices_and_marks_this_one(app, user):
    laptop, phone = new_client(app, FIREFOX), new_client(app, IPHONE)
    log_in(laptop, user)
    log_in(phone, user)
    page = laptop.get("/settings/devices")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Firefox on Linux" in html and "Safari on iPhone" in html
    assert html.count("This device") == 1
    assert html.index("Firefox on Linux") < html.index("This device") < html.index("Safari on iPhone")


def test_sign_out_one_device_and_everywhere_else(app, user):
    laptop, phone, tablet = new_client(app, FIREFOX), new_client(app, IPHONE), new_client(app)
    for client in (laptop, phone, tablet):
        log_in(client, user)
    with app.app_context():
        phone_id = db.session.scalar(select(UserSession.id).where(UserSession.user_agent == IPHONE))
    laptop.post_form(f"/settings/devices/{phone_id}/sign-out")
    assert not signed_in(phone) and signed_in(tablet) and signed_in(laptop)

    response = laptop.post_form("/settings/devices/sign-out-others", follow_redirects=True)
    assert "1 other device is signed out." in response.get_data(as_text=True)
    assert not signed_in(tablet) and signed_in(laptop)


def test_cannot_sign_out_someone_elses_device(app, make_user):
    ann, bob = make_user("ann"), make_user("bob")
    ann_client, bob_client = new_client(app), new_client(app)
    log_in(ann_client, ann)
    log_in(bob_client, bob)
    with app.app_context():
        bob_session = db.session.scalar(select(UserSession.id).where(UserSession.user_id == bob.id))
    assert ann_client.post_form(f"/settings/devices/{bob_session}/sign-out").status_code == 404
    assert signed_in(bob_client)


def test_remembered_log_in_ends_after_the_configured_lifetime(app, user):
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=30)
    browser = new_client(app)
    log_in(browser, user, remember=True)
    browser.delete_cookie("session")  # the browser was closed
    assert signed_in(browser)
    browser.delete_cookie("session")
    with frozen_at(now() + timedelta(days=31)):
        assert not signed_in(browser)


def test_log_in_without_remember_ends_after_idle_hours(app, user):
    app.config["SESSION_IDLE_HOURS"] = 12
    browser = new_client(app)
    log_in(browser, user)
    start = now()
    with frozen_at(start + timedelta(hours=11)):
        assert signed_in(browser)  # use keeps it alive
    with frozen_at(start + timedelta(hours=22)):
        assert signed_in(browser)
    with frozen_at(start + timedelta(hours=35)):
        assert not signed_in(browser)


def test_last_seen_is_written_at_most_every_few_minutes(app, user):
    browser = new_client(app)
    log_in(browser, user)
    start = now()

    def last_seen():
        with app.app_context():
            return db.session.scalar(select(UserSession.last_seen_at))

    first = last_seen()
    with frozen_at(start + timedelta(minutes=1)):
        browser.get("/settings")
    assert last_seen() == first
    with frozen_at(start + timedelta(minutes=6)):
        browser.get("/settings")
    assert last_seen() == start + timedelta(minutes=6)


def test_suspended_user_is_signed_out(app, user):
    from app.accounts.models import User

    browser = new_client(app)
    log_in(browser, user)
    with app.app_context():
        db.session.get(User, user.id).suspended_at = now()
        db.session.commit()
    assert not signed_in(browser)


def test_describe_user_agent(app):
    with app.test_request_context():
        assert describe_user_agent(FIREFOX) == "Firefox on Linux"
        assert describe_user_agent("Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Safari/537.36 Edg/131.0") \
            == "Edge on Windows"
        assert describe_user_agent("") == "Unknown device"


def test_ended_sessions_are_purged_after_a_month_and_live_ones_kept(app, make_user):
    from app.accounts.sessions import purge_ended_sessions

    ann = make_user("ann")
    old, live = new_client(app), new_client(app)
    log_in(old, ann)
    old.post_form("/logout")
    log_in(live, ann, remember=True)
    with app.app_context():
        assert purge_ended_sessions(now() + timedelta(days=29)) == 0
        assert purge_ended_sessions(now() + timedelta(days=31)) == 1
        assert purge_ended_sessions(now() + timedelta(days=31)) == 0  # running twice changes nothing
        assert db.session.scalar(select(UserSession.id)) is not None
    assert signed_in(live)
