"""With REDIS_URL set, rate limits are counted in Redis, so every worker and host shares them."""
import os
import uuid

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD, Client, make_config, redis_or_skip

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client():
    client = redis_or_skip(REDIS_URL)
    yield client
    client.close()


def test_login_limit_is_shared_through_redis(tmp_path, redis_client):
    prefix = f"tm-test-{uuid.uuid4().hex[:8]}"
    apps = []
    for _ in range(2):  # two "workers" with their own memory but one Redis
        config = make_config(f"sqlite:///{tmp_path / 'shared.db'}", tmp_path / "media")
        config.RATELIMIT_STORAGE_URI = REDIS_URL
        config.RATELIMIT_KEY_PREFIX = prefix
        apps.append(create_app(config))
    with apps[0].app_context():
        db.create_all()
    from app.accounts.services import register_user

    with apps[0].app_context():
        register_user("ann", "ann@example.com", DEFAULT_PASSWORD)
    statuses = []
    for attempt in range(12):
        app = apps[attempt % 2]
        app.test_client_class = Client
        client = app.test_client()
        statuses.append(client.post_form("/login", {"login": "ann", "password": "Wrong-pass-123"}).status_code)
    assert statuses[:10] == [422] * 10 and statuses[-1] == 429
    keys = redis_client.keys(f"*{prefix}*")
    assert keys, "no rate-limit counters were written to Redis"
    redis_client.delete(*keys)
