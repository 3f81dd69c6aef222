"""A newcomer registers, logs out and in, switches language, edits the profile and makes an API token."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Sunny-hike-2026"


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
# expect(...).to_contain_text waits for the page a click loads; page.content() could read a half-loaded page.
def test_newcomer_account_flow(live_server, browser, screenshot_dir, viewport):
    page = browser.new_page(viewport=viewport)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill("hiker_lin")
    page.get_by_label("Email").fill("lin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("body")).to_contain_text("Welcome to Tastemaker, hiker_lin!")

    if viewport["width"] < 760:  # on a phone, Log out lives under Me in the tab bar
        page.locator("nav.tabbar a").last.click()
        page.wait_for_url(f"{live_server}/me")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username or email").fill("lin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("body")).to_contain_text("You are logged in.")

    page.get_by_role("link", name="简体中文").click()
    page.wait_for_load_state()
    if viewport["width"] < 760:  # Settings and Log out are under 我 (Me) on a phone
        page.locator("nav.tabbar a").last.click()
        page.wait_for_url(f"{live_server}/me")
    assert page.get_by_role("button", name="退出").is_visible()

    page.get_by_role("link", name="设置", exact=True).click()
    page.get_by_label("昵称").fill("林小徒步")
    page.get_by_label("个人简介").fill("周末在山里。")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("body")).to_contain_text("资料已保存。")
    assert page.get_by_label("昵称").input_value() == "林小徒步"
    page.screenshot(path=str(screenshot_dir / f"settings-zh-{viewport['width']}.png"), full_page=True)

    page.get_by_role("link", name="API 令牌").click()
    page.get_by_label("令牌名称").fill("my script")
    page.get_by_role("button", name="创建令牌").click()
    secret = page.get_by_test_id("new-token").inner_text()
    assert secret.startswith("tm_")
    response = page.request.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status == 200 and response.json()["display_name"] == "林小徒步"

    page.goto(f"{live_server}/u/hiker_lin")
    expect(page.locator("body")).to_contain_text("林小徒步")
    page.screenshot(path=str(screenshot_dir / f"profile-zh-{viewport['width']}.png"), full_page=True)
    assert not errors, f"console errors: {errors}"


def test_signed_in_devices_sign_out_another_browser(live_app, live_server, browser, screenshot_dir):
    """Two browsers log in; the laptop sees both in Settings and signs the phone out, which then is."""
    with live_app.app_context():
        from app.accounts.services import register_user

        register_user("hiker_lin", "lin@example.com", PASSWORD, display_name="Lin")
    laptop = browser.new_context(viewport={"width": 1280, "height": 900}, user_agent=(
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")).new_page()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1")).new_page()
    for page in (phone, laptop):
        page.goto(f"{live_server}/login")
        page.get_by_label("Username or email").fill("hiker_lin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("body")).to_contain_text("You are logged in.")

    laptop.goto(f"{live_server}/settings")
    laptop.get_by_role("link", name="Signed-in devices").click()
    devices = laptop.get_by_test_id("devices")
    assert "Firefox on Linux" in devices.inner_text() and "Safari on iPhone" in devices.inner_text()
    laptop.screenshot(path=str(screenshot_dir / "settings-devices-1280.png"), full_page=True)
    laptop.get_by_role("button", name="Sign out everywhere else").click()
    assert "1 other device is signed out." in laptop.content()
    assert "Safari on iPhone" not in laptop.get_by_test_id("devices").inner_text()

    phone.goto(f"{live_server}/settings")
    assert "/login" in phone.url
