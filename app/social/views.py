"""HTML pages for social: follow/unfollow/block/unblock buttons, follower lists and notifications."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.services import get_user_by_username
from app.core import badges
from app.core.errors import Invalid
from app.core.forms import log_in_first, safe_next_url
from app.social import notifications, services

bp = Blueprint("social", __name__)


badges.register("unread_notifications", lambda: notifications.unread_count_of(badges.READER))


@bp.app_context_processor
def notification_badge():
    """`unread_notifications()` for the nav bell: read with the layout's other badges (app.core.badges), only
    when a page for a signed-in user asks."""
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return badges.badge("unread_notifications", current_user.id) or 0

    return {"unread_notifications": unread_notifications}


@bp.app_template_global()
def is_viewer(user) -> bool:
    """True when `user` is the signed-in visitor (usable inside imported macros)."""
    return current_user.is_authenticated and current_user.id == user.id


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _back(user):
    return redirect(safe_next_url(request.form.get("next"), url_for("feeds.profile", username=user.username)))


def _follow_button_response(user, message: str):
    if _is_htmx():
        relation = services.relationship_between(current_user, user)
        return render_template("social/_follow_button_response.html", user=user, relation=relation,
                               next_url=request.form.get("next"))
    flash(message, "success")
    return _back(user)


@bp.post("/u/<username>/follow")
def follow(username: str):
    user = get_user_by_username(username)
    if not current_user.is_authenticated:
        return log_in_first(url_for("feeds.profile", username=user.username))
    services.follow(current_user, user)
    return _follow_button_response(user, _("You follow %(name)s now.", name=user.name))


@bp.post("/u/<username>/unfollow")
def unfollow(username: str):
    user = get_user_by_username(username)
    if not current_user.is_authenticated:
        return log_in_first(url_for("feeds.profile", username=user.username))
    services.unfollow(current_user, user)
    return _follow_button_response(user, _("You no longer follow %(name)s.", name=user.name))


@bp.post("/u/<username>/block")
@login_required
def block(username: str):
    user = get_user_by_username(username)
    services.block(current_user, user)
    flash(_("You blocked %(name)s. They can no longer follow you, comment on your notes or mention you.",
            name=user.name), "success")
    return _back(user)


@bp.post("/u/<username>/unblock")
@login_required
def unblock(username: str):
    user = get_user_by_username(username)
    services.unblock(current_user, user)
    flash(_("You unblocked %(name)s.", name=user.name), "success")
    return _back(user)


def _people_page(username: str, which: str):
    user = get_user_by_username(username)
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    list_of = services.followers_of if which == "followers" else services.following_of
    page = list_of(user, viewer, request.args.get("cursor"))
    states = services.follow_states(viewer.id if viewer else None, [person.id for person in page.items])
    next_url = url_for(f"social.{which}", username=user.username, cursor=page.next_cursor) \
        if page.next_cursor else None
    return render_template("social/people.html", user=user, which=which, people=page.items, states=states,
                           next_url=next_url, first_page=not request.args.get("cursor"))


@bp.get("/u/<username>/followers")
def followers(username: str):
    return _people_page(username, "followers")


@bp.get("/u/<username>/following")
def following(username: str):
    return _people_page(username, "following")


@bp.get("/notifications")
@login_required
def notification_list():
    page = notifications.grouped_notifications(current_user, request.args.get("cursor"))
    next_url = url_for("social.notification_list", cursor=page.next_cursor) if page.next_cursor else None
    return render_template("social/notifications.html", groups=page.items, next_url=next_url,
                           first_page=not request.args.get("cursor"))


@bp.post("/notifications/<id:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    notifications.mark_read(current_user, notification_id)
    if _is_htmx():
        badges.forget()
        return render_template("social/_mark_read_response.html", notification_id=notification_id)
    return redirect(safe_next_url(request.form.get("next"), url_for("social.notification_list")))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    notifications.mark_all_read(current_user)
    if _is_htmx():
        page = notifications.grouped_notifications(current_user)
        next_url = url_for("social.notification_list", cursor=page.next_cursor) if page.next_cursor else None
        return render_template("social/_notification_list.html", groups=page.items, next_url=next_url,
                               oob=True)
    flash(_("All notifications are marked read."), "success")
    return redirect(url_for("social.notification_list"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def notification_settings():
    """Which kinds of notifications to receive: one checkbox per category (unchecked turns it off)."""
    settings = notifications.notification_settings(current_user)
    error = None
    if request.method == "POST":
        chosen = request.form.getlist("on")
        try:
            unknown = sorted(set(chosen) - set(notifications.CATEGORIES))
            if unknown:
                raise Invalid(_("Choose from the settings listed."), {"on": [_("Choose from the settings listed.")]})
            notifications.set_notification_settings(
                current_user, {category: category in chosen for category in notifications.CATEGORIES})
        except Invalid as exc:
            error = exc.message
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("social.notification_settings"))
    return render_template("social/notification_settings.html", settings=settings, error=error,
                           categories=notifications.CATEGORIES, titles=notifications.CATEGORY_TITLES,
                           section="notifications"), 422 if error else 200
