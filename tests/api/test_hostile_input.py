"""What a stranger sends the API: huge ids, odd digits, deep or broken JSON, text for files, wrong content types,
a forged Host header. Each is a 4xx problem (or a link on our own address), never a 500."""
import io

import pytest
from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts.models import User
from app.core.parsing import MAX_ID
from app.extensions import db
from app.posts.models import Post, PostImage
from tests import factories
from tests.posts.conftest import image_bytes, publish
from tests.social.conftest import person

PROBLEM = "application/problem+json"
HUGE_IDS = ["2147483648", "9223372036854775808", "458600578909846896640", "8520003432203889577820160", "9" * 5000]


def token(app, username: str, **fields) -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username)) or person(username, **fields)
        _token, secret = accounts.create_token(user, "test")
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def world(app):
    """A community with one post by ann; ann's token."""
    headers = token(app, "ann")
    with app.app_context():
        ann = db.session.scalar(select(User).where(User.username == "ann"))
        community = factories.community("trail-runners")
        post_id = publish(ann, community).id
    return {"ann": headers, "post_id": post_id}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.content_type == PROBLEM
    return response.json


@pytest.mark.parametrize("huge", HUGE_IDS, ids=["2^31", "2^63", "2^68", "2^82", "5000-digits"])
def test_huge_ids_in_paths_are_unknown(client, world, huge):
    ann = world["ann"]
    for method, path in [
        ("GET", f"/api/v1/posts/{huge}"),
        ("GET", f"/api/v1/collections/{huge}/posts"),
        ("PUT", f"/api/v1/posts/{huge}/save"),
        ("PUT", f"/api/v1/posts/{huge}/like"),
        ("PATCH", f"/api/v1/comments/{huge}"),
        ("GET", f"/api/v1/products/{huge}"),
        ("GET", f"/api/v1/orders/{huge}"),
        ("POST", f"/api/v1/notifications/{huge}/read"),
        ("DELETE", f"/api/v1/feeds/for-you/feedback/{huge}"),
    ]:
        problem(client.open(path, method=method, headers=ann, json={}), 404)
    for path in (f"/p/{huge}", f"/p/{huge}/similar", f"/collections/{huge}", f"/products/{huge}",
                 f"/orders/{huge}"):
        assert client.get(path).status_code == 404, path


def test_the_largest_id_is_looked_up_and_unknown(client, world):
    problem(client.get(f"/api/v1/posts/{MAX_ID}"), 404)
    assert client.get(f"/api/v1/posts/{world['post_id']}").status_code == 200


def test_unicode_digits_in_paths_are_not_ids(client, world):
    for digits in ("²", "①", "١", "٣٤"):
        problem(client.get(f"/api/v1/posts/{digits}"), 404)
        assert client.get(f"/p/{digits}").status_code == 404


@pytest.mark.parametrize("huge", [2**31, 2**63, 2**100])
def test_huge_ids_in_bodies_are_invalid_fields(client, app, world, huge):
    ann, post_id = world["ann"], world["post_id"]
    cases = [
        ("POST", f"/api/v1/posts/{post_id}/comments", {"body": "hi", "parent_id": huge}, "parent_id"),
        ("PUT", f"/api/v1/posts/{post_id}/save", {"collection_id": huge}, "collection_id"),
        ("PATCH", f"/api/v1/posts/{post_id}", {"product_ids": [huge]}, "product_ids"),
        ("PATCH", f"/api/v1/posts/{post_id}", {"remove_image_ids": [huge]}, "remove_image_ids"),
        ("POST", "/api/v1/feeds/for-you/feedback", {"kind": "not_interested", "post_id": huge}, "post_id"),
        ("POST", "/api/v1/cart/items", {"sku_id": huge}, "sku_id"),
        ("POST", "/api/v1/checkout/quote", {"lines": [{"sku_id": 1, "quantity": 1, "source_post_id": huge}]},
         "lines"),
    ]
    for method, path, body, field in cases:
        refused = problem(client.open(path, method=method, json=body, headers=ann), 422)
        assert field in refused["errors"], (path, refused)
    for field_value in ("9" * 5000, "²", "١٢", 1.5, True, 0, -1):
        refused = problem(client.put(f"/api/v1/posts/{post_id}/save", json={"collection_id": field_value},
                                     headers=ann), 422)
        assert "collection_id" in refused["errors"]


def test_unicode_digits_in_api_queries_are_invalid(client, world):
    for value in ("²", "①", "١٢"):
        problem(client.get(f"/api/v1/search?q=trail&page={value}"), 422)
        problem(client.get(f"/api/v1/search?q=trail&type=products&min_price={value}"), 422)
        problem(client.get(f"/api/v1/feeds/trending?limit={value}"), 422)


def test_the_openapi_document_bounds_every_path_id(client):
    document = client.get("/api/v1/openapi.json").json
    id_params = [param for operations in document["paths"].values() for operation in operations.values()
                 if isinstance(operation, dict) for param in operation.get("parameters", [])
                 if param.get("in") == "path" and param["name"].endswith("_id")]
    id_params += [param for operations in document["paths"].values() for param in operations.get("parameters", [])
                  if param.get("in") == "path" and param["name"].endswith("_id")]
    assert id_params
    for param in id_params:
        assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}, param


# --- JSON bodies ----------------------------------------------------------------------------------------

def test_deeply_nested_json_is_refused(client, world):
    ann, post_id = world["ann"], world["post_id"]
    for body in ("[" * 1000, "[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        refused = problem(client.patch(f"/api/v1/posts/{post_id}", data=body, headers=ann,
                                       content_type="application/json"), 422)
        assert "nested too deeply" in refused["detail"]
    # brackets inside strings are text, not nesting
    fine = client.patch(f"/api/v1/posts/{post_id}", json={"title": "[[[[" * 20}, headers=ann)
    assert fine.status_code == 200 and fine.json["title"].startswith("[[[[")


def test_a_lone_surrogate_is_refused_and_changes_nothing(client, app, world):
    ann, post_id = world["ann"], world["post_id"]
    for body in ('{"title": "bad \\ud800 title"}', '{"tags": ["ok", "\\udfff"]}', '{"\\ud83d": 1}'):
        refused = problem(client.patch(f"/api/v1/posts/{post_id}", data=body, headers=ann,
                                       content_type="application/json"), 422)
        assert "not valid Unicode" in refused["detail"]
    refused = problem(client.post(f"/api/v1/posts/{post_id}/comments", data='{"body": "\\ud800"}',
                                  headers=ann, content_type="application/json"), 422)
    with app.app_context():
        assert db.session.get(Post, post_id).title == "Sunrise on the ridge"
    # a proper surrogate pair is an ordinary character
    ok = client.patch(f"/api/v1/posts/{post_id}", data='{"title": "Trail \\ud83c\\udfd4"}', headers=ann,
                      content_type="application/json")
    assert ok.status_code == 200 and ok.json["title"] == "Trail \U0001f3d4"


def test_refusals_are_in_the_readers_language(client, world):
    ann = {**world["ann"], "Accept-Language": "zh-CN"}
    refused = problem(client.patch(f"/api/v1/posts/{world['post_id']}", data='{"title": "\\ud800"}', headers=ann,
                                   content_type="application/json"), 422)
    assert "Unicode" in refused["detail"] and "请求" in refused["detail"]
    refused = problem(client.patch(f"/api/v1/posts/{world['post_id']}", data="title=x", headers=ann,
                                   content_type="text/plain"), 415)
    assert "JSON" in refused["detail"] and "请" in refused["detail"]


def test_a_non_json_body_is_415(client, app, world):
    ann, post_id = world["ann"], world["post_id"]
    for content_type, body in [("text/plain", '{"title": "x"}'), ("application/x-www-form-urlencoded", "title=x"),
                               ("application/xml", "<title>x</title>")]:
        problem(client.patch(f"/api/v1/posts/{post_id}", data=body, headers=ann, content_type=content_type), 415)
        problem(client.post(f"/api/v1/posts/{post_id}/comments", data=body, headers=ann,
                            content_type=content_type), 415)
        problem(client.patch("/api/v1/me", data=body, headers=ann, content_type=content_type), 415)
    refused = problem(client.post("/api/v1/cart/items", data="sku_id=1", headers=ann,
                                  content_type="application/x-www-form-urlencoded"), 415)
    assert "application/json" in refused["detail"]
    with app.app_context():
        assert db.session.get(Post, post_id).title == "Sunrise on the ridge"
    # an optional body may still be left out entirely
    assert client.put(f"/api/v1/posts/{post_id}/like", headers=ann).status_code in (200, 201, 204)


def test_malformed_json_is_still_a_400(client, world):
    refused = problem(client.patch(f"/api/v1/posts/{world['post_id']}", data="{nope", headers=world["ann"],
                                   content_type="application/json"), 400)
    assert refused["errors"] == {"_schema": ["Invalid JSON body."]}


# --- multipart ------------------------------------------------------------------------------------------

def test_text_where_a_file_is_expected_is_422(client, app, world):
    ann, post_id = world["ann"], world["post_id"]
    data = {"community": "trail-runners", "title": "No files", "images": "not a file"}
    refused = problem(client.post("/api/v1/posts", data=data, headers=ann, content_type="multipart/form-data"), 422)
    assert refused["errors"]["images"] == {"0": ["Attach a file here, not text."]}
    mixed = {"community": "trail-runners", "title": "Mixed",
             "images": [(io.BytesIO(image_bytes()), "a.png"), "also not a file"]}
    problem(client.post("/api/v1/posts", data=mixed, headers=ann, content_type="multipart/form-data"), 422)
    refused = problem(client.post(f"/api/v1/posts/{post_id}/images", data={"images": "text"}, headers=ann,
                                  content_type="multipart/form-data"), 422)
    assert "images" in refused["errors"]
    chinese = problem(client.post(f"/api/v1/posts/{post_id}/images", data={"images": "text"},
                                  headers={**ann, "Accept-Language": "zh-CN"}, content_type="multipart/form-data"),
                      422)
    assert chinese["errors"]["images"] == {"0": ["这里要附上文件，而不是文本。"]}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 1
        assert db.session.scalar(select(func.count()).select_from(PostImage)) == 1
    # a real file still works
    added = client.post(f"/api/v1/posts/{post_id}/images", data={"images": [(io.BytesIO(image_bytes()), "b.png")]},
                        headers=ann, content_type="multipart/form-data")
    assert added.status_code == 200 and len(added.json["images"]) == 2


# --- links ----------------------------------------------------------------------------------------------

def test_links_use_the_configured_address_not_the_host_header(client, app, world):
    app.config["PUBLIC_BASE_URL"] = "https://tastemaker.example"
    evil = {**world["ann"], "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    responses = [client.get(f"/api/v1/posts/{world['post_id']}", headers=evil),
                 client.get("/api/v1/feeds/trending", headers=evil),
                 client.get("/api/v1/me", headers=evil),
                 client.get("/api/v1/communities/trail-runners", headers=evil),
                 client.get("/api/v1/search?q=ridge", headers=evil)]
    for response in responses:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        text = response.get_data(as_text=True)
        assert "evil.example" not in text
    post = responses[0].json
    assert post["url"] == f"https://tastemaker.example/p/{world['post_id']}"
    assert post["images"][0]["url"].startswith("https://tastemaker.example/media/")
    assert responses[3].json["url"] == "https://tastemaker.example/c/trail-runners"


def test_links_fall_back_to_server_name_then_localhost(client, app, world):
    app.config["PUBLIC_BASE_URL"] = None
    headers = {"Host": "evil.example"}
    assert client.get(f"/api/v1/posts/{world['post_id']}", headers=headers).json["url"] \
        == f"http://localhost:5000/p/{world['post_id']}"
    app.config.update(SERVER_NAME="shop.example", PREFERRED_URL_SCHEME="https")
    assert client.get(f"/api/v1/posts/{world['post_id']}", headers=headers).json["url"] \
        == f"https://shop.example/p/{world['post_id']}"


def test_an_endless_number_in_json_is_refused(client, world):
    refused = problem(client.patch(f"/api/v1/posts/{world['post_id']}", data='{"rating": ' + "9" * 5000 + "}",
                                   headers=world["ann"], content_type="application/json"), 422)
    assert "too long" in refused["detail"]
