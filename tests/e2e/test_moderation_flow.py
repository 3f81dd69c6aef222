"""A reader reports a note; a moderator removes it from the queue with a reason; the author sees the reason and
appeals; another moderator restores it; a moderator builds a collection and pins a note. English on a desktop,
Chinese on a phone. Selectors use form names and values, so the same walk works in both languages.

Screenshots go to the pytest temp dir and are copied to /tmp/shots for people to look at.
"""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Sunny-hike-2026"
SHOTS = Path("/tmp/shots")


def _png(title: str) -> bytes:
    from app.demo.covers import make_cover

    buffer = io.BytesIO()
    make_cover(title, "beauty", 7, (360, 480)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(live_app):
    from app.accounts.services import register_user, set_admin
    from app.communities.services import create_community, join_community, set_role
    from app.core.uow import unit_of_work
    from app.posts.services import create_post

    with live_app.app_context():
        admin = set_admin(register_user("site_admin", "admin@example.com", PASSWORD))
        register_user("glow_owner", "owner@example.com", PASSWORD)
        mod_a = register_user("mod_ann", "ann@example.com", PASSWORD)
        mod_b = register_user("mod_bo", "bo@example.com", PASSWORD)
        author = register_user("mei_glow", "mei@example.com", PASSWORD)
        author.display_name = "Mei"
        reader = register_user("reader_lu", "lu@example.com", PASSWORD)
        glow = create_community(admin, slug="glow", name="Glow Lab", vertical="beauty", owner_username="glow_owner",
                                rules_md="1. Real use only\n2. Say when a product was a gift")
        with unit_of_work():
            set_role(glow, mod_a, "moderator")
            set_role(glow, mod_b, "moderator")
        for person in (author, reader):
            join_community(person, glow)
        note = create_post(author, community_slug="glow", title="My sunscreen after 30 days",
                           body="Light, no white cast, lasted a beach day.", images=[_png("Sunscreen")])
        other = create_post(author, community_slug="glow", title="Gentle cleanser review",
                            body="Week two: no irritation.", images=[_png("Cleanser")])
        return {"note": note.id, "other": other.id}


def _log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def _shot(page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    try:
        page.screenshot(path=str(path), full_page=False)
    except PlaywrightError:  # chromium now and then refuses one capture mid-navigation; the next one works
        page.wait_for_load_state()
        page.screenshot(path=str(path), full_page=False)
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.mark.parametrize(("label", "viewport", "lang"), [("desktop-en", DESKTOP, "en"),
                                                           ("phone-zh", PHONE, "zh_Hans")])
def test_report_remove_appeal_restore_and_curate(live_server, live_app, browser, world, screenshot_dir,
                                                 label, viewport, lang):
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang == "zh_Hans" else "en-US",
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    base = live_server
    note = world["note"]

    # A reader reports the note.
    _log_in(page, base, "reader_lu")
    page.goto(f"{base}/p/{note}?lang={lang}")
    page.locator("a.report-link").first.click()
    page.locator("input[name=reason][value=spam]").check()
    page.locator("textarea[name=note]").fill("Looks like a paid ad to me")
    _shot(page, screenshot_dir, f"moderation-1-report-{label}")
    page.locator("main form button[type=submit]").click()
    expect_text(page, "Thank you" if lang == "en" else "谢谢")

    # A moderator removes it from the queue with a reason.
    _log_in(page, base, "mod_ann")
    page.goto(f"{base}/?lang={lang}")
    page.locator("a.nav-mod").click()
    item = page.locator("article.mod-item", has_text="My sunscreen after 30 days")
    item.locator("form.mod-item-form select[name=reason]").select_option(index=1)
    _shot(page, screenshot_dir, f"moderation-2-queue-{label}")
    item.locator("form.mod-item-form button[name=action][value=remove_post]").click()
    expect_text(page, "Removed a note" if lang == "en" else "移除了笔记")

    # The author sees the reason and appeals.
    _log_in(page, base, "mei_glow")
    page.goto(f"{base}/p/{note}?lang={lang}")
    expect_text(page, "Spam or self-promotion" if lang == "en" else "垃圾信息或自我推广")
    _shot(page, screenshot_dir, f"moderation-3-removed-{label}")
    page.locator(".post-gone a[href^='/mod/actions/']").click()
    page.locator("textarea[name=reason]").fill("I paid for it myself; happy to show the receipt.")
    page.locator(".mod-appeal-form button[type=submit]").click()
    _shot(page, screenshot_dir, f"moderation-4-appealed-{label}")
    assert page.locator(".mod-appeal-status").count() == 1

    # Another moderator grants the appeal: the note is back.
    _log_in(page, base, "mod_bo")
    page.goto(f"{base}/mod/queue?lang={lang}")
    appeal = page.locator(".mod-appeals article").first
    appeal.locator("summary").click()
    appeal.locator("textarea[name=reason_text]").fill("A genuine review; restoring it.")
    _shot(page, screenshot_dir, f"moderation-5-appeal-{label}")
    appeal.locator("button[name=decision][value=grant]").click()
    page.goto(f"{base}/p/{note}")
    assert page.locator("h1.post-title").inner_text() == "My sunscreen after 30 days"

    # A moderator builds a collection and pins a note.
    page.goto(f"{base}/c/glow/mod")
    page.locator("input[name=name]").fill("Best sunscreen reviews 2026")
    page.locator("form[action$='/collections'] button[type=submit]").click()
    page.locator("input[name=post_url]").fill(f"/p/{note}")
    page.locator("input[name=post_url]").press("Enter")
    page.wait_for_selector(".mod-collection-order li")
    page.goto(f"{base}/p/{world['other']}")
    tools = page.locator(".mod-tools")
    pin = tools.locator("details.mod-action", has=page.locator("input[name=action][value=pin_post]"))
    pin.locator("summary").click()
    pin.locator("textarea[name=reason_text]").fill("Great first review for newcomers")
    pin.locator("button[type=submit]").click()
    page.goto(f"{base}/c/glow")
    curation = page.locator(".curation")
    assert "Gentle cleanser review" in curation.inner_text()
    assert "Best sunscreen reviews 2026" in curation.inner_text()
    _shot(page, screenshot_dir, f"moderation-6-community-{label}")
    page.goto(f"{base}/c/glow/modlog")
    _shot(page, screenshot_dir, f"moderation-7-log-{label}")
    log = page.locator(".mod-log-list").inner_text()
    assert log.count("\n") > 3
    overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow, "the log page scrolls sideways"
    context.close()


def expect_text(page, text: str) -> None:
    page.wait_for_selector(f"text={text}", timeout=10_000)
