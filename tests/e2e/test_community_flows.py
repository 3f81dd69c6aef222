"""A newcomer finds a living community: joins, follows, likes, saves, comments, publishes a note with a photo,
and the author is notified; the same on a phone in Chinese, and the like button without JavaScript.

Screenshots go to the pytest temp dir; a few are also copied to /tmp/shots for people to look at.
"""
from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "Sunny-hike-2026"
SHOTS = Path("/tmp/shots")


@dataclass
class World:
    community_name: str
    community_slug: str
    author_username: str
    author_name: str
    reader_username: str
    gallery_post_id: int
    gallery_post_title: str


def _png(title: str, vertical: str, seed: int, size=(360, 480)) -> bytes:
    from app.demo.covers import make_cover

    buffer = io.BytesIO()
    make_cover(title, vertical, seed, size).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(live_app) -> World:
    """Two communities, an author with a few notes (one with two photos), a few members and a reader."""
    from app.accounts.services import register_user, set_admin
    from app.communities.services import create_community, join_community
    from app.posts.engagement import like_post
    from app.posts.services import create_post

    with live_app.app_context():
        admin = set_admin(register_user("site_admin", "admin@example.com", PASSWORD))
        author = register_user("mei_trails", "mei@example.com", PASSWORD)
        author.display_name = "Mei Chen"
        reader = register_user("reader_lu", "lu@example.com", PASSWORD)
        trail = create_community(admin, slug="trail-runners", name="Trail Runners", vertical="outdoor",
                                 owner_username="mei_trails",
                                 description="Routes, gear and sunrise runs. Share your favourite trails.")
        create_community(admin, slug="home-cafe", name="Home Cafe", vertical="food",
                                owner_username="site_admin", description="Pour-overs, latte art and bakes.")
        join_community(reader, trail)
        gallery = create_post(author, community_slug="trail-runners", title="Sunrise on the ridge",
                              body="Two photos from the top. #hiking",
                              images=[_png("Sunrise on the ridge", "outdoor", 1), _png("Ridge 2", "outdoor", 2)])
        notes = [("Best trail shoes for mud", "outdoor", 3, (360, 360)),
                 ("A rainy loop in the forest", "outdoor", 4, (360, 540)),
                 ("Packing list for a day hike", "outdoor", 5, (360, 420))]
        for title, vertical, seed, size in notes:
            create_post(author, community_slug="trail-runners", title=title, body=f"{title}. #trail",
                        images=[_png(title, vertical, seed, size)])
        create_community(admin, slug="city-walks", name="City Walks", vertical="travel", owner_username="site_admin",
                         description="Slow routes through old towns, one cafe at a time.")
        create_post(admin, community_slug="home-cafe", title="V60 ratio that works", body="15 g to 250 g #coffee",
                    images=[_png("V60 ratio that works", "food", 6)])
        like_post(admin, gallery)  # the gallery note starts with one like
        return World(trail.name, trail.slug, author.username, author.name, reader.username, gallery.id,
                     gallery.title)


def _shot(page, screenshot_dir: Path, name: str, publish: bool = False) -> None:
    path = screenshot_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if publish:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status} {r.request.method} {r.url}")
            if r.status >= 500 else None)
    return errors


def _mark_document(page) -> None:
    """Tag the current document; if the tag is still there later, no full page load happened in between."""
    page.evaluate("window.__samePage = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__samePage === true")


def _log_in(page, base: str, username: str, labels=("Username or email", "Password", "Log in")) -> None:
    page.goto(f"{base}/login")
    page.get_by_label(labels[0]).fill(username)
    page.get_by_label(labels[1], exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name=labels[2]).click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def _column_lefts(page) -> set[int]:
    """The distinct left edges of the post cards on the page, i.e. how many columns people see."""
    return {round(box["x"]) for box in (card.bounding_box() for card in page.locator(".post-card").all()) if box}


def _topbar_height(page) -> float:
    box = page.locator(".topbar").bounding_box()
    assert box
    return box["height"]


def test_newcomer_desktop_flow(live_server, browser, world, screenshot_dir, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    errors = _watch_errors(page)

    # Register through the UI.
    page.goto(f"{live_server}/")
    expect(page.locator(".post-card")).to_have_count(5)
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill("newbie_sam")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).not_to_have_url(re.compile(r"/register"))  # home, or the first-visit welcome page
    expect(page.locator("main")).to_contain_text("Welcome to Tastemaker, newbie_sam!")

    # Browse the communities and open one.
    page.get_by_role("link", name="Communities").first.click()
    page.wait_for_url(f"{live_server}/c")
    expect(page.locator(".community-card")).to_have_count(3)
    _shot(page, screenshot_dir, "communities-desktop", publish=True)
    page.get_by_role("link", name=world.community_name).click()
    page.wait_for_url(f"{live_server}/c/{world.community_slug}")
    expect(page.get_by_role("heading", level=1, name=world.community_name)).to_be_visible()

    # Join without a page load: the button turns into "Joined".
    _mark_document(page)
    page.get_by_role("button", name=f"Join {world.community_name}").click()
    joined = page.get_by_role("button", name=f"Leave {world.community_name}")
    page.mouse.move(0, 0)  # under a hovering pointer the button offers "Leave"
    expect(joined).to_have_text("Joined", use_inner_text=True)
    expect(joined).to_have_attribute("aria-pressed", "true")
    assert _same_document(page), "joining reloaded the page"

    # The grid shows the community's notes as cards with covers, in several columns.
    cards = page.locator(".post-grid .post-card")
    expect(cards).to_have_count(4)
    expect(page.locator(".post-grid .post-card img")).to_have_count(4)
    assert len(_column_lefts(page)) >= 4, "the desktop grid should spread cards over several columns"
    _shot(page, screenshot_dir, "community-desktop", publish=True)

    # Open the note with two photos.
    page.locator(".post-card").filter(has_text=world.gallery_post_title).locator(".post-card-title").click()
    page.wait_for_url(f"{live_server}/p/{world.gallery_post_id}")
    expect(page.get_by_role("heading", level=1, name=world.gallery_post_title)).to_be_visible()
    _mark_document(page)

    # Like: the count goes from 1 to 2 in place.
    like = page.locator(".like-form button")
    expect(like).to_have_attribute("aria-label", "Like")
    expect(like.locator("[data-like-count]")).to_have_text("1")
    like.click()
    expect(like).to_have_attribute("aria-label", "Unlike")
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator("[data-like-count]")).to_have_text("2")

    # Save: the box says where it was saved.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#save-box")).to_contain_text("Saved to")
    expect(page.locator("#save-box [data-save-count]")).to_have_text("1")

    # Comment: it appears under the note and the box is cleared.
    box = page.locator("#comment-body-top")
    box.fill("Gorgeous light! Which trail is this?")
    page.locator("form.comment-box").first.get_by_role("button", name="Send").click()
    posted = page.locator("#replies-top .comment").filter(has_text="Gorgeous light! Which trail is this?")
    expect(posted).to_have_count(1)
    expect(posted).to_contain_text("newbie_sam")
    expect(box).to_have_value("")
    expect(page.locator("#comments-title")).to_have_text("1 comment")

    # Follow the author from the post page.
    page.get_by_role("button", name=f"Follow {world.author_name}").click()
    following = page.get_by_role("button", name=f"Unfollow {world.author_name}")
    page.mouse.move(0, 0)
    expect(following).to_have_text("Following", use_inner_text=True)
    assert _same_document(page), "like, save, comment or follow reloaded the page"
    _shot(page, screenshot_dir, "post-desktop-engaged", publish=True)

    # Everything above survives a reload (it was stored, not just drawn).
    page.reload()
    expect(page.locator(".like-form button [data-like-count]")).to_have_text("2")
    expect(page.locator("#save-box")).to_contain_text("Saved to")
    expect(page.locator("#comments-title")).to_have_text("1 comment")
    expect(page.get_by_role("button", name=f"Unfollow {world.author_name}")).to_be_visible()

    # Publish a note with a photo and a #tag.
    photo = tmp_path / "my-trail.png"
    Image.new("RGB", (600, 800), (40, 140, 90)).save(photo)
    page.get_by_role("link", name="Post", exact=True).click()
    page.wait_for_url(f"{live_server}/p/new")
    expect(page.get_by_role("heading", level=1, name="New note")).to_be_visible()
    page.get_by_label("Community").select_option(world.community_slug)
    expect(page.get_by_label("Rating")).to_be_hidden()  # stars are for reviews only
    page.get_by_label("Review").check()
    expect(page.get_by_label("Rating")).to_be_visible()
    page.get_by_label("Note", exact=True).check()
    page.get_by_label("Title").fill("My first trail run")
    page.get_by_label("Text").fill("Five easy kilometres before breakfast. #morningrun")
    page.get_by_label("Images").set_input_files(str(photo))
    _shot(page, screenshot_dir, "new-note-desktop", publish=True)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server)}/p/\d+$"))
    expect(page.get_by_text("Your note is published.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="My first trail run")).to_be_visible()
    expect(page.get_by_role("link", name="#morningrun").first).to_have_attribute("href", "/t/morningrun")
    image = page.locator(".gallery-slide img").first
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0, "the uploaded photo does not load"
    expect(page.locator(".post-meta")).to_contain_text(world.community_name)
    _shot(page, screenshot_dir, "post-desktop-new", publish=True)

    # The author, in another browser, sees the unread badge and what happened.
    author_context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    author_page = author_context.new_page()
    author_errors = _watch_errors(author_page)
    _log_in(author_page, live_server, world.author_username)
    badge = author_page.locator("#nav-unread-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(re.compile(r"^[1-9]\d*$"))
    author_page.locator(".nav-bell").click()
    author_page.wait_for_url(f"{live_server}/notifications")
    notifications = author_page.locator(".notification")
    expect(notifications.filter(has_text="liked your note")).to_contain_text("newbie_sam")
    expect(notifications.filter(has_text="commented on your note")).to_contain_text("newbie_sam")
    expect(notifications.filter(has_text="saved your note")).to_contain_text("newbie_sam")
    expect(notifications.filter(has_text="started following you")).to_contain_text("newbie_sam")
    _shot(author_page, screenshot_dir, "notifications-desktop", publish=True)
    author_context.close()
    context.close()
    assert not errors, f"console errors: {errors}"
    assert not author_errors, f"console errors: {author_errors}"


def test_phone_flow_in_chinese(live_server, browser, world, screenshot_dir):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    errors = _watch_errors(page)

    # Home, signed out: two columns of cards with covers, in Chinese.
    page.goto(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".post-grid .masonry-col")).to_have_count(2)
    expect(page.locator(".post-card img")).to_have_count(5)
    assert len(_column_lefts(page)) == 2, "a phone shows two columns of cards"
    _shot(page, screenshot_dir, "home-phone-zh", publish=True)

    _log_in(page, live_server, world.reader_username, labels=("用户名或邮箱", "密码", "登录"))
    assert _topbar_height(page) < 130, "the signed-in top bar should take two rows at most on a phone"
    page.goto(f"{live_server}/c/{world.community_slug}")
    expect(page.get_by_role("heading", level=1, name=world.community_name)).to_be_visible()
    expect(page.get_by_role("button", name=f"退出 {world.community_name}")).to_be_visible()  # already a member
    expect(page.locator(".post-grid .post-card")).to_have_count(4)
    assert len(_column_lefts(page)) == 2, "a phone shows two columns of cards"
    _shot(page, screenshot_dir, "community-phone-zh", publish=True)

    # The post page: a swipeable gallery that snaps from photo to photo.
    page.locator(".post-card").filter(has_text=world.gallery_post_title).locator(".post-card-title").click()
    page.wait_for_url(f"{live_server}/p/{world.gallery_post_id}")
    track = page.locator(".gallery-track")
    expect(page.locator(".gallery-slide")).to_have_count(2)
    assert "x mandatory" in track.evaluate("t => getComputedStyle(t).scrollSnapType")
    width = track.evaluate("t => t.clientWidth")
    assert width > 300 and track.evaluate("t => t.scrollWidth") >= 2 * width
    slide_box = page.locator(".gallery-slide").first.bounding_box()
    assert slide_box and abs(slide_box["width"] - width) <= 1, "each photo fills the gallery width"
    track.evaluate("t => t.scrollBy({left: t.clientWidth * 0.7, behavior: 'instant'})")  # a swipe, part way
    page.wait_for_function("t => Math.abs(t.scrollLeft - t.clientWidth) <= 1", arg=track.element_handle())
    page.get_by_role("link", name="第 1 张图片").click()  # the dots jump back
    page.wait_for_function("t => t.scrollLeft <= 1", arg=track.element_handle())

    # Chinese labels, and the like button works in place.
    expect(page.locator("#comments-title")).to_have_text("0 条评论")
    expect(page.get_by_label("评论", exact=True)).to_be_visible()
    _mark_document(page)
    like = page.get_by_role("button", name="点赞", exact=True)
    expect(like.locator("[data-like-count]")).to_have_text("1")
    like.click()
    liked = page.get_by_role("button", name="取消点赞")
    expect(liked.locator("[data-like-count]")).to_have_text("2")
    assert _same_document(page), "liking reloaded the page"
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, screenshot_dir, "post-phone-zh", publish=True)
    context.close()
    assert not errors, f"console errors: {errors}"


def test_like_comment_follow_without_javascript(live_server, browser, world, screenshot_dir):
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    _log_in(page, live_server, world.reader_username)
    assert _topbar_height(page) < 130, "the signed-in top bar should take two rows at most on a phone"
    page.goto(f"{live_server}/p/{world.gallery_post_id}")

    like = page.locator(".like-form button")
    expect(like.locator("[data-like-count]")).to_have_text("1")
    like.click()  # a plain form post: redirected back to the note
    page.wait_for_url(f"{live_server}/p/{world.gallery_post_id}")
    expect(page.locator(".like-form button")).to_have_attribute("aria-label", "Unlike")
    expect(page.locator(".like-form button [data-like-count]")).to_have_text("2")

    page.locator("#comment-body-top").fill("Posted without JavaScript.")
    page.locator("form.comment-box").first.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(rf"/p/{world.gallery_post_id}#comment-\d+$"))
    expect(page.locator("#comments-title")).to_have_text("1 comment")
    expect(page.locator("#replies-top .comment")).to_contain_text("Posted without JavaScript.")

    page.get_by_role("button", name=f"Follow {world.author_name}").click()
    page.wait_for_url(f"{live_server}/p/{world.gallery_post_id}")
    expect(page.get_by_role("button", name=f"Unfollow {world.author_name}")).to_be_visible()
    _shot(page, screenshot_dir, "post-phone-nojs")
    context.close()
