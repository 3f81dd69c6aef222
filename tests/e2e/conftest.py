"""Browser tests: the real app served on a local port, driven by Playwright in Debian's chromium."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import make_config, skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_app(tmp_path):
    """The app behind `live_server`, for tests that set up data through services first."""
    app = create_app(make_config(f"sqlite:///{tmp_path / 'e2e.db'}", tmp_path / "media"))
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def live_server(live_app):
    """Serve a fresh app (SQLite file database) on 127.0.0.1 in a background thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def screenshot_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


class Clock:
    """The app's one clock (app.core.clock), set and moved by a browser test: the live server runs in this
    process, so pages, services and jobs all read the same `now()` — no sleeping."""

    def __init__(self, start):
        self.moment = start

    def set(self, moment):
        from app.core import clock
        self.moment = moment
        clock._frozen = moment

    def advance(self, **delta):
        from datetime import timedelta
        self.set(self.moment + timedelta(**delta))


@pytest.fixture
def clock():
    """A controllable clock starting at the real current time; restored after the test."""
    from app.core import clock as app_clock
    previous = app_clock._frozen
    controlled = Clock(app_clock.now())
    controlled.set(controlled.moment)
    yield controlled
    app_clock._frozen = previous
