"""/search, /search/suggest and /api/v1/search: rendering, sanitizing, bad input (never a 500), rate limits."""
from __future__ import annotations

import re
import time

import pytest

from tests.conftest import Client
from tests.search.helpers import build_site

BAD_QUERIES = ['"unbalanced', "(sunscreen", "sunscreen))", "AND", "OR NOT", "*", "*screen", "sun*",
               "\x00\x1b[2J\x07", "💄🧴 防晒", "x" * 5000, "", "   ", "-", "'; DROP TABLE posts; --"]


@pytest.fixture(scope="module")
def site(module_app):
    module_app.config["SEARCH_RATE_LIMIT"] = "10000/minute"
    with module_app.app_context():
        return build_site()


@pytest.fixture
def web(module_app, site) -> Client:
    module_app.test_client_class = Client
    return module_app.test_client()


def test_results_page_shows_cards_snippets_facets_and_pages(web):
    html = web.get("/search?q=stove&sort=new").get_data(as_text=True)
    assert 'class="post-grid"' in html and "Camping stove 0" in html
    assert "25 results" in html and "rel=\"next\"" in html
    assert "Outdoor" in html  # the community facet
    html = web.get("/search?q=sunscreen").get_data(as_text=True)
    assert "<mark>" in html and "Did you mean" not in html


def test_titles_and_snippets_are_sanitized(web):
    html = web.get("/search?q=lipstick").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


def test_communities_people_and_did_you_mean(web):
    assert "Beauty 美妆" in web.get("/search?q=sunscreen&type=communities").get_data(as_text=True)
    assert "@ann" in web.get("/search?q=ann&type=users").get_data(as_text=True)
    html = web.get("/search?q=sunscren").get_data(as_text=True)
    assert "Did you mean" in html and "q=sunscreen" in html


def test_empty_state_suggests_where_to_start(web):
    html = web.get("/search").get_data(as_text=True)
    assert "What are you looking for?" in html and "/c/beauty" in html
    html = web.get("/search?q=qqqqzzzz").get_data(as_text=True)
    assert "Nothing found" in html and "/c/outdoor" in html


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_bad_queries_never_fail(web, q):
    started = time.perf_counter()
    page = web.get("/search", query_string={"q": q})
    api = web.get("/api/v1/search", query_string={"q": q})
    assert page.status_code == 200
    assert api.status_code in (200, 422) and api.is_json
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("args, field", [
    ({"type": "pets"}, "type"), ({"sort": "random"}, "sort"), ({"page": "-1"}, "page"),
    ({"page": "abc"}, "page"), ({"page": "0"}, "page"), ({"page": "99999999999"}, "page"),
    ({"per_page": "1000"}, "per_page"), ({"type": "products", "min_price": "-5"}, "min_price"),
    ({"type": "products", "max_price": "abc"}, "max_price"), ({"type": "products", "min_price": "1e5"}, "min_price"),
    ({"type": "products", "min_price": "0.001"}, "min_price"), ({"min_price": "10", "max_price": "5"}, "min_price"),
])
def test_bad_parameters_are_explained(web, args, field):
    page = web.get("/search", query_string={"q": "tent", **args})
    assert page.status_code == 400
    assert 'class="alert alert-error"' in page.get_data(as_text=True)
    api = web.get("/api/v1/search", query_string={"q": "tent", **args})
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    assert field in api.get_json()["errors"]


def test_api_returns_the_same_search(web, site):
    body = web.get("/api/v1/search?q=sunscreen&sort=relevant").get_json()
    assert body["total"] == 4 and body["total_exact"]  # two say "sunscreen", two 防晒 (its synonym)
    assert body["type_counts"] == {"posts": 4, "products": 3, "communities": 1, "users": 0}
    first = body["items"][0]
    assert first["type"] == "post" and first["post"]["id"] == site["sunscreen"]
    assert "<mark>" in first["title_html"] and first["url"].endswith(f"/p/{site['sunscreen']}")
    assert {c["slug"]: c["count"] for c in body["communities"]} == {"outdoor": 2, "beauty": 2}
    people = web.get("/api/v1/search?q=ann&type=users").get_json()
    assert people["items"][0]["user"]["username"] == "ann"
    assert web.get("/api/v1/search").status_code == 422  # q is required
    assert "/api/v1/search" in web.get("/api/v1/openapi.json").get_json()["paths"]


def test_products_tab_shows_price_rating_and_stock(web, site):
    html = web.get("/search?q=sunscreen&type=products").get_data(as_text=True)
    assert 'class="product-grid"' in html and f'/products/{site["p_sunscreen"]}' in html
    assert "Sunny Shop" in html and "129" in html
    hat = html.split(f'/products/{site["p_hat"]}')[1].split("</a>")[0]
    assert "Sold out" in hat
    assert 'name="min_price"' in html and 'name="in_stock"' in html
    html = web.get("/search?q=spf50&type=products&max_price=100").get_data(as_text=True)
    assert "防晒喷雾" in html and "Sunscreen SPF50 mineral" not in html
    assert 'value="100"' in html  # the filter stays in the form
    assert re.search(r'href="[^"]*type=products[^"]*max_price=100', html)  # the products tab keeps it
    assert not re.search(r'href="[^"]*type=posts[^"]*max_price', html)  # other tabs drop it


def test_a_mistyped_price_is_explained_on_its_field(web):
    page = web.get("/search?q=sunscreen&type=products&min_price=cheap")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and 'class="alert alert-error"' in html
    assert 'value="cheap"' in html and 'aria-invalid="true"' in html
    assert re.search(r'type=products[^>]*aria-current="page"', html)  # still on the products tab


def test_api_finds_products_with_their_price(web, site):
    body = web.get("/api/v1/search?q=sunscreen+spf50+mineral&type=products&sort=relevant&in_stock=true").get_json()
    [item] = body["items"]
    assert item["type"] == "product" and item["url"].endswith(f"/products/{site['p_sunscreen']}")
    product = item["product"]
    assert product["price_min_cents"] == 12900 and product["currency"] == "CNY" and product["in_stock"]
    assert product["shop"] == {"slug": "sunny", "name": "Sunny Shop"} and product["review_count"] == 0
    bad = web.get("/api/v1/search?q=sunscreen&type=products&min_price=-1")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "min_price" in bad.get_json()["errors"]


def test_suggestions_fragment_and_the_nav_form(web):
    html = web.get("/search/suggest?q=sunsc", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<mark>Sunsc</mark>reen for long hikes" in html and "/p/" in html
    assert web.get("/search/suggest?q=").get_data(as_text=True).strip() == ""
    html = web.get("/search/suggest?q=trail h", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Product" in html and "/products/" in html and "<mark>" in html
    nav = web.get("/search?q=x").get_data(as_text=True)
    assert 'action="/search"' in nav and 'hx-get="/search/suggest"' in nav and " disabled" not in nav.split(
        'id="nav-search"')[1].split(">")[0]


def test_healthz_reports_the_index_size(web):
    body = web.get("/healthz").get_json()
    assert body["status"] == "ok" and body["search"] == "ok" and body["search_documents"] == 41


def test_search_is_rate_limited_per_visitor(app):
    app.config["SEARCH_RATE_LIMIT"] = "3/minute"
    client = app.test_client()
    codes = [client.get("/search?q=tent").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/search?q=tent").status_code == 429
    other = app.test_client()
    assert other.get("/search?q=tent", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_a_count_stopped_early_reads_as_about(web, monkeypatch):
    from app.search import services

    real = services.get_backend

    class StoppedEarly:
        """The real backend, but every search says it stopped counting (as a capped phrase query does)."""

        def __init__(self, backend):
            self.backend = backend

        def __getattr__(self, name):
            return getattr(self.backend, name)

        def search(self, query):
            found = self.backend.search(query)
            found.total_exact = False
            return found

    assert "About 25 results" not in web.get("/search?q=stove&sort=new").get_data(as_text=True)
    monkeypatch.setattr(services, "get_backend", lambda: StoppedEarly(real()))
    assert "About 25 results" in web.get("/search?q=stove&sort=new").get_data(as_text=True)


def test_an_estimated_total_shows_no_zero_on_a_tab_the_sample_missed(web, monkeypatch):
    """Above EXACT_COUNT the PostgreSQL backend estimates counts from a sample, which can miss a small type:
    that tab shows no number rather than a false 0."""
    from app.search import services

    real = services.search

    def estimated(viewer, **params):
        page = real(viewer, **params)
        page.total_exact, page.type_counts = False, {"posts": page.type_counts.get("posts", 0)}
        return page

    monkeypatch.setattr(services, "search", estimated)
    html = web.get("/search?q=sunscreen").get_data(as_text=True)
    tabs = re.search(r'<nav class="feed-tabs".*?</nav>', html, re.S).group(0)
    assert re.search(r"Notes <span class=\"muted\">\d+</span>", tabs)
    assert not re.search(r'Products\s*<span class="muted">0</span>', tabs) and "About" in html
