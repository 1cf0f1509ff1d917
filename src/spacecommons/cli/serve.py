"""``spacecommons serve`` and ``spacecommons partner``: the service and its bootstrapping."""

from __future__ import annotations

import typer

from .common import DatabaseOption, open_db, say, utc_now
from .listing import Column, CsvOption, JsonOption, check_formats, emit

# partners_repo.ROLES, written out so that `--help` does not import SQLAlchemy (tests/test_cli_startup.py
# checks they agree)
ROLES = ("admin", "operator", "analyst", "observer")

partner_app = typer.Typer(
    help="Partners, members and API keys (bootstrapping; the API does the same).", no_args_is_help=True
)


def serve_command(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(
        1, min=1, max=64, help="server processes (each with its own job queue); more than 1 runs the app factory"
    ),
    access_log: bool = typer.Option(
        True, help="one log line per request on stdout (turn off behind a proxy that logs requests)"
    ),
    database_url: str | None = DatabaseOption,
) -> None:
    """The REST API (/api/v1, OpenAPI at /docs) and the dashboard (/), on SQLite or PostgreSQL.
    Rate limits per key: SPACECOMMONS_RATE_LIMIT_PER_SECOND and SPACECOMMONS_RATE_LIMIT_BURST.

    Uses uvloop and httptools (uvicorn's C event loop and HTTP parser) where they are installed."""
    import os

    import uvicorn

    from ..config import Settings
    from ..service import create_app

    url = database_url or Settings().database_url
    say(f"spacecommons on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if workers == 1:
        uvicorn.run(create_app(url), host=host, port=port, log_level="info", access_log=access_log)
        return
    create_app(url)  # migrations once, here, before the workers start
    os.environ["SPACECOMMONS_DATABASE_URL"] = url  # the workers read their settings from the environment
    uvicorn.run(
        "spacecommons.service.app:app_from_settings",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
    )


@partner_app.command("create")
def create(name: str, database_url: str | None = DatabaseOption) -> None:
    """Register a partner."""
    from ..storage import partners_repo

    _, maker = open_db(database_url)
    with maker.begin() as session:
        try:
            p = partners_repo.create_partner(session, name, utc_now())
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        say(f"partner {p.id}: {p.name}")


PARTNER_COLUMNS = (
    Column("partner_id", "id", keep=True),
    Column("partner", "partner"),
    Column("member", "member"),
    Column("role", "role", keep=True),
    Column("active_keys", "active keys (prefix)", show=lambda keys: " ".join(keys or [])),
    Column("created_at", "partner since (UTC)", keep=True, drop=1, show=lambda t: format_utc(t, 0)),
)


def format_utc(t, digits: int) -> str:
    from ..timescales import format_utc as fmt

    return fmt(t, digits)


@partner_app.command("list")
def list_partners(
    as_json: bool = JsonOption, as_csv: bool = CsvOption, database_url: str | None = DatabaseOption
) -> None:
    """Partners, their members and roles, and the prefixes of their active API keys."""
    from ..storage import partners_repo

    check_formats(as_json, as_csv)
    _, maker = open_db(database_url)
    with maker() as session:
        rows = partners_repo.partner_members(session)
    emit(rows, PARTNER_COLUMNS, title="partners", as_json=as_json, as_csv=as_csv)


@partner_app.command("add-key")
def add_key(
    partner: str,
    member: str = typer.Option(..., help="member name (created if new)"),
    role: str = typer.Option(..., help=f"one of {', '.join(ROLES)}"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Issue an API key to a member; the key is printed once and stored only as a hash."""
    from ..storage import partners_repo

    _, maker = open_db(database_url)
    with maker.begin() as session:
        try:
            m = partners_repo.add_member(session, partner, member, role, utc_now())
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        key = partners_repo.issue_key(session, m.id, utc_now())
    say(f"API key for {member} ({role}) of {partner} — store it now, it is not shown again:")
    print(key)


@partner_app.command("revoke-key")
def revoke(
    prefix: str = typer.Argument(..., help="the 8 characters after 'sc_'"), database_url: str | None = DatabaseOption
) -> None:
    """Revoke a key (a running server forgets cached keys within a minute)."""
    from ..storage import partners_repo

    _, maker = open_db(database_url)
    with maker.begin() as session:
        if not partners_repo.revoke_key(session, prefix, utc_now()):
            raise typer.BadParameter(f"no active key {prefix!r}")
    say(f"key {prefix} revoked")
