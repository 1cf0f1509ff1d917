"""``spacecommons cdm`` and ``spacecommons pc``: Conjunction Data Messages and collision probability."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import typer

from .common import DatabaseOption, open_db, report_issues, require_run, say, utc_now
from .listing import Column, emit

CDM_FORMATS = ("kvn", "xml")

app = typer.Typer(help="CCSDS Conjunction Data Messages: convert, check, export.", no_args_is_help=True)


def _write(cdm, path: Path) -> None:
    from ..cdm import write_kvn, write_xml

    text = write_xml(cdm) if path.suffix.lower() == ".xml" else write_kvn(cdm)
    path.write_text(text)


@app.command("convert")
def convert(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="CDM file (KVN or XML)"),
    target: Path = typer.Argument(..., help="output file: .xml for XML, anything else KVN"),
) -> None:
    """KVN <-> XML by the target's suffix (.xml for XML, anything else KVN)."""
    from ..cdm import CdmError, read_cdm
    from ..cdm.xml import write_xml_report

    try:
        cdm = read_cdm(source.read_bytes(), str(source))
    except CdmError as exc:
        say(str(exc), err=True, style="red")
        raise typer.Exit(1) from None
    for w in cdm.warnings:
        say(w, err=True, label="warning", label_style="yellow")
    if target.suffix.lower() == ".xml":
        text, dropped = write_xml_report(cdm)
        for w in dropped:
            say(w, err=True, label="warning", label_style="yellow")
        target.write_text(text)
    else:
        _write(cdm, target)
    say(f"wrote {target}")


@app.command("check")
def check(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="folder of CDM files")) -> None:
    """Read every CDM in a folder; report each bad one (file, line, keyword); exit 3 if any."""
    from ..cdm.folder import read_folder

    good, issues = read_folder(folder)
    report_issues(issues)
    say(f"{len(good)} messages read, {len(issues)} rejected")
    if issues:
        raise typer.Exit(3)


@app.command("export")
def export(
    run: int = typer.Option(..., "--run", help="screening run id"),
    directory: Path = typer.Option(..., "--dir", help="output folder"),
    fmt: str = typer.Option("kvn", "--format", help="kvn or xml (either case)"),
    limit: int = typer.Option(None, help="only the N closest events"),
    max_miss_km: float = typer.Option(None, help="only events closer than this"),
    database_url: str = DatabaseOption,
) -> None:
    """One CDM per event of a run (states in EME2000, DEFAULT covariance, Foster Pc)."""
    from ..workflows.cdm_export import run_event_cdms

    fmt = fmt.lower()
    if fmt not in CDM_FORMATS:
        raise typer.BadParameter(f"{fmt!r}: one of {', '.join(CDM_FORMATS)}", param_hint="--format")
    _, session_maker = open_db(database_url)
    require_run(session_maker, run, "--run")
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    with session_maker() as session:
        for _ev, cdm in run_event_cdms(session, run, utc_now(), limit, max_miss_km):
            _write(cdm, directory / f"{cdm.get('MESSAGE_ID')}.{'xml' if fmt == 'xml' else 'cdm'}")  # by suffix
            n += 1
    say(f"wrote {n} CDMs to {directory}")


PC_FILE_COLUMNS = (
    Column("file", "file", keep=True),
    Column("method", "method"),
    Column("hbr", "HBR (m)", keep=True, drop=3),
    Column("pc", "Pc", keep=True),
    Column("ci", "95% CI", keep=True, drop=2),
    Column("checks", "usage checks failed", drop=1),
    Column("warnings", "warnings", drop=4),
)


def pc_command(
    files: list[Path] = typer.Argument(None, exists=True, dir_okay=False, help="CDM files (KVN or XML)"),
    method: str = typer.Option(
        "foster",
        help="foster (2D), 3d (Hall 2021), mc, max, auto (CARA's choice: 2D, else 3D, else Monte Carlo) or all",
    ),
    hbr_m: float = typer.Option(None, "--hbr-m", help="hard-body radius (m); default: the CDM's COMMENT HBR"),
    shape: str = typer.Option("circle", help="circle or square (CSpOC's convention)"),
    samples: int | None = typer.Option(
        None,
        help="Monte Carlo: at most this many samples (default 10,000,000; it stops once its 95% interval "
        "is within +-10%)",
    ),
    seed: int = typer.Option(0, help="Monte Carlo seed"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
    run: int = typer.Option(None, "--run", help="compute and store Pc for a screening run's events"),
    database_url: str = DatabaseOption,
) -> None:
    """Probability of collision of CDMs (or of a screening run's events)."""
    from ..cdm import CdmError, read_cdm
    from ..cdm.pc import cdm_pc
    from ..risk.cdm_pc import METHODS

    if method not in METHODS:
        raise typer.BadParameter(f"unknown method {method!r}: {', '.join(METHODS)}", param_hint="--method")
    if run is None and not files:
        raise typer.BadParameter("give CDM files or --run RUN_ID", param_hint="FILES")
    if run is not None:
        _, session_maker = open_db(database_url)
        require_run(session_maker, run, "--run")
        rows = _pc_for_run(run, database_url, "auto" if method == "all" else method, samples, seed)
        from .screen import EVENT_COLUMNS, PC_COLUMNS

        columns = EVENT_COLUMNS[:2] + EVENT_COLUMNS[3:4] + EVENT_COLUMNS[5:6] + PC_COLUMNS
        emit(rows, columns, title=f"run {run}", as_json=as_json)
        say(f"Pc stored for {len(rows)} events of run {run} (covariance: DEFAULT model for TLE states)", err=as_json)
        return
    out = []
    failed = False
    with pc_progress(len(files), method) as step:
        for path in files:
            step(path.name)
            try:
                cdm = read_cdm(path.read_bytes(), str(path))
                reports = cdm_pc(cdm, method, hbr_m, shape, samples, seed)
            except (CdmError, ValueError) as exc:
                say(f"{path}: {exc}", err=True, style="red")
                failed = True
                continue
            for r in reports:
                r.warnings = cdm.warnings + r.warnings
                out.append({"file": str(path), **r.as_dict()})
    if as_json:
        print(json.dumps(out[0] if len(out) == 1 else out, indent=1))
    else:
        rows = []
        for r in out:
            flags = r.get("flags") or {}
            failed_checks = ", ".join(flags.get("violations_2d", []) + flags.get("violations_3d", []))
            if flags and "inaccurate_2d" not in flags:
                failed_checks += " (2D accuracy unchecked: --method auto)"
            method_text = f"{r['method']} ({r['hbr_shape']})"
            if "reason" in r:
                method_text += f"; auto: {r['reason']['text']}"
            rows.append(
                {
                    "file": Path(r["file"]).name,
                    "method": method_text,
                    "hbr": f"{r['hbr_m']:g}",
                    "pc": f"{r['pc']:.4e}",
                    "ci": f"[{r['ci_low']:.3e}, {r['ci_high']:.3e}]" if "ci_low" in r else "",
                    "checks": failed_checks,
                    "warnings": "; ".join(r["warnings"]),
                }
            )
        emit(rows, PC_FILE_COLUMNS)
    if failed:
        raise typer.Exit(1)


SLOW_METHODS = ("mc", "auto", "all")  # may run Monte Carlo: up to 10 million trials, a minute or more


@contextmanager
def pc_progress(total: int, method: str):
    """A progress line on standard error while Pc is computed with a method that may run Monte
    Carlo (``SLOW_METHODS``), shown only when standard error is a terminal (standard output, e.g.
    ``--json``, stays clean). Yields ``step(name)``, called before each message or event."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .common import err_console

    if method not in SLOW_METHODS or not err_console.is_terminal:
        yield lambda _name: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("Pc", total=total)
        started: list[str] = []

        def step(name: str) -> None:
            if started:
                bar.advance(task)
            started.append(name)
            bar.update(task, description=f"Pc ({method}) {name}")

        yield step
        bar.update(task, completed=total)


def _pc_for_run(run_id: int, database_url: str | None, method: str, samples: int | None, seed: int) -> list[dict]:
    """Pc of every event of a run (``workflows.run_pc.store_run_pc``), with progress; the events as rows."""
    from ..storage.screening_repo import run_events
    from ..workflows.run_pc import store_run_pc
    from .screen import event_rows

    _, session_maker = open_db(database_url)
    with session_maker.begin() as session:
        with pc_progress(len(run_events(session, run_id)), method) as step:
            events = store_run_pc(session, run_id, utc_now(), method, samples, seed, lambda ev: step(f"event {ev.id}"))
        return [{"event_id": ev.id, **event_rows([ev])[0]} for ev in events]
