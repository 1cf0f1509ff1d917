"""``spacecommons screen`` and ``spacecommons runs``: conjunction screening runs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import typer

from . import common
from .common import (
    DatabaseOption,
    check_out,
    open_db,
    parse_ids,
    plain_reads,
    read_element_files,
    require_positive,
    require_run,
    say,
    utc_now,
)
from .listing import Column, CsvOption, JsonOption, check_formats, emit, table

runs_app = typer.Typer(help="Stored screening runs and their events.", no_args_is_help=True)


EVENT_COLUMNS = (
    Column("tca", "tca (UTC)", keep=True),
    Column("id1", "object 1", keep=True),
    Column("name1", "name 1", drop=5),
    Column("id2", "object 2", keep=True),
    Column("name2", "name 2", drop=5),
    Column("miss_km", "miss (km)", keep=True, show=lambda v: f"{v:.3f}"),
    Column("speed_km_s", "speed (km/s)", drop=4, show=lambda v: f"{v:.3f}"),
    Column("_rtn", "R / T / N (km)", drop=6),
    Column("kind", "kind", drop=3),
)
PC_COLUMNS = (
    Column("pc", "Pc", keep=True, show=lambda v: "" if v is None else f"{v:.3e}"),
    Column("pc_method", "Pc method", drop=2),
)


def event_rows(events, limit: int | None = None) -> list[dict]:
    """The closest events (a run's result or stored rows) as plain rows, closest first."""
    import heapq

    from ..timescales import format_utc

    # the same rows as sorted(...)[:limit] (heapq.nsmallest keeps ties in order), without sorting 10^5 events
    closest = sorted(events, key=_MISS) if limit is None else heapq.nsmallest(limit, events, key=_MISS)
    rows = []
    for e in closest:
        rows.append(
            {
                "tca": e.tca if isinstance(e.tca, str) else format_utc(e.tca, 3),  # a run's text or a stored instant
                "id1": e.id1,
                "name1": e.name1,
                "id2": e.id2,
                "name2": e.name2,
                "miss_km": e.miss_km,
                "speed_km_s": e.speed_km_s,
                "r_km": e.r_km,
                "t_km": e.t_km,
                "n_km": e.n_km,
                "_rtn": f"{e.r_km:.3f} / {e.t_km:.3f} / {e.n_km:.3f}",
                "kind": e.kind if e.kind in ("encounter", "co-located") else f"proximity x{e.n_minima}",
                "pc": getattr(e, "pc", None),
                "pc_method": getattr(e, "pc_method", None),
            }
        )
    return rows


def _MISS(e) -> float:
    return e.miss_km


def events_table(events, limit: int = 15, title: str = "Closest approaches", *, with_pc: bool = False):
    """A rich table of the closest events that fits the terminal (``listing.table``)."""
    columns = EVENT_COLUMNS + (PC_COLUMNS if with_pc else ())
    return table(event_rows(events, limit), columns, common.console.width, title=title)


OBJECT_DAYS_PER_WORKER = 5000.0
"""Screening work (objects x days) that one more local worker process must have to pay for its
start (a spawned interpreter importing numpy, sgp4 and the kernels, and the catalog sent to it).
Measured on the 2-core development machine (2026-11-27, sample catalog, 1 day): 332 objects took
3.2 s with 1 worker and 16.5 s with 2; 4,066 objects 16.0 s with 1 and 33.9 s with 2; issue #13:
500 objects 4.4 s with 1, 8.3 s with 2."""


def screen_workers(n_objects: int, days: float, n_chunks: int, cpus: int) -> int:
    """Local worker processes for a screening: one per ``OBJECT_DAYS_PER_WORKER`` of work, at
    least 1, at most one per chunk and per core (small workloads run in this process)."""
    by_work = int(n_objects * days // OBJECT_DAYS_PER_WORKER)
    return max(1, min(cpus, n_chunks, by_work))


def screen_threads(workers: int, cpus: int) -> int:
    """Threads per worker process for the compiled broad and narrow phases: the cores the worker
    processes leave idle, shared among them (2 for one worker on 2 cores, 1 for 2 workers)."""
    return max(1, cpus // max(1, workers))


def run_screening(session_maker, payload, params, *, workers, dask_address, run_id=None, completed=None):
    """Run (or resume) a stored screening run with a progress bar; returns (run id, result)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..workflows.screening import create_run
    from ..workflows.screening import run_screening as run_workflow

    if run_id is None:
        with session_maker.begin() as session:
            run_id = create_run(session, payload, params, utc_now())
    cpus = os.cpu_count() or 1
    if workers is None and not dask_address:
        workers = screen_workers(len(payload), params.days, len(params.chunks()), cpus)
    # a Dask worker runs its chunk on one thread (its cores are the cluster's business)
    threads = 1 if dask_address else screen_threads(min(workers, len(params.chunks())), cpus)
    where = f"on {dask_address}" if dask_address else f"{workers} worker{'s' if workers > 1 else ''}"
    common.console.print(
        f"screening run [bold]{run_id}[/]: {len(payload)} objects, {params.days:g} d from "
        f"{_iso(params)}, threshold {params.threshold_km:g} km, {where}"
    )
    columns = (TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=common.err_console, transient=False) as bar:
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
                threads=threads,
            )
    except KeyboardInterrupt:
        common.err_console.print(
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
    workers: int = typer.Option(
        None, help="local worker processes (default: by workload, 1 per 5,000 object-days, at most all cores)"
    ),
    dask: str = typer.Option(
        None,
        "--dask",
        help="dask.distributed scheduler address (e.g. tcp://host:8786), or local[:N] for a local cluster of N workers",
    ),
    chunk_days: float = typer.Option(
        None, "--chunk-days", help="days per work chunk (default 0.5); shorter chunks use less memory per worker"
    ),
    out: Path = typer.Option(None, help="write events to .csv, .json or .parquet"),
    resume: int = typer.Option(None, help="resume an interrupted run by its id"),
    update: int = typer.Option(
        None,
        "--update",
        help="re-screen only the objects whose element sets --elements changes in this stored run, "
        "replacing their events (incremental)",
    ),
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
    timings: Path = typer.Option(
        None,
        "--timings",
        dir_okay=False,
        help="write the seconds each stage took (read, engine stages, store, write) to this JSON file",
    ),
    database_url: str = DatabaseOption,
) -> None:
    """Find every pair closer than the threshold in the window (all-vs-all or primaries-vs-all)."""
    import time

    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - clock
        clock = now

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
    if chunk_days is not None:
        require_positive(chunk_days, "--chunk-days")
    if workers is not None and workers < 1:
        raise typer.BadParameter(f"{workers}: must be >= 1", param_hint="--workers")
    check_out(out, ("csv", "json", "parquet"))
    lap("imports_s")
    engine, session_maker = open_db(database_url)
    lap("open_db_s")
    if update is not None:
        _update(session_maker, update, elements, workers, dask, out)
        return
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
            lap("read_elements_s")
        else:
            with session_maker() as session:
                records = latest_elements(session)
        if not records:
            common.err_console.print("no element sets to screen")
            raise typer.Exit(1)
        tracks = ephemeris_tracks(ephemeris, records) if ephemeris else {}
        primaries = tuple(sorted(set(parse_ids(primary)) | set(tracks)))
        params = ScreeningParams(jd, fr, days, threshold_km, primaries, colocated_km=colocated_km)
        if chunk_days is not None:
            params = dataclasses.replace(params, chunk_days=chunk_days)
        missing = set(params.primaries) - {r.norad_id for r in records} - set(tracks)
        if missing:
            raise typer.BadParameter(f"primaries not in the catalog: {sorted(missing)}")
        payload = CatalogPayload.from_elements(records)
        if tracks:
            payload = payload.with_ephemerides(tracks)
            _check_spans(payload, params)
    lap("payload_s")
    run_id, result = run_screening(
        session_maker, payload, params, workers=workers, dask_address=dask, run_id=resume, completed=completed
    )
    lap("run_s")
    if result.failures:
        common.err_console.print(
            f"{len(result.failures)} objects had SGP4 errors in the window (excluded where they "
            f"failed); details in run {run_id}'s stats"
        )
    common.console.print(events_table(result.events))
    common.console.print(
        f"{len(result.events)} events in {result.stats['wall_s']:.1f} s "
        f"(run {run_id}; `spacecommons runs show {run_id}`)"
    )
    if payload.ephemeris_ids():
        _print_pc(session_maker, run_id)
    lap("print_s")
    if out:
        result.events.write(out)
        lap("write_s")
        say(f"wrote {out}")
    if timings:
        _write_timings(timings, stages, result.stats)
    _light_exit(engine)


def _light_exit(engine) -> None:
    """The run is stored and written: close the database connections now, and freeze the garbage
    collector's objects when the interpreter exits (``atexit``). Without that, finalizing the
    interpreter (1,400 modules, ~250k tracked objects after a screening run) walked them in full
    collections for ~1 s, 7% of the 6-hour slice's command (issue #18). Frozen objects are still
    freed by reference counting; only cycles among them are left to the operating system, which is
    why the connections are closed first (an unclosed SQLite connection leaves its -wal file)."""
    import atexit
    import gc

    engine.dispose()
    atexit.register(gc.freeze)


def _write_timings(path: Path, stages: dict[str, float], stats: dict[str, float]) -> None:
    """``--timings``: the command's own stages (wall seconds, in order) and the run's statistics
    (engine stages summed over chunks, store) as one JSON object."""
    import json

    path.write_text(json.dumps({"stages": stages, "engine": stats}, indent=1) + "\n")


RUN_COLUMNS = (
    Column("id", "id", keep=True),
    Column("created", "created (UTC)", keep=True, drop=2),
    Column("status", "status", keep=True),
    Column("objects", "objects", keep=True),
    Column("events", "events", keep=True),
    Column("start", "window start (UTC)", keep=True),
    Column("days", "days", keep=True, drop=1),
    Column("threshold_km", "threshold (km)", keep=True, drop=1),
    Column("primaries", "primaries", drop=3),
)


def run_row(run) -> dict:
    """A stored run (an ORM object or a Core row) as a plain row: its parameters spelled out
    (window, threshold, primaries)."""
    import json

    from ..timescales import format_utc, jd_to_iso

    # The fields of ScreeningParams.to_json, read as ScreeningParams.from_json reads them, without
    # importing the conjunction package (numba, scipy: seconds at the start of `runs list`, issue #18).
    p = json.loads(run.params_json)
    return {
        "id": run.id,
        "created": format_utc(run.created_at),
        "status": run.status,
        "objects": run.n_objects,
        "events": run.n_events,
        "start": jd_to_iso(p["start_jd"], p["start_fr"]),
        "days": p["days"],
        "threshold_km": p["threshold_km"],
        "primaries": " ".join(map(str, p.get("primaries", ()))),
        "message": run.message,
    }


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
    common.console.print(t)


@runs_app.command("list")
def runs_list(as_json: bool = JsonOption, as_csv: bool = CsvOption, database_url: str = DatabaseOption) -> None:
    """Stored screening runs, newest first."""
    from ..storage.core_reads import list_runs

    check_formats(as_json, as_csv)
    with plain_reads(database_url) as conn:  # plain SQL, no SQLAlchemy: a light command (issue #18)
        rows = [run_row(r) for r in list_runs(conn)]
    emit(rows, RUN_COLUMNS, title="screening runs", as_json=as_json, as_csv=as_csv)


def run_sgp4_failures(session, run) -> list[dict]:
    """The objects a run left out where SGP4 failed (what ``screen`` points to): id, name (from the
    run's catalog as it stands, updates included), reason."""
    import json

    from ..storage.screening_repo import run_catalog_names

    if not run.stats_json:
        return []
    failures = json.loads(run.stats_json).get("sgp4_failures", {})
    if not failures:
        return []
    names = dict(zip(*run_catalog_names(session, run), strict=True))
    return [{"norad_id": int(k), "name": names.get(int(k), ""), "reason": v} for k, v in sorted(failures.items())]


@runs_app.command("show")
def runs_show(
    run_id: int,
    limit: int = typer.Option(20, help="the N closest events"),
    as_json: bool = JsonOption,
    as_csv: bool = CsvOption,
    database_url: str = DatabaseOption,
) -> None:
    """One run: its parameters, its closest events with their stored Pc (`spacecommons pc --run`)
    and the objects SGP4 could not propagate. ``--json`` prints ``{"run", "sgp4_failures", "rows"}``
    (the events); ``--csv`` the events."""
    from ..storage import screening_repo as repo
    from ..storage.tables import ScreeningRun

    check_formats(as_json, as_csv)
    require_positive(limit, "--limit")
    _, session_maker = open_db(database_url)
    require_run(session_maker, run_id)
    with session_maker() as session:
        run = session.get(ScreeningRun, run_id)
        info, failures = run_row(run), run_sgp4_failures(session, run)
        rows = event_rows(repo.run_events(session, run_id, limit))
    columns = EVENT_COLUMNS + PC_COLUMNS
    if as_json or as_csv:
        emit(rows, columns, as_json=as_json, as_csv=as_csv, document={"run": info, "sgp4_failures": failures})
        return
    say(
        f"run {run_id} ({info['status']}): {info['objects']} objects, {info['days']:g} d from {info['start']}, "
        f"threshold {info['threshold_km']:g} km, {info['events'] or 0} events"
        + (f"; {info['message']}" if info["message"] else "")
    )
    emit(rows, columns, title=f"run {run_id}: the {len(rows)} closest events")
    if not any(r["pc"] is not None for r in rows) and rows:
        say(f"no Pc stored yet: `spacecommons pc --run {run_id}` computes and stores it")
    if failures:
        title = f"{len(failures)} objects SGP4 could not propagate (not screened where they failed)"
        emit(failures, FAILURE_COLUMNS, title=title)


FAILURE_COLUMNS = (
    Column("norad_id", "object", keep=True),
    Column("name", "name", drop=1),
    Column("reason", "reason"),
)


def _update(session_maker, run_id: int, elements: list[Path], workers: int | None, dask: str | None, out) -> None:
    """``screen --update RUN_ID --elements FILE...``: incremental re-screening of a stored run."""
    from ..conjunction.catalog_payload import CatalogPayload
    from ..workflows.screening import update_run

    if not elements:
        raise typer.BadParameter("--update needs --elements FILE... with the new element sets")
    require_run(session_maker, run_id, "--update")
    outcome = update_run(
        session_maker,
        run_id,
        CatalogPayload.from_elements(read_element_files(elements)),
        workers=workers,
        dask_address=dask,
    )
    if outcome.result is None:
        say(f"run {run_id}: no element set changed; nothing re-screened")
        return
    common.console.print(events_table(outcome.result.events))
    changed, extra = len(outcome.updated), len(outcome.rescreened) - len(outcome.updated)
    what = f"{changed} object{'' if changed == 1 else 's'} re-screened"
    if extra > 0:  # a docking or an undocking: the group's rows change
        what += f" (and {extra} unchanged member{'' if extra == 1 else 's'} of the co-located groups they touch)"
    common.console.print(
        f"{what}: {len(outcome.result.events)} events for their pairs in "
        f"{outcome.result.stats['wall_s']:.1f} s; run {run_id} now has {outcome.n_events} events"
    )
    if out:
        outcome.result.events.write(out)
        say(f"wrote {out}")
