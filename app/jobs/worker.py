"""What an RQ worker runs: a job inside an app context.

`flask jobs worker` runs inside its app's context, and RQ forks a work-horse per job from it, so the horse
already holds that app, built and warmed: each job uses it instead of paying create_app() (routes, the OpenAPI
document, jieba's dictionary) again. The horse never reuses a database connection it inherited from its parent.
"""
from __future__ import annotations

from flask import current_app, has_app_context


def run_in_app(path: str, kwargs: dict):
    from app.extensions import db
    from app.jobs.runner import run_job

    if has_app_context():  # a horse forked by `flask jobs worker`
        app = current_app._get_current_object()
    else:  # any other RQ worker
        from app import create_app

        app = create_app()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # a forked horse opens its own connections, leaving the parent's alone
        try:
            return run_job(path, **kwargs)
        finally:
            db.session.remove()
