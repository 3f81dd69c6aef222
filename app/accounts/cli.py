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
