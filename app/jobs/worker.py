"""What an RQ worker runs: a job inside an app context.

`flask jobs worker` hands its app to `use_app` before it starts; RQ forks a work-horse per job, so each job
starts from that app, already built and warmed, instead of paying create_app() (routes, the OpenAPI document,
jieba's dictionary) per job. The horse never reuses a database connection it inherited from its parent.
"""
from __future__ import annotations

_APP = None


def use_app(app) -> None:
    """Run every job of this process (and of the horses it forks) in `app`."""
    global _APP
    _APP = app


def run_in_app(path: str, kwargs: dict):
    from app.extensions import db
    from app.jobs.runner import run_job

    app = _APP
    if app is None:
        from app import create_app

        app = create_app()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # a forked horse opens its own connections, leaving the parent's alone
        try:
            return run_job(path, **kwargs)
        finally:
            db.session.remove()
