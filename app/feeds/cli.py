"""`flask recommender train` and `flask recommender status`."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.feeds.models import RecommenderModel
from app.feeds.training import train_and_publish

recommender_cli = AppGroup("recommender", help="Train and inspect the For-you recommender.")


@recommender_cli.command("train")
@click.option("--force", is_flag=True, help="Switch to the new version even if it scores worse on the holdout.")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--no-evaluate", is_flag=True, help="Skip the holdout evaluation (faster; the version always switches).")
def train(force: bool, seed: int, no_evaluate: bool):
    """Train on the database, evaluate on the last days of the event log, switch if not worse."""
    report = train_and_publish(force=force, seed=seed, evaluate=not no_evaluate)
    click.echo(report.summary())


@recommender_cli.command("status")
def status():
    """List the trained versions, newest first, and which one serves."""
    models = list(db.session.scalars(select(RecommenderModel).order_by(RecommenderModel.created_at.desc())))
    if not models:
        click.echo("No model yet: run `flask recommender train`.")
    for model in models:
        marker = "*" if model.is_active else " "
        metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted((model.metrics or {}).items()))
        click.echo(f"{marker} {model.version}  users={model.n_users} items={model.n_items} "
                   f"interactions={model.n_interactions} train={model.train_seconds:.1f}s  {metrics}")
