"""What every command shares: the database, the console, the clock, issue reports."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ..errors import RecordIssue
    from ..storage.core_reads import PlainConnection

    console: Console
    err_console: Console


def __getattr__(name: str):
    """``console`` and ``err_console`` (Rich) are made on first use: a command's ``--help`` needs
    neither (issue #18)."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    made = Console(stderr=name == "err_console", soft_wrap=True)
    globals()[name] = made
    return made


def _console(err: bool) -> Console:
    """``err_console`` or ``console``, made now if this is its first use."""
    name = "err_console" if err else "console"
    return globals().get(name) or __getattr__(name)


DatabaseOption = typer.Option(
    None, "--database-url", envvar="SPACECOMMONS_DATABASE_URL", help="SQLAlchemy URL; default sqlite:///spacecommons.db"
)


def say(text: str, *, err: bool = False, style: str | None = None, label: str = "", label_style: str = "") -> None:
    """Print user or data text literally: no rich markup (``[m/s]`` in a CDM warning stays) and
    no highlighting. ``label`` (e.g. ``warning``) is printed first in ``label_style``."""
    from rich.text import Text

    out = Text()
    if label:
        out.append(label, style=label_style)
        out.append(" ")
    out.append(str(text), style=style)
    _console(err).print(out, highlight=False)


def utc_now() -> datetime:
    """The wall clock, read at the edge: only the interfaces read it; workflows and the core are given it."""
    return datetime.now(UTC)


DEFAULT_DATABASE_URL = "sqlite:///spacecommons.db"  # config.Settings' default (tests/test_cli_startup.py checks)


def database_url(url: str | None) -> str:
    """``url``, else the settings' ``database_url``. Without any ``SPACECOMMONS_DATABASE_URL``
    variable (pydantic-settings matches its name in any case) that is the default, known here
    without importing pydantic (issue #18: a light command starts without it)."""
    if url:
        return url
    if any(k.upper() == "SPACECOMMONS_DATABASE_URL" for k in os.environ):
        from ..config import Settings

        return Settings().database_url
    return DEFAULT_DATABASE_URL


def open_engine(url: str | None):
    """An engine on an up-to-date schema (migrations run on open), for reads in SQLAlchemy Core:
    no ORM imported (:func:`open_db` adds the session factory)."""
    from ..storage import make_engine, upgrade

    engine = make_engine(database_url(url))
    upgrade(engine)
    return engine


@contextmanager
def plain_reads(url: str | None) -> Iterator[PlainConnection]:
    """A DB-API connection for ``storage.core_reads``' SQL, on an up-to-date schema, for the light
    commands (issue #18, target 4). A database at the head revision, named by a plain SQLite or
    ``postgresql+psycopg`` URL, is read without SQLAlchemy; anything else (a new file, an older
    schema, another URL form, an unreachable server) takes the full path: :func:`open_engine`
    (migrations, SQLAlchemy's errors as before), and the same SQL on that engine's connection."""
    from ..storage.core_reads import PlainConnection, connect_at_head

    url = database_url(url)
    conn = connect_at_head(url)
    if conn is not None:
        try:
            yield conn
        finally:
            conn.close()
        return
    engine = open_engine(url)
    raw = engine.raw_connection()
    try:
        yield PlainConnection(raw.driver_connection, "sqlite" if engine.dialect.name == "sqlite" else "postgresql")
    finally:
        raw.close()
        engine.dispose()


def open_db(url: str | None):
    """Engine + session factory on an up-to-date schema (migrations run on open)."""
    from ..storage import session_factory

    engine = open_engine(url)
    return engine, session_factory(engine)


def report_issues(issues: Iterable[RecordIssue], limit: int = 50) -> int:
    issues = list(issues)
    for issue in issues[:limit]:
        say(str(issue), err=True, label="rejected", label_style="yellow")
    if len(issues) > limit:
        say(f"... and {len(issues) - limit} more rejected records", err=True)
    return len(issues)


def parse_ids(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated catalog numbers, got {text!r}") from exc


def read_element_files(paths) -> list:
    """Element sets of the given files, newest per object; every rejected record and every
    superseded duplicate is reported (file, line, reason)."""
    from ..catalog import latest_per_object, read_elements

    records = []
    for path in paths:
        parsed = read_elements(path)
        report_issues(parsed.issues)
        records.extend(parsed.records)
    records, dupes = latest_per_object(records)
    report_issues(dupes)
    return records


def check_out(path: Path | None, allowed: Iterable[str], option: str = "--out") -> str | None:
    """The output format of ``path`` by its extension (``"csv"``, ``"json"``...), checked before
    any work is done: a :class:`typer.BadParameter` naming the option and the accepted extensions
    when the extension is not one of ``allowed``. ``None`` for no path."""
    if path is None:
        return None
    allowed = tuple(allowed)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in allowed:
        accepted = ", ".join(f".{a}" for a in allowed)
        raise typer.BadParameter(
            f"{path}: cannot write {path.suffix or 'a file without extension'}; use {accepted}", param_hint=option
        )
    return fmt


def require_positive(value: float | None, option: str, *, allow_zero: bool = False) -> None:
    """A :class:`typer.BadParameter` naming ``option`` unless ``value`` is > 0 (>= 0 with ``allow_zero``)."""
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise typer.BadParameter(f"{value:g}: must be {'>= 0' if allow_zero else '> 0'}", param_hint=option)


def require_run(session_maker, run_id: int, option: str = "RUN_ID") -> None:
    """A :class:`typer.BadParameter` naming ``option`` when there is no stored screening run ``run_id``."""
    from ..storage.tables import ScreeningRun

    with session_maker() as session:
        if session.get(ScreeningRun, run_id) is None:
            raise typer.BadParameter(f"no screening run {run_id} (see `spacecommons runs list`)", param_hint=option)
