"""For you in a browser: a new reader picks communities, then reads a feed with reasons, says
"not interested", sees similar notes and people to follow; a trained reader sees the recommender's picks."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.core.clock import now
from app.extensions import db
from app.feeds.training import train_and_publish
from app.posts.models import Like
from app.social.models import Follow
from tests import factories
from tests.social.conftest import person

pytestmark = pytest.mark.e2e
PASSWORD = "correct-Horse-42"  # tests.conftest.DEFAULT_PASSWORD, which `person` uses
SHOTS = Path("/tmp/shots")


@pytest.fixture
def trained_world(live_app):
    """Three communities; hikers like hiking notes and follow each other; a model is trained."""
    with live_app.app_context():
        communities = [factories.community(slug, vertical=vertical) for slug, vertical in
                       (("hikers", "outdoor"), ("cooks", "food"), ("gadgets", "digital"))]
        authors = [person(f"writer{i}") for i in range(6)]
        posts = []
        start = now() - timedelta(days=20)
        for index in range(36):
            community = communities[index % 3]
            posts.append(factories.post(author=authors[index % 6], community_=community,
                                        title=f"{community.slug.title()} note {index}",
                                        created_at=start + timedelta(hours=12 * index)))
        readers = [person(f"hiker{i}", onboarded_at=now()) for i in range(8)]
        for reader in readers:
            for post in posts[0::3]:
                if hash((reader.id, post.id)) % 3:
                    db.session.add(Like(user_id=reader.id, post_id=post.id,
                                        created_at=post.created_at + timedelta(hours=6)))
                    post.like_count += 1
            for other in readers[:3]:
                if other.id != reader.id:
                    db.session.add(Follow(follower_id=reader.id, followee_id=other.id))
        db.session.commit()
        assert train_and_publish(evaluate=False).activated
        person("newcomer")
    return live_app


def log_in(page, base, username):
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_for_you_walkthrough(trained_world, live_server, browser, screenshot_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A newcomer is asked to pick three communities first.
    log_in(page, live_server, "newcomer")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/welcome$"))
    page.get_by_label(re.compile("Hikers")).check()
    page.get_by_role("button", name="Start reading").click()
    expect(page.get_by_text("Pick at least 3 communities.")).to_be_visible()
    for name in ("Hikers", "Cooks", "Gadgets"):
        page.get_by_label(re.compile(name)).check()
    page.get_by_role("button", name="Start reading").click()
    expect(page.get_by_role("link", name="For you")).to_have_attribute("aria-current", "page")
    expect(page.locator(".post-card-reason").first).to_contain_text("Popular in")

    # "Not interested" replaces the card at once and is remembered.
    first = page.locator(".post-card").first
    title = first.locator(".post-card-title").inner_text()
    first.locator(".card-menu summary").click()
    first.get_by_role("button", name="Not interested").click()
    expect(page.get_by_text("you will not see this note again")).to_be_visible()
    page.reload()
    expect(page.locator(".post-card-title", has_text=re.compile(f"^{re.escape(title)}$"))).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "for-you-newcomer.png"), full_page=True)
    context.close()

    # A reader the model knows: reasons from their follows and likes, people to follow, similar notes.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, "hiker5")
    page.goto(f"{live_server}/")
    reasons = page.locator(".post-card-reason")
    expect(reasons.first).to_be_visible()
    texts = reasons.all_inner_texts()
    assert any(re.search(r"Liked by|Because you liked|Similar to|also liked|Popular in", t) for t in texts), texts
    expect(page.get_by_role("heading", name="People to follow")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "for-you-phone.png"), full_page=True)
    page.locator(".post-card-title").first.click()
    page.locator(".similar-notes").scroll_into_view_if_needed()
    expect(page.get_by_role("heading", name="Similar notes")).to_be_visible()
    expect(page.locator(".similar-notes .post-card").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "similar-phone.png"), full_page=True)
    context.close()
    assert not errors, errors
    SHOTS.mkdir(exist_ok=True)
    for name in ("for-you-newcomer.png", "for-you-phone.png", "similar-phone.png"):
        shutil.copy(screenshot_dir / name, SHOTS / name)
