"""`flask users …` commands."""
import click
from flask.cli import AppGroup

from app.accounts import services
from app.core.errors import DomainError

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.password_option(help="Prompted for when not given.")
def create_admin(username: str, email: str, password: str):
    """Create a site administrator (or make an existing USERNAME one)."""
    try:
        try:
            user = services.get_user_by_username(username)
        except DomainError:
            user = services.register_user(username, email, password, allow_reserved=True)
        services.set_admin(user, True)
    except DomainError as exc:
        detail = "; ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message
        raise click.ClickException(detail) from None
    click.echo(f"{user.username} is now a site administrator.")


@users_cli.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="What the token is for (1–60 characters).")
@click.option("--days", type=click.IntRange(1, 366), default=None, help="Expire after this many days (default never).")
def create_token(username: str, name: str, days: int | None):
    """Create a personal access token for USERNAME and print its secret (shown only once)."""
    try:
        user = services.get_user_by_username(username)
        _token, secret = services.create_token(user, name, expires_in_days=days)
    except DomainError as exc:
        detail = "; ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message
        raise click.ClickException(detail) from None
    click.echo(secret)
