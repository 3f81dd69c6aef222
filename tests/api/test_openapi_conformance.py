"""The API says what it returns: RFC 3339 timestamps, problem+json errors, nullable fields declared."""
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import Schema, class_registry, fields

from app.core.timestamps import Timestamp
from tests import factories
from tests.api.test_api_frame import PROBLEM, bearer, token_for


def walk_fields(schema: Schema, path: str, seen: frozenset = frozenset()):
    """Every (dotted path, field) of a schema, through nested schemas (once each) and list items."""
    seen = seen | {type(schema)}
    for name, field in schema.fields.items():
        yield from walk_field(field, f"{path}.{name}", seen)


def walk_field(field, path: str, seen: frozenset):
    yield path, field
    if isinstance(field, fields.Nested) and type(field.schema) not in seen:
        yield from walk_fields(field.schema, path, seen)
    elif isinstance(field, fields.List):
        yield from walk_field(field.inner, f"{path}[]", seen)
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        yield from walk_field(field.value_field, f"{path}{{}}", seen)


def api_schema_classes(spec: dict) -> list[type[Schema]]:
    """The app's marshmallow schemas, once the OpenAPI document (which imports every api.py) is built."""
    assert spec["paths"]
    classes = {cls for entries in class_registry._registry.values() for cls in entries
               if cls.__module__.startswith("app.")}
    return sorted(classes, key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def test_every_datetime_field_of_every_api_schema_dumps_rfc3339(client):
    spec = client.get("/api/v1/openapi.json").json
    classes = api_schema_classes(spec)
    assert len(classes) > 50
    checked, wrong = 0, []
    for cls in classes:
        for path, field in walk_fields(cls(), cls.__name__):
            if isinstance(field, fields.DateTime):
                checked += 1
                if not isinstance(field, Timestamp):
                    wrong.append(f"{cls.__module__}: {path} is {type(field).__name__}")
    assert checked > 20 and wrong == []
    # …and the document calls each of them a date-time.
    formats = [prop.get("format") for schema in spec["components"]["schemas"].values()
               for prop in schema.get("properties", {}).values()]
    assert formats.count("date-time") > 20


def test_timestamp_field_dumps_naive_utc_with_an_offset_and_loads_back_naive_utc():
    class Moment(Schema):
        at = Timestamp(allow_none=True)

    stored = datetime(2026, 12, 6, 16, 14, 36, 979648)
    assert Moment().dump({"at": stored}) == {"at": "2026-12-06T16:14:36.979648+00:00"}
    assert Moment().dump({"at": None}) == {"at": None}
    beijing = datetime(2026, 12, 7, 0, 14, 36, tzinfo=timezone(timedelta(hours=8)))
    assert Moment().dump({"at": beijing}) == {"at": "2026-12-06T16:14:36+00:00"}
    assert Moment().load({"at": "2026-12-07T00:14:36+08:00"}) == {"at": datetime(2026, 12, 6, 16, 14, 36)}
    assert Moment().load({"at": "2026-12-06T16:14:36Z"}) == {"at": datetime(2026, 12, 6, 16, 14, 36)}


def assert_rfc3339_utc(value: str, stored: datetime) -> None:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    assert parsed.replace(tzinfo=None) == stored.replace(microsecond=parsed.microsecond)


def test_timestamps_from_the_api_carry_an_offset(client, app, ctx):
    author = factories.user()
    place = factories.community(owner=author)
    note = factories.post(author=author, community_=place)
    headers = bearer(token_for(app, author))

    me = client.get("/api/v1/me", headers=headers).json
    assert_rfc3339_utc(me["joined_at"], author.created_at)
    community = client.get(f"/api/v1/communities/{place.slug}").json
    assert_rfc3339_utc(community["created_at"], place.created_at)
    post = client.get(f"/api/v1/posts/{note.id}").json
    assert_rfc3339_utc(post["created_at"], note.created_at)
    assert_rfc3339_utc(post["author"]["joined_at"], author.created_at)
    token = client.get("/api/v1/me/tokens", headers=headers).json["items"][0]
    assert datetime.fromisoformat(token["created_at"]).utcoffset() == timedelta(0)
    assert token["expires_at"] is None


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/posts/999999", "/api/v1/users/nobody-here"])
def test_error_responses_are_documented_as_problem_json(client, path):
    spec = client.get("/api/v1/openapi.json").json
    response = client.get(path)
    assert response.status_code in (401, 404) and response.content_type == PROBLEM
    template = "/api/v1/posts/{post_id}" if "posts" in path else "/api/v1/users/{username}" if "users" in path \
        else path
    default = spec["paths"][template]["get"]["responses"]["default"]
    name = default["$ref"].rsplit("/", 1)[-1]
    content = spec["components"]["responses"][name]["content"]
    assert list(content) == [PROBLEM]
    schema = spec["components"]["schemas"][content[PROBLEM]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert set(response.json) <= set(schema["properties"])
    assert set(schema.get("required", [])) <= set(response.json)
    assert isinstance(response.json["status"], int) and schema["properties"]["status"]["type"] == "integer"


def untyped_properties(schema: dict, path: str):
    for name, prop in schema.get("properties", {}).items():
        if not any(key in prop for key in ("type", "$ref", "allOf", "anyOf", "oneOf")):
            yield f"{path}.{name}"
        yield from untyped_properties(prop, f"{path}.{name}")
        yield from untyped_properties(prop.get("items", {}), f"{path}.{name}[]")


def test_every_property_in_the_document_has_a_type(client):
    spec = client.get("/api/v1/openapi.json").json
    missing = [found for name, schema in spec["components"]["schemas"].items()
               for found in untyped_properties(schema, name)]
    assert missing == []
    payment = spec["components"]["schemas"]["Payment"]["properties"]["order_ids"]
    assert payment["type"] == "array" and payment["items"] == {"type": "integer"}
    assert spec["components"]["schemas"]["User"]["properties"]["profile_url"]["type"] == "string"


@pytest.fixture
def seeded(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--users", "4", "--posts", "40", "--products", "10",
                                                "--orders", "16", "--seed", "7"])
    assert result.exit_code == 0, result.output
    return app


def path_values(app) -> dict[str, list[str]]:
    """Real values for every path parameter of the GET operations, from the seeded site."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.affiliate.models import ShareLink
    from app.communities.models import Community
    from app.extensions import db
    from app.groupbuy.models import Campaign, Group
    from app.moderation.models import ModAction
    from app.posts.models import Collection, Post, Tag
    from app.shop.aftersale_models import AfterSale
    from app.shop.models import Order, Payment, PostProduct, Product, Shop

    with app.app_context():
        reader = db.session.scalar(select(User).where(User.username == "reader"))
        merchant = db.session.scalar(select(User).where(User.username == "merchant"))
        first = lambda query: [str(value) for value in db.session.scalars(query.limit(4))]  # noqa: E731
        return {
            "username": ["creator", "reader"],
            "community_slug": first(select(Community.slug).order_by(Community.id)),
            "shop_slug": first(select(Shop.slug).where(Shop.owner_id == merchant.id)),
            "post_id": first(select(PostProduct.post_id).distinct()) + first(select(Post.id).order_by(Post.id)),
            "collection_id": first(select(Collection.id).order_by(Collection.id)),
            "product_id": first(select(Product.id).order_by(Product.id)),
            "order_id": [str(i) for i in db.session.scalars(select(Order.id).where(Order.buyer_id == reader.id))],
            "payment_id": first(select(Payment.id).where(Payment.buyer_id == reader.id).order_by(Payment.id)),
            "name": first(select(Tag.name).order_by(Tag.post_count.desc())),
            "campaign_id": first(select(Campaign.id).order_by(Campaign.id)),
            "group_id": first(select(Group.id).order_by(Group.id)),
            "code": first(select(ShareLink.code).order_by(ShareLink.id)),
            "action_id": first(select(ModAction.id).order_by(ModAction.id)),
            "after_sale_id": first(select(AfterSale.id).where(AfterSale.buyer_id == reader.id).order_by(AfterSale.id)),
        }


def concrete_paths(template: str, values: dict[str, list[str]]) -> list[str]:
    if "{" not in template:
        return [template + ("?q=a" if template.endswith("/search") else "")]
    name = template[template.index("{") + 1:template.index("}")]
    key = f"{'shop' if '/shops/' in template else 'community'}_slug" if name == "slug" else name
    return [path for value in values[key]
            for path in concrete_paths(template.replace("{" + name + "}", value, 1), values)]


def test_every_get_operation_answers_what_the_document_says_on_seeded_data(seeded, client):
    """The schemathesis gate's response check, in process, on real rows (orders in every state, reviews…)."""
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded)
    values = path_values(seeded)
    with seeded.app_context():
        from app.accounts.models import User
        from app.extensions import db
        users = {name: db.session.query(User).filter_by(username=name).one() for name in ("reader", "merchant")}
    viewers = {"anonymous": {}, **{name: bearer(token_for(seeded, user)) for name, user in users.items()}}
    operations = [(template, ops) for template, ops in schema.raw_schema["paths"].items() if "get" in ops]
    assert len(operations) > 30
    checked, failures = 0, []
    for template, _ops in operations:
        operation = schema[template]["GET"]
        for path in concrete_paths(template, values):
            for viewer, headers in viewers.items():
                response = client.get(path, headers=headers)
                checked += 1
                try:
                    assert response.status_code < 500
                    operation.validate_response(response)
                except Exception as exc:  # noqa: BLE001 - collect every mismatch, then fail once
                    failures.append(f"GET {path} as {viewer} → {response.status_code}: {exc}"[:600])
    assert checked > 150 and failures == []
