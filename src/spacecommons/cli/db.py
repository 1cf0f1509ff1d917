"""``spacecommons db``: schema migrations."""

from __future__ import annotations

import typer

from .common import DatabaseOption, console, open_db

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(database_url: str = DatabaseOption) -> None:
    """Apply every Alembic migration (also done automatically when a command opens the database)."""
    engine, _ = open_db(database_url)
    console.print(f"schema up to date at {engine.url.render_as_string(hide_password=True)}")
