"""``spacecommons db``: schema migrations."""

from __future__ import annotations

import typer

from .common import DatabaseOption, open_db, say

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(database_url: str = DatabaseOption) -> None:
    """Apply every Alembic migration (also done automatically when a command opens the database)."""
    engine, _ = open_db(database_url)
    say(f"schema up to date at {engine.url.render_as_string(hide_password=True)}")


def _sqlite_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database:
        raise typer.BadParameter(
            "db backup/restore handle SQLite files; for PostgreSQL use pg_dump/pg_restore (consistent online dumps)"
        )
    return u.database


@app.command("backup")
def backup_command(
    target: str = typer.Argument(..., help="backup file to write"), database_url: str = DatabaseOption
) -> None:
    """Consistent online backup of the SQLite database (SQLite's backup API; writers may keep going)."""
    import sqlite3

    from ..config import Settings

    source = _sqlite_path(database_url or Settings().database_url)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    say(f"backed up {source} -> {target}")


@app.command("restore")
def restore_command(
    backup: str = typer.Argument(..., help="a file written by `db backup`"), database_url: str = DatabaseOption
) -> None:
    """Replace the SQLite database by a backup (stop the server first), then migrate it."""
    import sqlite3
    from pathlib import Path

    from ..config import Settings

    url = database_url or Settings().database_url
    target = _sqlite_path(url)
    if not Path(backup).exists():
        raise typer.BadParameter(f"no backup file {backup}", param_hint="BACKUP")
    with sqlite3.connect(backup) as src:
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        except sqlite3.DatabaseError as exc:  # not a database at all
            raise typer.BadParameter(f"{backup} is not an SQLite database ({exc})", param_hint="BACKUP") from None
        if not ok:
            raise typer.BadParameter(f"{backup} fails SQLite's integrity check", param_hint="BACKUP")
        with sqlite3.connect(target) as dst:
            src.backup(dst)
    open_db(url)
    say(f"restored {backup} -> {target}")
