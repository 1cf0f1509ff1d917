"""``spacecommons neo observations``: load astrometry (MPC 80-column, ADES, JPL radar) and list it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import DatabaseOption, open_db, report_issues, say, utc_now

app = typer.Typer(help="Astrometry: load optical and radar observations, list them per object.", no_args_is_help=True)

REJECTED_EXIT = 3


def _default_submitter() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


@app.command("load")
def load(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="MPC 80-column, ADES (PSV or XML) or JPL radar astrometry files"
    ),
    submitter: str | None = typer.Option(None, "--submitter", help="who submits (default cli:<user name>)"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Store observations with their provenance (file, line, SHA-256 of the file, submitter); good
    records land, bad ones are reported (file:line: field: reason), one line per file."""
    from ..workflows.observations import ingest_observations

    who = submitter or _default_submitter()
    _, session_maker = open_db(database_url)
    added = unchanged = rejected = 0
    for f in files:
        with session_maker.begin() as session:
            result = ingest_observations(session, f.read_bytes(), f.name, submitter=who, loaded_at=utc_now())
        rejected += report_issues(result.issues)
        added += result.counts.added
        unchanged += result.counts.unchanged
        say(
            f"{f}: {result.format}, {result.n_optical} optical and {result.n_radar} radar observations read, "
            f"{result.counts.added} new, {result.counts.unchanged} already stored, {len(result.issues)} rejected"
        )
    say(f"{added} observations added, {unchanged} already stored, {rejected} rejected")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


@app.command("list")
def list_observations(
    designation: str = typer.Argument(..., help="unpacked designation, e.g. 99942 or '2008 TC3'"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per observation"),
    database_url: str | None = DatabaseOption,
) -> None:
    """The stored observations of one object, oldest first (the node operator sees all of them)."""
    from ..storage.observations_repo import observation_from_row, stored_observations
    from ..timescales import jd_to_iso

    _, session_maker = open_db(database_url)
    with session_maker() as session:
        rows = stored_observations(session, designation)
        for row in rows:
            obs = observation_from_row(row)
            jd = int(row.epoch_utc_jd - 0.5) + 0.5
            when = jd_to_iso(jd, row.epoch_utc_jd - jd, 3)
            if as_json:
                say(json.dumps({"kind": row.kind, "epoch_utc": when, "submitter": row.submitter, **_plain(obs)}))
            elif row.kind == "optical":
                say(f"{when}  {obs.station}  RA {obs.ra_deg:11.6f}  Dec {obs.dec_deg:+10.6f}  {obs.source}")
            else:
                say(f"{when}  {obs.receiver}  {row.kind} {obs.value:.9g} ± {obs.sigma:.3g}  {obs.source}")
    if not rows:
        say(f"no observations of {designation!r} stored", err=True)


def _plain(obs) -> dict:
    import dataclasses

    return dataclasses.asdict(obs)
