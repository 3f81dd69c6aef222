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
@click.option("--force", is_flag=True, help="Switch to the new version whatever it scores on the holdout.")
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--no-evaluate", is_flag=True,
              help="Skip the holdout evaluation (faster; switches only when no model serves yet).")
def train(force: bool, seed: int, no_evaluate: bool):
    """Train on the database, evaluate on the newest days; switch only if it beats most-popular and the blend."""
    report = train_and_publish(force=force, seed=seed, evaluate=not no_evaluate)
    click.echo(report.summary())


@recommender_cli.command("status")
def status():
    """Say what For you serves and why, then list the trained versions, newest first."""
    models = list(db.session.scalars(select(RecommenderModel).order_by(RecommenderModel.created_at.desc())))
    click.echo(live_summary(models))
    for model in models:
        marker = "*" if model.is_active else " "
        metrics = model.metrics or {}
        figures = ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if isinstance(v, int | float))
        kept = "" if model.path else "  (not kept)"
        click.echo(f"{marker} {model.version}  users={model.n_users} items={model.n_items} "
                   f"interactions={model.n_interactions} train={model.train_seconds:.1f}s  {figures}{kept}")
        if metrics.get("verdict"):
            click.echo(f"      {metrics['verdict']}")


def live_summary(models: list[RecommenderModel]) -> str:
    """One or two lines: which ranking serves For you, and why."""
    active = next((model for model in models if model.is_active), None)
    if active is not None:
        why = (active.metrics or {}).get("verdict") or "activated before verdicts were recorded"
        return f"Live: model {active.version} ({why})."
    if not models:
        return ("Live: the social-popularity blend (no model yet: run `flask recommender train`).")
    newest = models[0]
    why = (newest.metrics or {}).get("verdict") or "not activated"
    return (f"Live: the social-popularity blend (popular notes plus what the people you follow engaged with), "
            f"because no model has beaten it; the newest candidate, {newest.version}: {why}.")
