"""Upload limits as a client meets them: the pixel budget (422), busy image workers (503) and the
per-account upload rate limit (429), over the pages and the API alike."""
from __future__ import annotations

import io

from app.core import images
from app.posts.models import Post
from tests.posts.conftest import image_bytes
from tests.posts.test_api import PROBLEM, count, create, files, make_community, stored_media, token
from tests.posts.test_views import new_post_form
from tests.social.conftest import sign_in


def test_a_request_over_the_pixel_budget_is_a_422_that_names_the_limit(client, app):
    app.config["UPLOAD_PIXEL_BUDGET_MP"] = 2
    make_community(app)
    ann = token(app, "ann")
    over = files(*[(image_bytes((1000, 1000)), f"{n}.png") for n in range(3)])  # 3 MP in all
    response = create(client, ann, images=over)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    message = ("Together these images have too many pixels (3 megapixels; at most 2 in one upload). "
               "Send fewer or smaller images.")
    assert response.json["errors"] == {"images": [message]}
    assert count(app, Post) == 0 and stored_media(app) == []
    zh = create(client, {**ann, "Accept-Language": "zh-Hans"}, images=files((image_bytes((2000, 1500)), "a.png")))
    assert zh.status_code == 422 and "一次上传最多 2" in zh.json["errors"]["images"][0]
    sign_in(client, "ann")
    page = new_post_form(client, images=[(io.BytesIO(image_bytes((1000, 1000))), f"{n}.png") for n in range(3)])
    assert page.status_code == 422 and "at most 2 in one upload" in page.get_data(as_text=True)
    assert count(app, Post) == 0


def test_when_every_image_worker_is_busy_the_upload_is_a_503_to_retry(client, app):
    app.config.update(IMAGE_WORKERS=1, IMAGE_WORK_TIMEOUT=0.05)
    make_community(app)
    ann = token(app, "ann")
    slots = images.image_workers(app)
    assert slots.acquire(timeout=1)
    try:
        response = create(client, ann)
        assert response.status_code == 503 and response.mimetype == PROBLEM
        assert int(response.headers["Retry-After"]) >= 1  # flask-limiter may raise it to its window's reset
        assert response.json["type"] == "urn:tastemaker:problem:busy"
        assert response.json["detail"] == "Too many images are being processed right now. Try again in a minute."
        sign_in(client, "ann")
        page = new_post_form(client)
        assert page.status_code == 503 and "Try again in a minute" in page.get_data(as_text=True)
        assert count(app, Post) == 0
    finally:
        slots.release()
    assert create(client, ann).status_code == 201


def test_uploads_are_rate_limited_per_account_across_every_upload_route(client, app):
    app.config["UPLOAD_RATE_LIMIT"] = "2/hour"
    make_community(app)
    ann, bob = token(app, "ann"), token(app, "bob")
    assert [create(client, ann).status_code for _ in range(2)] == [201, 201]
    refused = create(client, ann)
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    assert refused.json["detail"] == ("You have uploaded images too often (at most 2 in 60 minutes per account). "
                                      "Try again later.")
    assert count(app, Post) == 2
    assert create(client, bob).status_code == 201  # another account has its own budget
    sign_in(client, "ann")
    avatar = client.post_form("/settings", {"display_name": "Ann", "bio": "", "locale": "en",
                                            "avatar": (io.BytesIO(image_bytes((300, 300))), "me.png")},
                              content_type="multipart/form-data")
    assert avatar.status_code == 429 and "at most 2 in 60 minutes" in avatar.get_data(as_text=True)
    # Requests without a file are not uploads: editing the profile still works.
    profile = client.post_form("/settings", {"display_name": "Ann", "bio": "", "locale": "en"})
    assert profile.status_code == 302
