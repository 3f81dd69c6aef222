"""Social pages as a browser uses them: follow buttons (plain and htmx), lists, profile, notifications."""
from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.social import services
from app.social.models import Follow, Notification
from tests import factories
from tests.social.conftest import fresh, person, sign_in

HTMX = {"HX-Request": "true"}


def make(app, *names, **fields):
    with app.app_context():
        return [person(name, **fields).id for name in names]


def follows(app) -> set[tuple[int, int]]:
    with app.app_context():
        return set(map(tuple, db.session.execute(select(Follow.follower_id, Follow.followee_id))))


def test_follow_with_plain_form_redirects_back_and_counts(client, app):
    ann, bob = make(app, "ann", "bob")
    sign_in(client, "ann")
    response = client.post_form("/u/bob/follow", {"next": "/u/bob/followers"})
    assert response.status_code == 302 and response.headers["Location"] == "/u/bob/followers"
    assert follows(app) == {(ann, bob)}
    page = client.get("/u/bob").get_data(as_text=True)
    assert "You follow bob now." in page and "Unfollow" in page
    with app.app_context():
        assert fresh(User, bob).follower_count == 1


def test_follow_redirect_ignores_offsite_next(client, app):
    make(app, "ann", "bob")
    sign_in(client, "ann")
    response = client.post_form("/u/bob/follow", {"next": "//evil.example/x"})
    assert response.headers["Location"] == "/u/bob"


def test_follow_and_unfollow_with_htmx_return_the_button(client, app):
    ann, bob = make(app, "ann", "bob")
    with app.app_context():
        services.follow(db.session.get(User, bob), db.session.get(User, ann))
    sign_in(client, "ann")
    response = client.post_form("/u/bob/follow", {"next": "/u/bob"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'action="/u/bob/unfollow"' in html and "Mutual" in html
    assert 'id="follower-count-' in html and "<strong>1</strong>" in html  # the profile's count, out of band
    response = client.post_form("/u/bob/unfollow", {"next": "/u/bob"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert 'action="/u/bob/follow"' in html and "Mutual" not in html
    assert follows(app) == {(bob, ann)}


def test_signed_out_follow_goes_to_login_and_changes_nothing(client, app):
    make(app, "bob")
    response = client.post_form("/u/bob/follow")
    assert response.status_code == 302 and "/login?next=/u/bob" in response.headers["Location"]
    assert client.post_form("/u/bob/follow", headers=HTMX).headers["HX-Redirect"].startswith("/login")
    assert follows(app) == set()


def test_bad_follows_are_clear_errors_and_change_nothing(client, app):
    ann, bob = make(app, "ann", "bob")
    with app.app_context():
        services.block(db.session.get(User, bob), db.session.get(User, ann))
    sign_in(client, "ann")
    assert client.post_form("/u/ann/follow").status_code == 422  # yourself
    blocked = client.post_form("/u/bob/follow")
    assert blocked.status_code == 403 and "cannot follow this account" in blocked.get_data(as_text=True)
    assert client.post_form("/u/nobody_here/follow").status_code == 404
    assert client.post("/u/bob/unfollow").status_code == 400  # no CSRF token
    assert follows(app) == set()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_block_and_unblock_from_the_profile(client, app):
    ann, bob = make(app, "ann", "bob")
    with app.app_context():
        services.follow(db.session.get(User, ann), db.session.get(User, bob))
        services.follow(db.session.get(User, bob), db.session.get(User, ann))
    sign_in(client, "ann")
    response = client.post_form("/u/bob/block", {"next": "/u/bob"})
    assert response.status_code == 302 and follows(app) == set()
    page = client.get("/u/bob").get_data(as_text=True)
    assert "You blocked this account" in page and "Unblock" in page and 'action="/u/bob/follow"' not in page
    with app.app_context():
        assert (fresh(User, ann).follower_count, fresh(User, ann).following_count) == (0, 0)
    client.post_form("/u/bob/unblock")
    assert 'action="/u/bob/follow"' in client.get("/u/bob").get_data(as_text=True)


def test_profile_shows_counts_posts_and_hides_posts_when_blocked(client, app):
    with app.app_context():
        bob = person("bob", display_name="Bob B", bio="Hiking and tents")
        factories.post(author=bob, community_=factories.community(owner=bob), title="Best tent 2025")
        factories.post(author=bob, community_=factories.community(owner=bob), title="Removed one", status="removed")
        fan = person("fan")
        services.follow(fan, bob)
        bob.likes_received_count = 7
        db.session.commit()
        bob_id, fan_id = bob.id, fan.id
    page = client.get("/u/bob").get_data(as_text=True)
    assert "Bob B" in page and "Hiking and tents" in page and "Best tent 2025" in page
    assert "Removed one" not in page
    assert "<strong>1</strong>" in page and "<strong>7</strong>" in page
    with app.app_context():
        services.block(db.session.get(User, bob_id), db.session.get(User, fan_id))
    sign_in(client, "fan")
    page = client.get("/u/bob").get_data(as_text=True)
    assert "Best tent 2025" not in page and "not available" in page


def test_profile_lists_public_collections_only(client, app):
    from app.posts.models import Collection

    with app.app_context():
        bob = person("bob")
        db.session.add_all([Collection(owner_id=bob.id, name="Camping kit", is_public=True),
                            Collection(owner_id=bob.id, name="Secret list", is_public=False)])
        db.session.commit()
        public_id = db.session.scalar(select(Collection.id).where(Collection.is_public.is_(True)))
    page = client.get("/u/bob").get_data(as_text=True)
    assert "Camping kit" in page and f"/collections/{public_id}" in page and "Secret list" not in page


def test_follower_and_following_lists(client, app):
    make(app, "star", "ann", "bob")
    with app.app_context():
        star, ann, bob = (db.session.scalar(select(User).where(User.username == n)) for n in ("star", "ann", "bob"))
        services.follow(ann, star)
        services.follow(bob, star)
        services.follow(star, ann)
    sign_in(client, "star")
    page = client.get("/u/star/followers").get_data(as_text=True)
    assert "@ann" in page and "@bob" in page and "Mutual" in page
    page = client.get("/u/bob/following").get_data(as_text=True)
    assert "@star" in page
    assert "@ann" in client.get("/u/star/following").get_data(as_text=True)
    make(app, "loner")
    assert "Not following anyone yet" in client.get("/u/loner/following").get_data(as_text=True)
    assert "No followers yet" in client.get("/u/loner/followers").get_data(as_text=True)


def test_tampered_cursor_on_follower_list_is_a_clear_error(client, app):
    make(app, "star")
    response = client.get("/u/star/followers?cursor=not-a-real-cursor")
    assert response.status_code == 422 and "cursor" in response.get_data(as_text=True)
    assert client.get("/u/nobody_here/followers").status_code == 404


def test_notifications_page_badge_and_mark_read(client, app):
    with app.app_context():
        ann = person("ann")
        for name in ("bob", "cat", "dan"):
            services.follow(person(name, display_name=name.title()), ann)
        other = person("zed")
        services.follow(ann, other)
        foreign_id = db.session.scalar(select(Notification.id).where(Notification.recipient_id == other.id))
        own_id = db.session.scalar(select(func.max(Notification.id)).where(Notification.recipient_id == ann.id))
    sign_in(client, "ann")
    page = client.get("/notifications").get_data(as_text=True)
    assert "<strong>Dan</strong>, <strong>Cat</strong> and 1 other started following you" in page
    assert 'id="nav-unread-badge"' in page and ">3</span>" in page
    assert client.post_form(f"/notifications/{foreign_id}/read").status_code == 404
    response = client.post_form(f"/notifications/{own_id}/read", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'hx-swap-oob="true"' in html and " hidden" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.read_at.is_(None))) == 1  # zed's stays unread
    page = client.get("/notifications").get_data(as_text=True)
    assert "Mark read" not in page and "Mark all read" not in page


def test_mark_all_read_with_htmx_returns_the_list_and_badge(client, app):
    with app.app_context():
        ann = person("ann")
        services.follow(person("bob"), ann)
    sign_in(client, "ann")
    html = client.post_form("/notifications/read-all", headers=HTMX).get_data(as_text=True)
    assert 'id="notification-list"' in html and "Mark all read" not in html and 'hx-swap-oob="true"' in html


def test_mark_all_read_plain_and_empty_state(client, app):
    with app.app_context():
        ann = person("ann")
        services.follow(person("bob"), ann)
    sign_in(client, "ann")
    response = client.post_form("/notifications/read-all")
    assert response.status_code == 302
    page = client.get("/notifications").get_data(as_text=True)
    assert "All notifications are marked read." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.read_at.is_(None))) == 0
    make(app, "newbie")
    client.post_form("/logout")
    sign_in(client, "newbie")
    assert "No notifications yet" in client.get("/notifications").get_data(as_text=True)


def test_notifications_need_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
