"""``spacecommons catalog``: load element sets and object sizes, show history, fetch live."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from .common import DatabaseOption, open_db, plain_reads, report_issues, say, utc_now
from .listing import Column, CsvOption, JsonOption, check_formats, emit

app = typer.Typer(help="Element sets: load files, object sizes, history, live fetch.", no_args_is_help=True)

REJECTED_EXIT = 3


def load_files(
    paths: list[Path], session_maker, loaded_at: str | datetime, verify_checksum: bool = True
) -> tuple[int, int, int]:
    """Load each file in its own transaction, as authoritative element sets (the node's operator
    chose the files); returns (added, unchanged, rejected). Records with an epoch more than 3 days
    after ``loaded_at`` or control characters in a text field are rejected, naming file, line and
    field; the rest of the file lands (``catalog.trust.vet_element_sets``). ``verify_checksum=False``
    accepts TLE lines with a wrong checksum."""
    from ..catalog import read_elements
    from ..catalog.trust import vet_element_sets
    from ..storage.catalog_repo import store_elements

    now = loaded_at if isinstance(loaded_at, datetime) else datetime.fromisoformat(loaded_at)
    added = unchanged = rejected = 0
    for path in paths:
        parsed = read_elements(path, verify_checksum=verify_checksum)
        records, refused = vet_element_sets(parsed.records, now)
        issues = [*parsed.issues, *refused]
        rejected += report_issues(issues)
        with session_maker.begin() as session:
            counts = store_elements(session, records, now)
        added += counts.added
        unchanged += counts.unchanged
        say(
            f"{path}: {len(parsed.records)} element sets read, {counts.added} new, "
            f"{counts.unchanged} already stored, {len(issues)} rejected"
        )
    return added, unchanged, rejected


@app.command("load")
def load(
    files: list[Path] = typer.Argument(..., help="TLE/3LE or OMM (KVN, XML, JSON, CSV) files"),
    verify_checksum: bool = typer.Option(
        True, "--verify-checksum/--no-verify-checksum", help="reject TLE lines whose column-69 checksum is wrong"
    ),
    database_url: str = DatabaseOption,
) -> None:
    """Store element sets with their history; loading the same file twice changes nothing.

    Bad records are reported (file:line: field: reason) and every good record still lands;
    the exit code is 3 when any record was rejected.
    """
    _, session_maker = open_db(database_url)
    added, unchanged, rejected = load_files(files, session_maker, utc_now(), verify_checksum)
    say(f"{added} new element sets, {unchanged} unchanged, {rejected} rejected")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


@app.command("sizes")
def sizes(
    file: Path = typer.Argument(..., help="NASA CARA HBR_Mass_Estimates_*.csv"),
    database_url: str = DatabaseOption,
) -> None:
    """Attach NASA CARA hard-body radius and mass estimates to the stored objects."""
    from ..catalog import read_cara_sizes
    from ..storage.catalog_repo import store_sizes

    table, issues = read_cara_sizes(file.read_text(), str(file))
    report_issues(issues)
    _, session_maker = open_db(database_url)
    with session_maker.begin() as session:
        n = store_sizes(session, table)
    say(f"{len(table)} size rows read; {n} stored objects updated")


HISTORY_COLUMNS = (
    Column("epoch", "epoch (UTC)", keep=True),
    Column("format", "format", keep=True, drop=1),
    Column("source", "source", drop=2),
    Column("line", "line", keep=True, drop=3),
)


@app.command("history")
def history(
    norad_id: int, as_json: bool = JsonOption, as_csv: bool = CsvOption, database_url: str = DatabaseOption
) -> None:
    """Every stored element set of one object, oldest first."""
    from ..errors import SpacecommonsError
    from ..storage.core_reads import element_history

    check_formats(as_json, as_csv)
    with plain_reads(database_url) as conn:  # plain SQL, no SQLAlchemy: a light command (issue #18)
        name, sets = element_history(conn, norad_id)
    if not sets:
        raise SpacecommonsError(f"object {norad_id} is not in the catalog")  # exit 1, as before
    rows = [{"norad_id": norad_id, "name": name, **s} for s in sets]
    emit(rows, HISTORY_COLUMNS, title=f"{norad_id} {name}", as_json=as_json, as_csv=as_csv)


@app.command("fetch")
def fetch(
    source: str = typer.Argument(..., help="celestrak or spacetrack"),
    group: str = typer.Option(None, help="CelesTrak GROUP, e.g. stations, active, cosmos-1408-debris"),
    catnr: str = typer.Option(None, help="comma-separated catalog numbers"),
    fmt: str = typer.Option("json", "--format", help="json, xml, kvn, csv or 3le"),
    base_url: str = typer.Option(None, help="server base URL (tests point this at a local fake)"),
    database_url: str = DatabaseOption,
) -> None:
    """Fetch current element sets (rate-limited, cached) and store them like a file load."""
    from ..catalog import read_elements
    from ..catalog.trust import vet_element_sets
    from ..clients import ClientError
    from ..storage.catalog_repo import store_elements

    if source not in ("celestrak", "spacetrack"):
        raise typer.BadParameter(f"{source!r}: celestrak or spacetrack", param_hint="SOURCE")
    if source == "celestrak" and not group and not catnr:
        raise typer.BadParameter("give --group GROUP or --catnr N[,N...]", param_hint="--group")
    try:
        bodies, name = _fetch(source, group, catnr, fmt, base_url)
    except ClientError as exc:
        say(str(exc), err=True, label="fetch failed:", label_style="red")
        raise typer.Exit(1) from None
    _, session_maker = open_db(database_url)
    added = rejected = 0
    for body in bodies:
        parsed = read_elements(name, body)
        now = utc_now()  # the wall clock, read at the edge
        records, refused = vet_element_sets(parsed.records, now)
        rejected += report_issues([*parsed.issues, *refused])
        with session_maker.begin() as session:
            added += store_elements(session, records, now).added
    say(f"{name}: {added} new element sets, {rejected} rejected")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


def _fetch(source: str, group: str | None, catnr: str | None, fmt: str, base_url: str | None):
    from ..clients import CelesTrakClient, FileCache, SpaceTrackClient
    from ..config import Settings

    settings = Settings()
    ids = [int(x) for x in catnr.split(",")] if catnr else []
    if source == "celestrak":
        client = CelesTrakClient(
            base_url or "https://celestrak.org", cache=FileCache(Path(settings.cache_dir) / "celestrak", 7200.0)
        )
        bodies = [client.gp("GROUP", group, fmt)] if group else [client.gp("CATNR", i, fmt) for i in ids]
        name = f"celestrak:{group or catnr}"
    elif source == "spacetrack":
        client = SpaceTrackClient(
            settings.space_track_user,
            settings.space_track_password,
            base_url or "https://www.space-track.org",
            cache=FileCache(Path(settings.cache_dir) / "spacetrack", 3600.0),
        )
        bodies = [client.gp(ids or None, fmt)]
        name = f"spacetrack:{catnr or 'catalog'}"
    else:
        raise typer.BadParameter("source must be celestrak or spacetrack")
    client.close()
    return bodies, name
