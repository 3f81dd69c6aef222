"""The /api/v1 frame: OpenAPI document from the code, bearer-token auth, problem+json errors.

Each domain owns its JSON routes in its own `api.py` (a flask-smorest Blueprint); this package only
binds them under /api/v1 (with the token loader and the auth hook from app/core/api.py) and serves the
interactive docs page. Shared helpers and schemas live in app/core/api.py and the domains' schemas.py.
"""
from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from marshmallow import fields

from app.core.api import authenticate_api_request, set_token_loader
from app.extensions import api, csrf

docs_bp = Blueprint("api_docs", __name__)


@docs_bp.get("/api/v1/docs")
def docs():
    """Interactive API docs (vendored Swagger UI; nothing loads from a CDN)."""
    return render_template("api/docs.html")


def register_api(app: Flask) -> None:
    from app.accounts.api import blp as accounts_blp
    from app.accounts.services import user_for_token
    from app.affiliate.api import blp as affiliate_blp
    from app.communities.api import blp as communities_blp
    from app.feeds.api import blp as feeds_blp
    from app.groupbuy.api import blp as groupbuy_blp
    from app.moderation.api import blp as moderation_blp
    from app.posts.api import blp as posts_blp
    from app.search.api import blp as search_blp
    from app.shop.api import blp as shop_blp
    from app.shop.api_aftersales import blp as aftersales_blp
    from app.shop.api_wallet import blp as wallet_blp
    from app.social.api import blp as social_blp

    api.init_app(app, spec_kwargs={
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "A personal access token created in Settings → API tokens."},
        }},
        "security": [{"bearerAuth": []}],
    })
    # Our computed fields (fields.Function) are URLs and labels: say "string" instead of nothing. One
    # that computes something else declares its type in its metadata, which takes precedence.
    api.register_field(fields.Function, "string", None)
    api_blueprints = (accounts_blp, social_blp, communities_blp, posts_blp, feeds_blp, search_blp, shop_blp,
                      groupbuy_blp, affiliate_blp, moderation_blp, aftersales_blp, wallet_blp)
    names = {blp.name for blp in api_blueprints}
    for blp in api_blueprints:
        csrf.exempt(blp)  # API CSRF is checked in authenticate_api_request, only for cookie sessions
        api.register_blueprint(blp, url_prefix="/api/v1")
    app.register_blueprint(docs_bp)
    set_token_loader(app, user_for_token)

    @app.before_request
    def authenticate_api_calls():
        if request.blueprint in names:
            authenticate_api_request()
