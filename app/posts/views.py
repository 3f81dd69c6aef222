"""HTML pages for posts: editor, post page, like/save/share buttons, comments and collections.

Every button is a plain form post that redirects back; with htmx (HX-Request) it answers with the
re-rendered partial instead, so nothing reloads.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.communities.models import Community, Membership
from app.core.auth import current_viewer
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.forms import log_in_first, safe_next_url, show_errors_on_form
from app.core.parsing import is_ascii_digits, parse_id
from app.core.uploads import upload_rate_limit
from app.core.urls import external_url_for
from app.events.log import ANON_COOKIE, record_action
from app.extensions import db
from app.posts import comments as comment_services
from app.posts import engagement, services
from app.posts.cards import viewer_state
from app.posts.forms import CollectionForm, CommentForm, PostForm
from app.posts.models import KIND_REVIEW, STATUS_PUBLISHED, Like
from app.posts.product_tags import cards_for_products, current_product_tags, product_cards, search_products
from app.social.services import relationship_between

bp = Blueprint("posts", __name__)


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _community_choices(user) -> list[tuple[str, str]]:
    """Joined communities first, then the rest, by name."""
    joined = set(db.session.scalars(select(Membership.community_id).where(Membership.user_id == user.id)))
    communities = sorted(db.session.scalars(select(Community)), key=lambda c: (c.id not in joined, c.name.lower()))
    return [(c.slug, c.name) for c in communities]


def _uploads(form: PostForm) -> list[bytes]:
    return [upload.read() or b"" for upload in (form.images.data or []) if getattr(upload, "filename", "")]


PRODUCT_SEARCH_LIMIT = 8


@dataclass
class ProductRow:
    """One tagged product in the editor: its card, the pin as typed, and whether the review rates it."""

    card: object
    pin: str = ""
    rated: bool = False


def _form_id(value: str | None) -> int | None:
    """An id sent in a form field, or None when it is not a plausible one (never an error)."""
    return parse_id(value)


def _ticked_product_ids(form: PostForm) -> list[str]:
    return [value.strip() for value in form.product_ids.data or [] if value and value.strip()]


def _product_fields(form: PostForm, kind: str) -> dict:
    """The editor's product fields as the posts service takes them (the rules are the service's)."""
    ticked = _ticked_product_ids(form)
    return {"product_ids": ticked + [form.add_products.data or ""],
            "pins": {product_id: request.form.get(f"pin_{product_id}", "") for product_id in ticked},
            # A reader who switched from review to note leaves a rated product behind; a note has none.
            "reviewed_product_id": form.reviewed_product_id.data if kind == KIND_REVIEW else None}


def _product_rows(form: PostForm, post) -> list[ProductRow]:
    """The tagged products the editor lists: as sent when the form comes back with errors, else as saved."""
    if request.method == "POST":
        ids = [_form_id(value) for value in _ticked_product_ids(form) if _form_id(value) is not None]
        tagged = set(current_product_tags(post).product_ids) if post is not None else set()
        # Unpublished products stay unnamed, unless the post already tagged them while they were on sale.
        cards = {key: card for key, card in cards_for_products(ids).items() if card.available or key in tagged}
        rated = form.reviewed_product_id.data
        return [ProductRow(cards[product_id], request.form.get(f"pin_{product_id}", ""), rated == str(product_id))
                for product_id in ids if product_id in cards]
    if post is None:
        return []
    pins = current_product_tags(post).pins or {}
    return [ProductRow(card, pins.get(card.product_id, ""), card.rated)
            for card in product_cards([post.id]).get(post.id, [])]


def cart_add_url() -> str:
    """Where a product card's Buy button posts (the shop's cart; the literal path if it is not mounted)."""
    try:
        return url_for("shop.cart_add")
    except BuildError:
        return "/cart/add"


@bp.route("/p/new", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def create():
    form = PostForm()
    form.community.choices = _community_choices(current_user)
    if request.method == "GET" and request.args.get("community"):
        form.community.data = request.args["community"]
    review_rows = _review_of(form, request.args.get("review")) if request.method == "GET" else None
    if form.validate_on_submit():
        try:
            kind = form.kind.data or "note"
            post = services.create_post(current_user, community_slug=form.community.data, title=form.title.data,
                                        body=form.body.data, kind=kind, tags=form.tags.data,
                                        rating=form.rating.data, images=_uploads(form),
                                        discloses_own_product=bool(form.discloses_own_product.data),
                                        **_product_fields(form, kind))
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            if post.status == STATUS_PUBLISHED:
                flash(_("Your note is published."), "success")
            else:
                flash(_("Thank you! Your note will appear once a moderator approves it."), "info")
            return redirect(url_for("posts.detail", post_id=post.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("posts/form.html", form=form, post=None,
                           product_rows=review_rows or _product_rows(form, None),
                           rules_community=_chosen_community(form.community.data)), status


def _chosen_community(slug: str | None) -> Community | None:
    """The community picked in the editor, whose rules are shown beside it."""
    if not slug:
        return None
    return db.session.scalar(select(Community).where(Community.slug == str(slug).strip().lower()))


def _review_of(form: PostForm, value: str | None) -> list[ProductRow] | None:
    """`/p/new?review=<product id>` (an order's "Write a review"): the editor opens as a review rating it."""
    product_id = _form_id(value)
    card = cards_for_products([product_id]).get(product_id) if product_id is not None else None
    if card is None or not card.available:
        return None
    form.kind.data = KIND_REVIEW
    form.reviewed_product_id.data = str(product_id)
    return [ProductRow(card, "", True)]


@bp.route("/p/<id:post_id>/edit", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def edit(post_id: int):
    post = services.get_post(post_id)
    if not services.can_edit(current_user, post):
        raise Forbidden(_("Only the author can edit this note."))
    form = PostForm(obj=post)
    form.community.choices = [(post.community.slug, post.community.name)]
    if request.method == "GET":
        form.community.data, form.body.data = post.community.slug, post.body_md
        form.tags.data = " ".join(t.name for t in post.tags)
        form.rating.data = str(post.rating or "")
    if form.validate_on_submit():
        remove = [_form_id(value) or -1 for value in request.form.getlist("remove_image")
                  if is_ascii_digits(value.strip())]
        try:
            services.edit_post(current_user, post, title=form.title.data, body=form.body.data, tags=form.tags.data,
                               rating=form.rating.data if post.kind == KIND_REVIEW else None,
                               add_images=_uploads(form), remove_image_ids=remove,
                               discloses_own_product=bool(form.discloses_own_product.data),
                               **_product_fields(form, post.kind))
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("posts.detail", post_id=post.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("posts/form.html", form=form, post=post, product_rows=_product_rows(form, post),
                           rules_community=post.community), status


@bp.get("/posts/product-search")
def product_search():
    """Products to tag, by title: the editor's live results (htmx), or a page of product numbers without it."""
    query = (request.args.get("q") or "").strip()
    found = search_products(query, PRODUCT_SEARCH_LIMIT) if query else []
    if _is_htmx():
        return render_template("posts/_product_results.html", query=query, found=found, in_editor=True)
    return render_template("posts/product_search.html", query=query, found=found, in_editor=False)


@bp.get("/posts/product-tag")
def product_tag_row():
    """One product as a row of the editor's tagged list (what an "Add" button in the results appends)."""
    product_id = _form_id(request.args.get("product_id"))
    cards = cards_for_products([product_id]) if product_id is not None else {}
    card = next(iter(cards.values()), None)
    if card is None or not card.available:  # drafts and unapproved shops' products are not public
        raise NotFound(_("No such product."))
    return render_template("posts/_product_row.html", row=ProductRow(card))


@bp.post("/p/<id:post_id>/delete")
@login_required
def delete(post_id: int):
    post = services.get_post(post_id)
    services.delete_post(current_user, post)
    flash(_("Your note is deleted."), "success")
    return redirect(url_for("feeds.profile", username=current_user.username))


@bp.get("/p/<id:post_id>")
def detail(post_id: int):
    post = services.get_post(post_id)
    viewer = current_viewer()
    services.ensure_can_view(post, viewer)
    liked = bool(viewer and db.session.get(Like, (viewer.id, post.id)))
    saved_in = engagement.saved_in(viewer, post) if viewer else None
    if post.status == STATUS_PUBLISHED:
        record_action("open", user_id=viewer.id if viewer else None, anon_id=request.cookies.get(ANON_COOKIE),
                      post_id=post.id, surface=request.args.get("from") or "post")
    return render_template(
        "posts/detail.html", post=post, liked=liked, saved_in=saved_in,
        relation=relationship_between(viewer, post.author) if viewer else None,
        comments=comment_services.comment_tree(post, viewer) if post.status == STATUS_PUBLISHED else [],
        comment_form=CommentForm(), collections=engagement.collections_of(viewer, viewer) if viewer else [],
        can_edit=services.can_edit(viewer, post), can_edit_comment=comment_services.can_edit_comment,
        can_delete_comment=comment_services.can_delete_comment,
        products=product_cards([post.id]).get(post.id, []) if post.status == STATUS_PUBLISHED else [],
        cart_add_url=cart_add_url())


# --- like, save, share ------------------------------------------------------------------------------------

def _button_response(post, partial: str, message: str):
    if _is_htmx():
        viewer = current_viewer()
        return render_template(partial, post=post, liked=bool(db.session.get(Like, (viewer.id, post.id))),
                               saved_in=engagement.saved_in(viewer, post),
                               collections=engagement.collections_of(viewer, viewer))
    flash(message, "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("posts.detail", post_id=post.id)))


@bp.post("/p/<id:post_id>/like")
def like(post_id: int):
    post = services.get_post(post_id)
    if not current_user.is_authenticated:
        return log_in_first(url_for("posts.detail", post_id=post.id))
    engagement.like_post(current_user, post, surface=request.form.get("surface"))
    return _button_response(post, "posts/_like_button.html", _("You liked this note."))


@bp.post("/p/<id:post_id>/unlike")
@login_required
def unlike(post_id: int):
    post = services.get_post(post_id)
    engagement.unlike_post(current_user, post)
    return _button_response(post, "posts/_like_button.html", _("Like removed."))


def _collection_id() -> int | None:
    value = request.form.get("collection_id", "")
    if not value:
        return None
    if _form_id(value) is None:
        raise Invalid(_("Choose one of your collections."), {"collection_id": [_("Choose one of your collections.")]})
    return _form_id(value)


@bp.post("/p/<id:post_id>/save")
def save(post_id: int):
    post = services.get_post(post_id)
    if not current_user.is_authenticated:
        return log_in_first(url_for("posts.detail", post_id=post.id))
    new_name = (request.form.get("new_collection") or "").strip()
    collection_id = engagement.create_collection(current_user, new_name).id if new_name else _collection_id()
    saved = engagement.save_post(current_user, post, collection_id, surface=request.form.get("surface"))
    return _button_response(post, "posts/_save_button.html",
                            _("Saved to %(name)s.", name=saved.collection.name))


@bp.post("/p/<id:post_id>/unsave")
@login_required
def unsave(post_id: int):
    post = services.get_post(post_id)
    engagement.unsave_post(current_user, post)
    return _button_response(post, "posts/_save_button.html", _("Removed from your collection."))


@bp.post("/p/<id:post_id>/share")
def share(post_id: int):
    """Log a share (the link itself is copied by the browser); answers with the link to copy."""
    post = services.get_post(post_id)
    services.ensure_can_view(post, current_viewer())
    record_action("share", user_id=current_user.id if current_user.is_authenticated else None,
                  anon_id=request.cookies.get(ANON_COOKIE), post_id=post.id)
    link = external_url_for("posts.detail", post_id=post.id)
    if _is_htmx():
        return render_template("posts/_share_link.html", link=link)
    flash(_("Share this link: %(link)s", link=link), "info")
    return redirect(url_for("posts.detail", post_id=post.id))


# --- comments ---------------------------------------------------------------------------------------------

@bp.post("/p/<id:post_id>/comments")
def add_comment(post_id: int):
    post = services.get_post(post_id)
    if not current_user.is_authenticated:
        return log_in_first(url_for("posts.detail", post_id=post.id))
    form = CommentForm()
    if not form.validate_on_submit():  # only the CSRF token can fail here
        raise Invalid(_("Your form expired. Reload the page and try again."))
    parent = form.parent_id.data
    if parent and _form_id(str(parent)) is None:
        raise Invalid(_("You can only reply to a comment on this note."))
    try:
        comment = comment_services.add_comment(current_user, post, form.body.data, _form_id(parent) if parent else None)
    except Invalid as exc:
        if _is_htmx():
            return render_template("posts/_comment_error.html", message=exc.message), 422
        flash(exc.message, "error")
        return redirect(url_for("posts.detail", post_id=post.id) + "#comments")
    if _is_htmx():
        return render_template("posts/_comment_posted.html", post=post, node=comment_services.CommentNode(comment),
                               comment_form=CommentForm(), can_edit_comment=comment_services.can_edit_comment,
                               can_delete_comment=comment_services.can_delete_comment)
    return redirect(url_for("posts.detail", post_id=post.id) + f"#comment-{comment.id}")


@bp.route("/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(comment_id: int):
    comment = comment_services.get_comment(comment_id)
    form = CommentForm(obj=comment)
    if form.validate_on_submit():
        try:
            comment_services.edit_comment(current_user, comment, form.body.data)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            return redirect(url_for("posts.detail", post_id=comment.post_id) + f"#comment-{comment.id}")
    elif request.method == "GET" and not comment_services.can_edit_comment(current_user, comment):
        raise Forbidden(_("Comments can be edited for 15 minutes after posting."))
    status = 422 if form.errors else 200
    return render_template("posts/comment_form.html", form=form, comment=comment), status


@bp.post("/comments/<id:comment_id>/delete")
@login_required
def delete_comment(comment_id: int):
    comment = comment_services.get_comment(comment_id)
    comment_services.delete_comment(current_user, comment)
    if _is_htmx():
        return render_template("posts/_comment_deleted.html", comment=comment)
    flash(_("Comment deleted."), "success")
    return redirect(url_for("posts.detail", post_id=comment.post_id) + "#comments")


# --- collections ------------------------------------------------------------------------------------------

@bp.route("/collections", methods=["GET", "POST"])
@login_required
def my_collections():
    form = CollectionForm()
    if form.validate_on_submit():
        try:
            collection = engagement.create_collection(current_user, form.name.data, form.is_public.data)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Collection %(name)s created.", name=collection.name), "success")
            return redirect(url_for("posts.collection", collection_id=collection.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("posts/collections.html", form=form,
                           collections=engagement.collections_of(current_user, current_user)), status


@bp.get("/collections/<id:collection_id>")
def collection(collection_id: int):
    viewer = current_viewer()
    collection_ = engagement.get_collection(collection_id, viewer)
    page = engagement.collection_posts(collection_, viewer, request.args.get("cursor"))
    next_url = url_for("posts.collection", collection_id=collection_id, cursor=page.next_cursor) \
        if page.next_cursor else None
    state = viewer_state(page.items, viewer.id if viewer else None)
    if _is_htmx() and request.args.get("cursor"):
        return render_template("feeds/_more.html", posts=page.items, state=state, next_url=next_url)
    form = CollectionForm(obj=collection_) if viewer and viewer.id == collection_.owner_id else None
    return render_template("posts/collection.html", collection=collection_, posts=page.items, state=state,
                           next_url=next_url, form=form)


@bp.post("/collections/<id:collection_id>/edit")
@login_required
def edit_collection(collection_id: int):
    collection_ = engagement.get_collection(collection_id, current_user)
    form = CollectionForm()
    if form.validate_on_submit():
        try:
            engagement.update_collection(current_user, collection_, name=form.name.data,
                                         is_public=form.is_public.data)
        except Invalid as exc:
            flash(exc.message, "error")
        else:
            flash(_("Your changes are saved."), "success")
    return redirect(url_for("posts.collection", collection_id=collection_id))


@bp.post("/collections/<id:collection_id>/delete")
@login_required
def delete_collection(collection_id: int):
    collection_ = engagement.get_collection(collection_id, current_user)
    engagement.delete_collection(current_user, collection_)
    flash(_("Collection deleted."), "success")
    return redirect(url_for("posts.my_collections"))


# --- edit history -------------------------------------------------------------------------------------------

@bp.get("/p/<id:post_id>/revisions")
@login_required
def revisions(post_id: int):
    """The note as it is and every earlier version, newest first (for its author; "edited" links here)."""
    post = services.get_post(post_id)
    earlier = services.revisions_of(post, current_user)
    return render_template("posts/revisions.html", post=post, revisions=earlier)
