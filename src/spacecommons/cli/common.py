"""What every command shares: the database, the console, the clock, issue reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from ..errors import RecordIssue

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DatabaseOption = typer.Option(
    None, "--database-url", envvar="SPACECOMMONS_DATABASE_URL", help="SQLAlchemy URL; default sqlite:///spacecommons.db"
)


def say(text: str, *, err: bool = False, style: str | None = None, label: str = "", label_style: str = "") -> None:
    """Print user or data text literally: no rich markup (``[m/s]`` in a CDM warning stays) and
    no highlighting. ``label`` (e.g. ``warning``) is printed first in ``label_style``."""
    out = Text()
    if label:
        out.append(label, style=label_style)
        out.append(" ")
    out.append(str(text), style=style)
    (err_console if err else console).print(out, highlight=False)


def utc_now() -> datetime:
    """The wall clock, read at the edge: only the interfaces read it; workflows and the core are given it."""
    return datetime.now(UTC)


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
