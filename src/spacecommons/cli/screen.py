"""``spacecommons screen`` and ``spacecommons runs``: conjunction screening runs."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import (
    DatabaseOption,
    check_out,
    console,
    err_console,
    open_db,
    parse_ids,
    read_element_files,
    require_positive,
    require_run,
    say,
    utc_now,
)

runs_app = typer.Typer(help="Stored screening runs and their events.", no_args_is_help=True)


def events_table(events, limit: int = 15, title: str = "Closest approaches"):
    """A rich table of the closest events."""
    from rich.table import Table

    from ..timescales import format_utc

    t = Table(title=title)
    for col in ("tca (UTC)", "object 1", "object 2", "miss (km)", "speed (km/s)", "R / T / N (km)", "kind"):
        t.add_column(col)
    for e in sorted(events, key=lambda e: e.miss_km)[:limit]:
        t.add_row(
            e.tca if isinstance(e.tca, str) else format_utc(e.tca, 3),  # a run's text or a stored instant
            f"{e.id1} {e.name1}",
            f"{e.id2} {e.name2}",
            f"{e.miss_km:.3f}",
            f"{e.speed_km_s:.3f}",
            f"{e.r_km:.3f} / {e.t_km:.3f} / {e.n_km:.3f}",
            e.kind if e.kind in ("encounter", "co-located") else f"proximity x{e.n_minima}",
        )
    return t


def run_screening(session_maker, payload, params, *, workers, dask_address, run_id=None, completed=None):
    """Run (or resume) a stored screening run with a progress bar; returns (run id, result)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..workflows.screening import create_run
    from ..workflows.screening import run_screening as run_workflow

    if run_id is None:
        with session_maker.begin() as session:
            run_id = create_run(session, payload, params, utc_now())
    console.print(
        f"screening run [bold]{run_id}[/]: {len(payload)} objects, {params.days:g} d from "
        f"{_iso(params)}, threshold {params.threshold_km:g} km"
    )
    columns = (TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err_console, transient=False) as bar:
            task = bar.add_task("screen", total=len(params.chunks()))
            outcome = run_workflow(
                session_maker,
                payload,
                params,
                utc_now,
                run_id=run_id,
                completed=completed,
                workers=workers,
                dask_address=dask_address,
                progress=lambda done, total: bar.update(task, completed=done),
            )
    except KeyboardInterrupt:
        err_console.print(
            f"interrupted: finished chunks are stored; resume with `spacecommons screen --resume {run_id}`"
        )
        raise typer.Exit(130) from None
    return run_id, outcome.result


def _iso(params) -> str:
    from ..timescales import jd_to_iso

    return jd_to_iso(params.start_jd, params.start_fr)


def screen_command(
    elements: list[Path] = typer.Option(
        None, "--elements", exists=True, dir_okay=False, help="element-set file(s): TLE/3LE or OMM"
    ),
    from_db: bool = typer.Option(False, "--from-db", help="screen the newest element set of every stored object"),
    start: str = typer.Option(None, help="window start, ISO-8601 UTC (e.g. 2022-01-22T00:00:00Z)"),
    days: float = typer.Option(1.0, help="window length in days (fractional allowed)"),
    threshold_km: float = typer.Option(5.0, "--threshold-km", help="report pairs closer than this"),
    primary: str = typer.Option(None, help="comma-separated catalog numbers screened against everything"),
    workers: int = typer.Option(None, help="local worker processes (default: all cores)"),
    dask: str = typer.Option(None, "--dask", help="dask.distributed scheduler address, e.g. tcp://host:8786"),
    out: Path = typer.Option(None, help="write events to .csv, .json or .parquet"),
    resume: int = typer.Option(None, help="resume an interrupted run by its id"),
    ephemeris: list[Path] = typer.Option(
        None,
        "--ephemeris",
        exists=True,
        dir_okay=False,
        help="CCSDS OEM file(s) (KVN or XML): their objects fly the ephemeris and are screened as primaries",
    ),
    colocated_km: float = typer.Option(
        None, "--colocated-km", help="pairs closer than this all window are one co-located group (default 1 km)"
    ),
    database_url: str = DatabaseOption,
) -> None:
    """Find every pair closer than the threshold in the window (all-vs-all or primaries-vs-all)."""
    from ..conjunction.catalog_payload import CatalogPayload
    from ..conjunction.params import ScreeningParams
    from ..errors import TimeError
    from ..storage import screening_repo as repo
    from ..storage.catalog_repo import latest_elements
    from ..timescales import iso_to_jd
    from .ephemeris import ephemeris_tracks

    require_positive(days, "--days")
    require_positive(threshold_km, "--threshold-km")
    require_positive(colocated_km, "--colocated-km", allow_zero=True)
    if workers is not None and workers < 1:
        raise typer.BadParameter(f"{workers}: must be >= 1", param_hint="--workers")
    check_out(out, ("csv", "json", "parquet"))
    _, session_maker = open_db(database_url)
    completed = None
    if resume is not None:
        require_run(session_maker, resume, "--resume")
        with session_maker() as session:
            run, params, payload, completed = repo.load_run(session, resume)
        if run.status == "done":
            say(f"run {resume} is already done", err=True)
    else:
        if bool(elements) == from_db:
            raise typer.BadParameter("give either --elements FILE... or --from-db")
        if not start:
            raise typer.BadParameter("--start is required (ISO-8601 UTC, e.g. 2022-01-22T00:00:00Z)")
        try:
            jd, fr = iso_to_jd(start)
        except TimeError as exc:
            raise typer.BadParameter(str(exc), param_hint="--start") from None
        if elements:
            records = read_element_files(elements)
        else:
            with session_maker() as session:
                records = latest_elements(session)
        if not records:
            err_console.print("no element sets to screen")
            raise typer.Exit(1)
        tracks = ephemeris_tracks(ephemeris, records) if ephemeris else {}
        primaries = tuple(sorted(set(parse_ids(primary)) | set(tracks)))
        params = ScreeningParams(jd, fr, days, threshold_km, primaries, colocated_km=colocated_km)
        missing = set(params.primaries) - {r.norad_id for r in records} - set(tracks)
        if missing:
            raise typer.BadParameter(f"primaries not in the catalog: {sorted(missing)}")
        payload = CatalogPayload.from_elements(records)
        if tracks:
            payload = payload.with_ephemerides(tracks)
            _check_spans(payload, params)
    run_id, result = run_screening(
        session_maker, payload, params, workers=workers, dask_address=dask, run_id=resume, completed=completed
    )
    if result.failures:
        err_console.print(
            f"{len(result.failures)} objects had SGP4 errors in the window (excluded where they "
            f"failed); details in run {run_id}'s stats"
        )
    console.print(events_table(result.events))
    console.print(
        f"{len(result.events)} events in {result.stats['wall_s']:.1f} s "
        f"(run {run_id}; `spacecommons runs show {run_id}`)"
    )
    if payload.ephemeris_ids():
        _print_pc(session_maker, run_id)
    if out:
        result.events.write(out)
        say(f"wrote {out}")


def _check_spans(payload, params) -> None:
    """Warn when an ephemeris does not cover the window (its object is screened where it does)."""
    from ..constants import SECONDS_PER_DAY

    sats = dict(zip(payload.norad_ids, payload.satrecs(), strict=True))
    for nid in payload.ephemeris_ids():
        track = sats[nid]
        offset = ((params.start_jd - track.jdsatepoch) + (params.start_fr - track.jdsatepochF)) * SECONDS_PER_DAY
        first, last = track.span
        if first > offset or last < offset + params.duration_s:
            say(
                f"{nid}: its ephemeris covers {first - offset:+.0f} s to {last - offset:+.0f} s of the window "
                f"(0 to {params.duration_s:.0f} s): screened only there",
                err=True,
                style="yellow",
            )


def _print_pc(session_maker, run_id: int, limit: int = 15) -> None:
    """Pc (FOSTER-1992) of the closest encounters of a run with ephemeris primaries, and which
    covariance each object had: the OEM's (nearest block, RTN) or the DEFAULT TLE model."""
    from rich.table import Table

    from ..workflows.cdm_export import run_event_cdms

    t = Table(title="Pc with the ephemeris covariance")
    for col in ("object 1", "object 2", "miss (km)", "Pc", "covariance 1", "covariance 2"):
        t.add_column(col)
    with session_maker() as session:
        for ev, cdm in run_event_cdms(session, run_id, utc_now(), limit=limit):
            if ev.kind == "co-located":
                continue
            t.add_row(
                str(ev.id1),
                str(ev.id2),
                f"{ev.miss_km:.3f}",
                cdm.get("COLLISION_PROBABILITY") or "",
                cdm.get("COVARIANCE_METHOD", 1) or "",
                cdm.get("COVARIANCE_METHOD", 2) or "",
            )
    console.print(t)


@runs_app.command("list")
def runs_list(database_url: str = DatabaseOption) -> None:
    """Stored screening runs, newest first."""
    from rich.table import Table

    from ..storage import screening_repo as repo
    from ..timescales import format_utc

    _, session_maker = open_db(database_url)
    with session_maker() as session:
        runs = repo.list_runs(session)
    t = Table()
    for col in ("id", "created (UTC)", "status", "objects", "events", "parameters"):
        t.add_column(col)
    for r in runs:
        t.add_row(str(r.id), format_utc(r.created_at), r.status, str(r.n_objects), str(r.n_events or ""), r.params_json)
    console.print(t)


@runs_app.command("show")
def runs_show(run_id: int, limit: int = 20, database_url: str = DatabaseOption) -> None:
    """The closest events of one run."""
    from ..storage import screening_repo as repo

    _, session_maker = open_db(database_url)
    require_run(session_maker, run_id)
    with session_maker() as session:
        events = repo.run_events(session, run_id, limit)
    console.print(events_table(events, limit, title=f"run {run_id}"))
