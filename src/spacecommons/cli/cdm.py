"""``spacecommons cdm`` and ``spacecommons pc``: Conjunction Data Messages and collision probability."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from .common import DatabaseOption, console, err_console, open_db, report_issues, utc_now

app = typer.Typer(help="CCSDS Conjunction Data Messages: convert, check, export.", no_args_is_help=True)


def _write(cdm, path: Path) -> None:
    from ..cdm import write_kvn, write_xml

    text = write_xml(cdm) if path.suffix.lower() == ".xml" else write_kvn(cdm)
    path.write_text(text)


@app.command("convert")
def convert(source: Path, target: Path) -> None:
    """KVN <-> XML by the target's suffix (.xml for XML, anything else KVN)."""
    from ..cdm import CdmError, read_cdm

    try:
        cdm = read_cdm(source.read_bytes(), str(source))
    except CdmError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for w in cdm.warnings:
        err_console.print(f"[yellow]warning[/] {w}")
    _write(cdm, target)
    console.print(f"wrote {target}")


@app.command("check")
def check(folder: Path) -> None:
    """Read every CDM in a folder; report each bad one (file, line, keyword); exit 3 if any."""
    from ..cdm.folder import read_folder

    good, issues = read_folder(folder)
    report_issues(issues)
    console.print(f"{len(good)} messages read, {len(issues)} rejected")
    if issues:
        raise typer.Exit(3)


@app.command("export")
def export(
    run: int = typer.Option(..., "--run", help="screening run id"),
    directory: Path = typer.Option(..., "--dir", help="output folder"),
    fmt: str = typer.Option("kvn", "--format", help="kvn or xml"),
    limit: int = typer.Option(None, help="only the N closest events"),
    max_miss_km: float = typer.Option(None, help="only events closer than this"),
    database_url: str = DatabaseOption,
) -> None:
    """One CDM per event of a run (states in EME2000, DEFAULT covariance, Foster Pc)."""
    from ..workflows.cdm_export import run_event_cdms

    _, session_maker = open_db(database_url)
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    with session_maker() as session:
        for _ev, cdm in run_event_cdms(session, run, utc_now(), limit, max_miss_km):
            _write(cdm, directory / f"{cdm.get('MESSAGE_ID')}.{'xml' if fmt == 'xml' else 'cdm'}")
            n += 1
    console.print(f"wrote {n} CDMs to {directory}")


def pc_command(
    files: list[Path] = typer.Argument(None, help="CDM files (KVN or XML)"),
    method: str = typer.Option("foster", help="foster, mc, max, auto (Foster unless 2D checks fail) or all"),
    hbr_m: float = typer.Option(None, "--hbr-m", help="hard-body radius (m); default: the CDM's COMMENT HBR"),
    shape: str = typer.Option("circle", help="circle or square (CSpOC's convention)"),
    samples: int = typer.Option(200_000, help="Monte Carlo samples"),
    seed: int = typer.Option(0, help="Monte Carlo seed"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
    run: int = typer.Option(None, "--run", help="compute and store Pc for a screening run's events"),
    database_url: str = DatabaseOption,
) -> None:
    """Probability of collision of CDMs (or of a screening run's events)."""
    from rich.table import Table

    from ..cdm import CdmError, read_cdm
    from ..risk.cdm_pc import cdm_pc

    if run is not None:
        _pc_for_run(run, database_url)
        return
    out = []
    failed = False
    for path in files or []:
        try:
            cdm = read_cdm(path.read_bytes(), str(path))
            reports = cdm_pc(cdm, method, hbr_m, shape, samples, seed)
        except (CdmError, ValueError) as exc:
            err_console.print(f"[red]{path}: {exc}[/]")
            failed = True
            continue
        for r in reports:
            r.warnings = cdm.warnings + r.warnings
            out.append({"file": str(path), **r.as_dict()})
    if as_json:
        print(json.dumps(out[0] if len(out) == 1 else out, indent=1))
    else:
        t = Table()
        for col in ("file", "method", "HBR (m)", "Pc", "95% CI", "warnings"):
            t.add_column(col)
        for r in out:
            ci = f"[{r['ci_low']:.3e}, {r['ci_high']:.3e}]" if "ci_low" in r else ""
            t.add_row(
                Path(r["file"]).name,
                f"{r['method']} ({r['hbr_shape']})",
                f"{r['hbr_m']:g}",
                f"{r['pc']:.4e}",
                ci,
                "; ".join(r["warnings"]),
            )
        console.print(t)
    if failed:
        raise typer.Exit(1)


def _pc_for_run(run_id: int, database_url: str | None) -> None:
    from ..workflows.cdm_export import run_event_cdms

    _, session_maker = open_db(database_url)
    n = 0
    with session_maker.begin() as session:
        for ev, cdm in run_event_cdms(session, run_id, datetime.now(UTC)):
            ev.pc = float(cdm.get("COLLISION_PROBABILITY"))
            ev.pc_method = "FOSTER-1992 (DEFAULT covariance)"
            n += 1
    console.print(f"Pc stored for {n} events of run {run_id} (covariance: DEFAULT model for TLE states)")
