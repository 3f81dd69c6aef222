"""HTML pages for communities: the directory, create (admins), edit (owner/admins), join and leave.

The community page itself (/c/<slug> with its hot/new/top tabs) is a feed, in app/feeds; it includes
templates/communities/_header.html from here.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.communities import services
from app.communities.forms import CommunityForm, NewCommunityForm
from app.communities.models import VERTICALS
from app.core.auth import current_viewer
from app.core.errors import Forbidden, Invalid
from app.core.forms import log_in_first, safe_next_url, show_errors_on_form
from app.core.uploads import upload_rate_limit

bp = Blueprint("communities", __name__)


@bp.app_context_processor
def community_helpers():
    """Helpers the community partials use (also from the feeds' community page)."""
    return {
        "vertical_label": services.vertical_label,
        "render_rules": services.render_rules,
        "community_moderators": services.moderators_of,
        "can_edit_community": lambda community: services.can_edit(current_user, community),
    }


@bp.get("/c")
def directory():
    vertical = request.args.get("vertical") or None
    if vertical not in VERTICALS:
        vertical = None  # an unknown filter shows everything rather than an error page
    page = services.list_communities(vertical, request.args.get("cursor"))
    roles = services.membership_roles(current_viewer(), [c.id for c in page.items])
    next_url = url_for("communities.directory", vertical=vertical, cursor=page.next_cursor) \
        if page.next_cursor else None
    return render_template("communities/directory.html", communities=page.items, roles=roles,
                           vertical=vertical, verticals=VERTICALS, next_url=next_url)


def _banner_bytes(form) -> bytes | None:
    upload = form.banner.data
    if upload and getattr(upload, "filename", ""):
        return upload.read() or b""
    return None


@bp.route("/c/new", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def create():
    if not current_user.is_admin:
        raise Forbidden(_("Only site admins can create communities."))
    form = NewCommunityForm()
    if form.validate_on_submit():
        try:
            community = services.create_community(
                current_user, slug=form.slug.data, name=form.name.data, vertical=form.vertical.data,
                owner_username=form.owner.data, description=form.description.data or "",
                rules_md=form.rules_md.data or "", banner=_banner_bytes(form))
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("The community %(name)s is created.", name=community.name), "success")
            return redirect(url_for("feeds.community", slug=community.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("communities/form.html", form=form, community=None), status


@bp.route("/c/<slug>/edit", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def edit(slug: str):
    community = services.get_community(slug)
    if not services.can_edit(current_user, community):
        raise Forbidden(_("Only the owner or a site admin can edit this community."))
    form = CommunityForm(obj=community)
    if request.method == "GET":
        form.owner.data = community.owner.username
    if form.validate_on_submit():
        try:
            services.update_community(
                current_user, community, name=form.name.data, vertical=form.vertical.data,
                description=form.description.data or "", rules_md=form.rules_md.data or "",
                banner=_banner_bytes(form), owner_username=form.owner.data if current_user.is_admin else None)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("feeds.community", slug=community.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("communities/form.html", form=form, community=community), status


def _membership_response(community, message: str):
    """htmx gets the new button; a plain form post goes back where it came from."""
    if request.headers.get("HX-Request"):
        membership = services.membership_of(current_user, community)
        return render_template("communities/_join_button.html", community=community, membership=membership,
                               next_url=request.form.get("next"))
    flash(message, "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("feeds.community", slug=community.slug)))


@bp.post("/c/<slug>/join")
def join(slug: str):
    community = services.get_community(slug)
    if not current_user.is_authenticated:
        return log_in_first(url_for("feeds.community", slug=community.slug))
    services.join_community(current_user, community)
    return _membership_response(community, _("You joined %(name)s.", name=community.name))


@bp.post("/c/<slug>/leave")
@login_required
def leave(slug: str):
    community = services.get_community(slug)
    services.leave_community(current_user, community)
    return _membership_response(community, _("You left %(name)s.", name=community.name))

