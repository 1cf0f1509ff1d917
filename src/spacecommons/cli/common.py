"""What every command shares: the database, the console, the clock, issue reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import typer
from rich.console import Console

from ..errors import RecordIssue

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DatabaseOption = typer.Option(
    None, "--database-url", envvar="SPACECOMMONS_DATABASE_URL", help="SQLAlchemy URL; default sqlite:///spacecommons.db"
)


def utc_now() -> datetime:
    """The wall clock, read at the edge: only the interfaces read it; workflows and the core are given it."""
    return datetime.now(UTC)


def now_iso() -> str:
    """``utc_now()`` as the stored timestamp text."""
    return utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def open_db(url: str | None):
    """Engine + session factory on an up-to-date schema (migrations run on open)."""
    from ..config import Settings
    from ..storage import make_engine, session_factory, upgrade

    engine = make_engine(url or Settings().database_url)
    upgrade(engine)
    return engine, session_factory(engine)


def report_issues(issues: Iterable[RecordIssue], limit: int = 50) -> int:
    issues = list(issues)
    for issue in issues[:limit]:
        err_console.print(f"[yellow]rejected[/] {issue}", markup=True, highlight=False)
    if len(issues) > limit:
        err_console.print(f"... and {len(issues) - limit} more rejected records")
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
