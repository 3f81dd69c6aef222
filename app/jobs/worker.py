"""What an RQ worker runs: a job inside a fresh app context."""
from __future__ import annotations


def run_in_app(path: str, kwargs: dict):
    from app import create_app
    from app.jobs.runner import run_job

    app = create_app()
    with app.app_context():
        return run_job(path, **kwargs)
