"""On a seeded demo the trained model must beat most-popular and the social-popularity blend on the demo's own
newest days (or it does not serve), its "because you liked" reasons name a related note, the nightly job does not
retrain right after the seed, and seed-demo reports its stages with counts."""
from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import frozen_at, now
from app.demo import progress
from app.demo.community_seed import CoverDrawing  # the real one: the demo fixture swaps it for _NoCovers
from app.demo.taste import subject_of
from app.extensions import db
from app.feeds import training
from app.feeds.models import Recommendation, RecommenderModel
from app.posts.models import Post
from tests.conftest import make_config


class _NoCovers:
    def __init__(self, jobs):
        pass

    def wait(self) -> int:
        return 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo on SQLite, without drawing pictures or indexing (they do not bear on the model)."""
    folder = tmp_path_factory.mktemp("demo-recommender")
    patch = pytest.MonkeyPatch()
    patch.setattr("app.demo.community_seed.CoverDrawing", _NoCovers)
    patch.setattr("app.search.indexing.rebuild_index", lambda: 0)
    app = create_app(make_config(f"sqlite:///{folder / 'demo.db'}", folder / "media"))
    app.config["INSTANCE_DIR"] = folder
    with app.app_context():
        db.create_all()
        from app.demo.seed import seed_demo

        report = seed_demo(users=120, posts=800, products=24, orders=16, seed=2026)
        yield app, report
        db.session.remove()
    patch.undo()


def test_the_demo_model_beats_popular_and_the_blend_on_the_newest_days_and_serves(demo):
    app, report = demo
    with app.app_context():
        live = training.active_model()
        assert live is not None, report.model
        metrics = live.metrics
        assert metrics["ndcg20"] > metrics["popular_ndcg20"] and metrics["ndcg20"] > metrics["blend_ndcg20"]
        assert "beats most-popular" in metrics["verdict"]


def test_because_you_liked_reasons_name_a_note_of_the_same_community_mostly_on_the_same_subject(demo):
    app, _report = demo
    with app.app_context():
        vertical = {c.id: c.vertical for c in db.session.scalars(select(Community))}
        posts = {p.id: p for p in db.session.scalars(select(Post))}
        reader = db.session.scalar(select(User.id).where(User.username_key == "reader"))
        anchored = Counter()
        for rec in db.session.scalars(select(Recommendation)):
            if rec.reason["code"] not in ("because_you_liked", "similar_content"):
                continue
            if "item_id" not in rec.reason["params"]:
                continue  # "because of notes you liked": names none
            anchor, post = posts[int(rec.reason["params"]["item_id"])], posts[rec.post_id]
            assert anchor.community_id == post.community_id, (anchor.title, post.title)
            same = subject_of(anchor.title, vertical[anchor.community_id]) == \
                subject_of(post.title, vertical[post.community_id])
            anchored["all"] += 1
            anchored["same subject"] += same
            anchored["reader"] += rec.user_id == reader
        assert anchored["reader"] >= 5
        assert anchored["same subject"] > 0.4 * anchored["all"]


def test_the_nightly_job_does_not_retrain_right_after_the_seed(demo, monkeypatch):
    app, _report = demo
    with app.app_context():
        calls = []
        monkeypatch.setattr(training, "train_and_publish", lambda **kw: calls.append(1) or training.TrainingReport())
        assert training.train_nightly().startswith("skipped") and not calls
        newest = db.session.scalar(select(RecommenderModel.created_at).order_by(RecommenderModel.created_at.desc()))
        with frozen_at(newest + timedelta(minutes=30)):
            assert training.train_nightly().startswith("skipped")
        with frozen_at(now() + timedelta(hours=training.RETRAIN_COOLDOWN_HOURS, minutes=1)):
            training.train_nightly()
        assert calls == [1]


def test_the_seed_reports_each_stage_with_its_time(demo):
    _app, report = demo
    assert {"people", "notes", "likes, saves, events", "orders", "recommender"} <= set(report.timings)
    assert all(seconds >= 0 for seconds in report.timings.values())


def test_progress_draws_a_bar_with_counts_on_a_terminal_and_a_line_per_stage_otherwise():
    terminal = io.StringIO()
    with progress.reporting(progress.ConsoleReporter(terminal, tty=True)):
        with progress.stage("notes", 40) as step:
            for _ in range(40):
                step.advance()
    assert "notes" in terminal.getvalue() and "40/40" in terminal.getvalue()
    log = io.StringIO()
    reporter = progress.ConsoleReporter(log, tty=False)
    with progress.reporting(reporter):
        with progress.stage("orders", 3) as step:
            step.advance(2)
        handle = progress.start("search index")
        handle.finish(17)
        with progress.stage("moderation"):
            pass
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("orders: 2/3 in ") and lines[1].startswith("search index: 17 in ")
    assert lines[2].startswith("moderation in ")
    assert set(reporter.timings) == {"orders", "search index", "moderation"}
    # Outside a command nothing is shown.
    with progress.stage("quiet", 2) as step:
        step.advance(2)


@pytest.mark.parametrize("chunk", [8, 1])  # one chunk drawn in this process; several in worker processes
def test_covers_are_drawn_once_per_title_and_every_note_gets_its_own_files(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(CoverDrawing, "CHUNK", chunk)
    jobs = [(title, "outdoor", 7 + k, str(tmp_path), f"posts/{k}.webp", f"posts/thumbs/{k}.webp")
            for k, title in enumerate(["A weekend with my tent", "A weekend with my tent", "Headlamp picks"])]
    assert CoverDrawing(jobs).wait() == 2
    for _title, _vertical, _seed, _root, display, thumb in jobs:
        assert (tmp_path / display).stat().st_size > 0 and (tmp_path / thumb).stat().st_size > 0
    assert (tmp_path / "posts/0.webp").read_bytes() == (tmp_path / "posts/1.webp").read_bytes()
    assert (tmp_path / "posts/0.webp").read_bytes() != (tmp_path / "posts/2.webp").read_bytes()
