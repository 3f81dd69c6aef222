"""`flask seed-demo`."""
import click
from flask.cli import with_appcontext

from app.demo.progress import ConsoleReporter
from app.demo.seed import DEMO_PASSWORD, database_is_empty
from app.demo.seed import seed_demo as run_seed

# Stages that do not run inside another (their times add up to the whole seed's; "note covers" is the wait for
# the covers still being drawn when everything else is done).
TOP_LEVEL = ("people", "communities, follows", "notes", "likes, saves, events", "shops, catalog",
             "orders", "group-buys", "commissions", "moderation", "after-sales", "recommender", "search index",
             "note covers")


@click.command("seed-demo")
@click.option("--users", default=300, show_default=True, type=click.IntRange(0, 100_000),
              help="How many random demo people to create.")
@click.option("--posts", default=3000, show_default=True, type=click.IntRange(0, 1_000_000),
              help="How many notes and reviews to create on a site that has none.")
@click.option("--products", default=200, show_default=True, type=click.IntRange(0, 5_000),
              help="How many products the demo shops sell (on a site without shops).")
@click.option("--orders", default=260, show_default=True, type=click.IntRange(0, 100_000),
              help="About how many past checkouts to play through the shop services, in every order state.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing unless the database has no users (used by make run).")
@with_appcontext
def seed_demo(users: int, posts: int, products: int, orders: int, seed: int, if_empty: bool):
    """Fill the database with realistic bilingual demo data (idempotent)."""
    if if_empty and not database_is_empty():
        click.echo("Database already has data; not seeding.")
        return
    # Each stage shows a progress bar with counts on a terminal, one line as it finishes otherwise.
    report = run_seed(users=users, seed=seed, posts=posts, products=products, orders=orders,
                      reporter=ConsoleReporter())
    click.echo(f"Created {len(report.created)} users.")
    if report.content:
        click.echo("Created " + ", ".join(f"{count} {name}" for name, count in report.content.items()) + ".")
    if report.storefront:
        click.echo("Storefront: " + ", ".join(f"{count} {name}" for name, count in report.storefront.items()) + ".")
    if report.moderation:
        click.echo("Moderation: " + ", ".join(f"{count} {name}" for name, count in report.moderation.items()) + ".")
    if report.model:
        click.echo(f"Recommender: {report.model}")
    if report.search_documents is not None:
        click.echo(f"Search index: {report.search_documents} documents.")
    if report.timings:
        click.echo(f"Seeded in {sum(report.timings[label] for label in TOP_LEVEL if label in report.timings):.0f}s "
                   f"({', '.join(f'{label} {seconds:.1f}s' for label, seconds in report.timings.items())}).")
    click.echo(f"Demo accounts (password '{DEMO_PASSWORD}'): {', '.join(report.named)}")
