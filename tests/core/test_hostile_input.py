"""The pages against a stranger's input: ids, digits that are not ASCII, failures mid-request, and caching of
what is personal. Every route parses through app/core, so these check the shared causes, not one route."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.accounts.models import User
from app.core.parsing import MAX_ID, IdConverter, IdField, WholeNumber, parse_id, parse_whole_number
from app.extensions import db
from app.shop.models import Coupon, Product
from tests import factories
from tests.conftest import Client
from tests.shop.conftest import open_shop, product_with_sku, user
from tests.social.conftest import sign_in

UNICODE_DIGITS = ["²", "①", "١٢", "٣", "𝟗", "¹²"]  # superscript, circled, Arabic-Indic, mathematical


# --- one converter, one field, one helper ---------------------------------------------------------------

def test_no_route_takes_an_unbounded_int(app):
    """Every integer in a URL goes through the bounded id converter; a plain `int` would let 2^63 through."""
    checked = 0
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            assert type(converter) is not IntegerConverter, f"{rule.rule}: <int:{name}> — use <id:{name}>"
            if name == "id" or name.endswith("_id"):
                assert isinstance(converter, IdConverter), f"{rule.rule}: {name} is not an <id:…>"
                checked += 1
    assert checked > 40  # posts, shop, social, feeds and accounts routes all take ids


@pytest.mark.parametrize("text, expected", [
    ("42", 42), (" 7 ", 7), ("0", 0), ("²", None), ("①", None), ("١٢", None), ("𝟗", None), ("4²", None),
    ("", None), (None, None), ("-3", None), ("+3", None), ("1e3", None), ("9" * 5000, None), (True, None), (12, 12),
])
def test_whole_numbers_are_ascii_digits_only(text, expected):
    assert parse_whole_number(text) == expected


def test_signed_numbers_and_ids():
    assert parse_whole_number("-3", signed=True) == -3 and parse_whole_number("+3", signed=True) == 3
    assert parse_whole_number("-٣", signed=True) is None
    assert parse_whole_number("120", maximum=100) is None
    assert [parse_id(v) for v in ("1", str(MAX_ID), str(MAX_ID + 1), "0", "²", "00000000001")] \
        == [1, MAX_ID, None, None, None, None]


def test_id_field_refuses_what_no_id_column_holds(ctx):
    from marshmallow import Schema, ValidationError

    class Body(Schema):
        post_id = IdField(required=True)
        page = WholeNumber()

    assert Body().load({"post_id": "12", "page": "3"}) == {"post_id": 12, "page": 3}
    assert Body().load({"post_id": MAX_ID}) == {"post_id": MAX_ID}
    for bad in (0, -1, MAX_ID + 1, 2**63, 2**100, "9" * 5000, "²", "١٢", 1.5, True, None, [], {}):
        with pytest.raises(ValidationError):
            Body().load({"post_id": bad})
    with pytest.raises(ValidationError):
        Body().load({"post_id": 1, "page": "١٢"})


# --- pages ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("huge", ["2147483648", "9223372036854775808", "458600578909846896640", "9" * 5000])
def test_huge_ids_on_pages_are_404(ctx, client, huge):
    factories.user("reader")
    sign_in(client, "reader")
    for path in (f"/p/{huge}", f"/p/{huge}/edit", f"/collections/{huge}", f"/products/{huge}", f"/orders/{huge}"):
        assert client.get(path).status_code == 404, path
    for path in (f"/p/{huge}/like", f"/p/{huge}/save", f"/orders/{huge}/cancel", f"/notifications/{huge}/read",
                 f"/settings/tokens/{huge}/revoke", f"/cart/items/{huge}"):
        assert client.post_form(path).status_code == 404, path


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_search_parameters_are_explained(ctx, client, digits):
    for args in ({"page": digits}, {"per_page": digits}, {"type": "products", "min_price": digits},
                 {"type": "products", "max_price": digits}):
        page = client.get("/search", query_string={"q": "tent", **args})
        assert page.status_code == 400, args
        assert 'class="alert alert-error"' in page.get_data(as_text=True)
        api = client.get("/api/v1/search", query_string={"q": "tent", **args})
        assert api.status_code == 422 and api.mimetype == "application/problem+json"


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_other_pages_are_ignored_or_explained(ctx, client, digits):
    factories.user("reader")
    sign_in(client, "reader")
    assert client.get("/", query_string={"pos": digits}).status_code in (200, 302)
    assert client.get("/people/suggested", query_string={"limit": digits}).status_code == 200
    assert client.get("/orders", query_string={"before": digits}).status_code == 200
    assert client.post_form("/feedback", {"post_id": digits, "kind": "not_interested"}).status_code in (400, 404, 422)


@pytest.fixture
def merchant_client(ctx, client):
    admin, merchant = user("boss", is_admin=True), user("seller")
    shop = open_shop(merchant, admin, slug="glow-lab")
    product, sku = product_with_sku(merchant, shop.id, price=12_850, stock=5, title="Glow serum", label="30 ml")
    sign_in(client, "seller")
    return client


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_merchant_forms_are_field_errors(merchant_client, digits):
    client = merchant_client
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "pink").save(image, "PNG")
    image.seek(0)
    products_before = db.session.scalar(select(func.count()).select_from(Product))
    for field in ("price", "stock", "commission"):
        data = {"title": "Lip oil", "code": "LIP-1", "label": "Cherry", "price": "89.90", "stock": "12",
                "commission": "5", field: digits}
        refused = client.post_form("/shop/glow-lab/products/new", data)
        assert refused.status_code == 422, (field, refused.status_code)
    assert db.session.scalar(select(func.count()).select_from(Product)) == products_before
    for field in ("value", "min_spend", "total_uses", "per_user_limit"):
        data = {"code": "SPRING", "kind": "percent", "value": "10", "min_spend": "0", "total_uses": "",
                "per_user_limit": "1", field: digits}
        refused = client.post_form("/shop/glow-lab/coupons/new", data)
        assert refused.status_code == 422, (field, refused.status_code)
        data["kind"] = "fixed"
        assert client.post_form("/shop/glow-lab/coupons/new", data).status_code == 422, field
    assert db.session.scalar(select(func.count()).select_from(Coupon)) == 0
    sku_id = db.session.scalar(select(Product).where(Product.title == "Glow serum")).skus[0].id
    assert client.post_form(f"/skus/{sku_id}/stock", {"delta": digits}).status_code in (302, 422)


# --- failures mid-request -------------------------------------------------------------------------------

def test_the_error_page_renders_after_a_failed_write(fresh_app):
    """A write that fails half-way leaves the session needing a rollback; the error page must still render
    (it reads the signed-in user) and nothing of the failed write may stay."""
    app = fresh_app  # it adds routes
    app.test_client_class = Client
    client = app.test_client()
    with app.app_context():
        factories.user("reader")

    @app.post("/test/half-written")
    def half_written():
        db.session.add(User(username="dup", username_key="reader", email="d@example.com",
                            email_key="d@example.com", password_hash="x"))
        db.session.flush()  # IntegrityError: the username key is taken

    @app.post("/api/v1/test/half-written")
    def api_half_written():
        return half_written()

    sign_in(client, "reader")
    page = client.post_form("/test/half-written")
    assert page.status_code == 500 and "Something went wrong" in page.get_data(as_text=True)
    api = client.post_form("/api/v1/test/half-written")
    assert api.status_code == 500 and api.mimetype == "application/problem+json"
    assert client.get("/settings").status_code == 200  # the next request is unaffected
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


# --- caching of personal pages --------------------------------------------------------------------------

def test_personal_pages_are_not_stored(ctx, client):
    factories.user("reader")
    public_home = client.get("/")
    assert "no-store" not in (public_home.headers.get("Cache-Control") or "")
    sign_in(client, "reader")
    for path in ("/settings", "/settings/tokens", "/cart", "/orders", "/notifications", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
    static = client.get("/static/css/app.css")
    assert "no-store" not in (static.headers.get("Cache-Control") or "")
    static.close()


def test_api_answers_for_a_token_are_not_stored(app, client):
    from app.accounts.services import create_token

    with app.app_context():  # not `ctx`: requests must get their own app context (and g), as when serving
        _token, secret = create_token(factories.user("reader"), "test")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and "no-store" in me.headers["Cache-Control"]
    anonymous = client.get("/api/v1/feeds/trending")
    assert anonymous.status_code == 200 and "no-store" not in (anonymous.headers.get("Cache-Control") or "")
