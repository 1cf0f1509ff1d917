"""Benchmark: `spacecommons screen` end to end against the brute-force baseline (issue #18, target 1).

Each run is the command a user types, in a subprocess: read the 3LE file, keep the newest element
set per object, screen all-vs-all, store the events in a fresh SQLite database, write the CSV.
Timed: wall clock and CPU (user + system of the command and its worker processes). The stage
profile comes from the command's own ``--timings`` file (read, engine stages, store, write).

In the same run: the brute-force baseline of ``screen_catalog.py`` (SatrecArray every 10 s, a
cKDTree pair query per step with the radius padded by half a step of the fastest closing speed,
SGP4 refinement of each sampled minimum) on the 6-hour slice, and the recall check against it:
every baseline minimum inside the window is an event of the command (TCA within 1 ms, or within
the time the distance changes by 1 micrometre for slow pairs; the event's own miss distance is the
refined one). With ``--before-src``, the same commands also run on another source tree (e.g. main's
``src``) and the CSV files are compared row for row.

Targets (issue #18): 6-hour slice >= 30x faster than the baseline; 7 days <= 0.35x the baseline's
6-hour time.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, read in place from
../shared/data/tle/catalog_snapshots/ or SPACECOMMONS_CATALOG=path, never copied), 5 km, from
2022-01-22T00:00:00Z.

    python benchmarks/screen_e2e.py [--week] [--before-src ../main/src] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
SNAPSHOT = "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
# ../shared beside the repository (a checkout in /work/main), or two levels up (a worktree in /work/wt/NAME)
DEFAULT = next((p / SNAPSHOT for p in HERE.parents[1:3] if (p / SNAPSHOT).exists()), HERE.parents[1] / SNAPSHOT)
START = "2022-01-22T00:00:00Z"
TARGET_SLICE_SPEEDUP = 30.0
TARGET_WEEK_FRACTION = 0.35


def run_cli(src: Path, catalog: Path, days: float, threshold_km: float, workdir: Path, tag: str) -> dict:
    """One `spacecommons screen` in a subprocess on the sources ``src``: wall, CPU, outputs."""
    db = workdir / f"{tag}.db"
    out = workdir / f"{tag}.csv"
    timings = workdir / f"{tag}.timings.json"
    for p in (db, out, timings):
        p.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "spacecommons.cli.main",
        "screen",
        "--elements",
        str(catalog),
        "--start",
        START,
        "--days",
        f"{days:g}",
        "--threshold-km",
        f"{threshold_km:g}",
        "--out",
        str(out),
        "--database-url",
        f"sqlite:///{db}",
    ]
    has_timings = "--timings" in (src / "spacecommons/cli/screen.py").read_text()
    if has_timings:
        cmd += ["--timings", str(timings)]
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "120"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"{tag}: the command failed ({proc.returncode})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    workers = next((ln for ln in proc.stdout.splitlines() if ln.startswith("screening run")), "")
    prof = json.loads(timings.read_text()) if has_timings else {"stages": {}, "engine": _stored_stats(db)}
    return {"tag": tag, "wall": wall, "cpu": cpu, "db": db, "csv": out, "profile": prof, "banner": workers}


def _stored_stats(db: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db) as con:
        (text,) = con.execute("SELECT stats_json FROM screening_runs ORDER BY id DESC LIMIT 1").fetchone()
    return json.loads(text)["stats"]


def stored_events(db: Path) -> list[SimpleNamespace]:
    """The run's stored events, each with its exact TCA in seconds after the window start.

    Stored and written TCAs are rounded to the millisecond; the exact time is that of the refined
    minimum of the same pair (kept with the run's chunks) that lies within half a millisecond. The
    run's catalog numbers are read by ``screening_repo.run_catalog_names``, after this tree's
    migrations bring the database (of a ``--before-src`` tree, perhaps older) to its schema."""
    import sqlite3

    import sqlalchemy as sa

    from spacecommons.storage import make_engine, screening_repo, session_factory, upgrade
    from spacecommons.storage.tables import ScreeningRun

    start = datetime.fromisoformat(START.replace("Z", "+00:00"))
    engine = make_engine(f"sqlite:///{db}")
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            run = session.scalars(sa.select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(1)).one()
            run_id, ids = run.id, screening_repo.run_catalog_names(session, run)[0]
    finally:
        engine.dispose()
    with sqlite3.connect(db) as con:
        exact: dict[tuple[int, int], list[float]] = {}
        for (text,) in con.execute("SELECT result_json FROM screening_chunks WHERE run_id = ?", (run_id,)):
            ch = json.loads(text)
            for i, j, t in zip(ch["i"], ch["j"], ch["t"], strict=True):
                a, b = ids[i], ids[j]
                exact.setdefault((min(a, b), max(a, b)), []).append(t)
        rows = con.execute(
            "SELECT id1, id2, tca, miss_km, speed_km_s, kind FROM conjunction_events WHERE run_id = ?", (run_id,)
        ).fetchall()
    events = []
    for id1, id2, tca, miss, speed, kind in rows:
        t_ms = (datetime.fromisoformat(tca).replace(tzinfo=UTC) - start).total_seconds()
        near = [t for t in exact.get((min(id1, id2), max(id1, id2)), []) if abs(t - t_ms) <= 0.0005 + 1e-9]
        t = min(near, key=lambda x: abs(x - t_ms)) if near else t_ms
        events.append(SimpleNamespace(id1=id1, id2=id2, tca_s=t, miss_km=miss, speed_km_s=speed, kind=kind))
    return events


def same_rows(a: Path, b: Path) -> tuple[int, int, int]:
    """(rows in a, rows in b, rows that differ) of two event CSV files, compared row for row."""
    with a.open() as fa, b.open() as fb:
        ra, rb = list(csv.reader(fa)), list(csv.reader(fb))
    differ = sum(x != y for x, y in zip(ra, rb, strict=False)) + abs(len(ra) - len(rb))
    return len(ra) - 1, len(rb) - 1, differ


def warm_up(src: Path, catalog: Path, workdir: Path) -> float:
    """A short run on the first objects of the catalog, so that the timed runs load numba's cache
    instead of compiling (a fresh checkout compiles the kernels once, for minutes)."""
    lines = catalog.read_text().splitlines()[:1500]
    small = workdir / "warm.txt"
    small.write_text("\n".join(lines) + "\n")
    clock = time.perf_counter()
    run_cli(src, small, 0.05, 5.0, workdir, "warm")
    return time.perf_counter() - clock


def profile_rows(runs: list[dict]) -> None:
    """The stage profile of each run side by side (wall seconds; engine stages summed over chunks)."""
    stage_names = [
        ("open_db_s", "open the database (migrations)"),
        ("read_elements_s", "read 3LE, newest per object"),
        ("payload_s", "catalog payload"),
        ("run_s", "screening run (engine + store)"),
        ("print_s", "print the table"),
        ("write_s", "write CSV"),
    ]
    engine_names = [
        ("wall_s", "engine wall"),
        ("propagation_s", "propagation"),
        ("bounds_s", "interpolation-error bounds"),
        ("broad_phase_s", "broad phase"),
        ("narrow_phase_s", "narrow phase"),
        ("refinement_s", "refinement"),
        ("merge_s", "merge into events"),
        ("save_chunks_s", "save chunks (resume)"),
        ("store_s", "store events + alerts"),
    ]
    head = " | ".join(r["tag"] for r in runs)
    print(f"\n| stage (s) | {head} |\n|---|" + "---:|" * len(runs))
    print("| command, wall | " + " | ".join(f"{r['wall']:.2f}" for r in runs) + " |")
    print("| command, CPU (user + sys, with workers) | " + " | ".join(f"{r['cpu']:.2f}" for r in runs) + " |")
    for key, name in stage_names:
        vals = [r["profile"]["stages"].get(key) for r in runs]
        if any(v is not None for v in vals):
            print(f"| {name} | " + " | ".join("" if v is None else f"{v:.2f}" for v in vals) + " |")
    rest = [r["wall"] - sum(r["profile"]["stages"].values()) for r in runs]
    if all(r["profile"]["stages"] for r in runs):
        print("| start-up (interpreter, imports before the command) | " + " | ".join(f"{v:.2f}" for v in rest) + " |")
    for key, name in engine_names:
        vals = [r["profile"]["engine"].get(key) for r in runs]
        if any(v is not None for v in vals):
            print(f"| &nbsp;&nbsp;{name} | " + " | ".join("" if v is None else f"{v:.2f}" for v in vals) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=os.environ.get("SPACECOMMONS_CATALOG", str(DEFAULT)))
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--slice-hours", type=float, default=6.0)
    ap.add_argument("--week", action="store_true", help="also 7 days end to end (minutes)")
    ap.add_argument("--before-src", type=Path, help="also run the commands on this source tree (e.g. ../main/src)")
    ap.add_argument("--skip-baseline", action="store_true", help="no brute-force baseline (it takes ~6 minutes)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each 6-hour command (the fastest is kept)")
    args = ap.parse_args()
    catalog = Path(args.catalog)
    if not catalog.exists():
        print(f"needs {catalog} (../shared/data/tle/catalog_snapshots/) or SPACECOMMONS_CATALOG=path", file=sys.stderr)
        return 2
    sys.path[:0] = [str(SRC), str(HERE)]
    from screen_catalog import baseline, compare  # the baseline of issue #2, imported, not copied

    from spacecommons.catalog import latest_per_object, read_elements
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.timescales import iso_to_jd

    trees = [("after", SRC.resolve())]
    if args.before_src:
        trees.insert(0, ("before", args.before_src.resolve()))
    workdir = Path(tempfile.mkdtemp(prefix="screen_e2e_"))
    print(f"# {catalog.name}; {os.cpu_count()} cores; load average at start {os.getloadavg()}; work in {workdir}")
    for tag, src in trees:
        print(f"# warm-up ({tag}: {src}): {warm_up(src, catalog, workdir):.1f} s")

    hours = args.slice_hours
    slice_runs: dict[str, dict] = {}
    for tag, src in trees:
        best = None
        for k in range(args.repeat):
            r = run_cli(src, catalog, hours / 24.0, args.threshold_km, workdir, f"{tag}-{hours:g}h-{k + 1}")
            r["tag"] = f"{tag}, {hours:g} h"
            print(f"{tag}, {hours:g} h (#{k + 1}): {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU; {r['banner']}")
            if best is None or r["wall"] < best["wall"]:
                best = r
        slice_runs[tag] = best
    load_after_slices = os.getloadavg()[0]
    week_runs: dict[str, dict] = {}
    if args.week:
        for tag, src in trees:
            r = run_cli(src, catalog, 7.0, args.threshold_km, workdir, f"{tag}-7d")
            r["tag"] = f"{tag}, 7 d"
            print(f"{tag}, 7 d: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU; {r['banner']}")
            week_runs[tag] = r
    base_s = base_cpu = None
    if not args.skip_baseline:
        records, _ = latest_per_object(read_elements(catalog).records)
        payload = CatalogPayload.from_elements(records)
        jd, fr = iso_to_jd(START)
        params = ScreeningParams(jd, fr, hours / 24.0, args.threshold_km)
        clock = time.perf_counter()
        cpu = time.process_time()
        minima, bstats = baseline(payload, params)
        base_s = time.perf_counter() - clock
        base_cpu = time.process_time() - cpu
        print(
            f"baseline, {hours:g} h: {base_s:.1f} s wall, {base_cpu:.1f} s CPU ({len(minima)} minima; "
            f"propagation {bstats['propagation_s']:.1f} s, cKDTree pairs {bstats['pairs_s']:.1f} s, "
            f"refinement {bstats['refinement_s']:.1f} s)"
        )
        for tag, r in slice_runs.items():
            missed, extra = compare(stored_events(r["db"]), minima)
            print(
                f"recall ({tag}): {len(minima)} baseline minima, {missed} missed by the command; "
                f"{extra} events without a baseline minimum"
            )
    print(f"\nload average: {os.getloadavg()} (1 min after the slices: {load_after_slices:.2f})")
    print("\n| workload | sources | wall (s) | CPU (s) | baseline 6 h (s) | ratio | target | met |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    base = "" if base_s is None else f"{base_s:.1f}"
    for tag, r in slice_runs.items():
        ratio = base_s / r["wall"] if base_s else None
        shown = "" if ratio is None else f"{ratio:.1f}x faster"
        met = "" if ratio is None else ("yes" if ratio >= TARGET_SLICE_SPEEDUP else "no")
        print(
            f"| {hours:g} h, end to end | {tag} | {r['wall']:.2f} | {r['cpu']:.2f} | {base} | {shown} | "
            f">= {TARGET_SLICE_SPEEDUP:g}x | {met} |"
        )
        if base_s:
            print(f"|  | {tag}, by CPU time | | | {base_cpu:.1f} CPU | {base_cpu / r['cpu']:.1f}x less CPU | | |")
    for tag, r in week_runs.items():
        frac = r["wall"] / base_s if base_s else None
        shown = "" if frac is None else f"{frac:.3f}x"
        met = "" if frac is None else ("yes" if frac <= TARGET_WEEK_FRACTION else "no")
        print(
            f"| 7 d, end to end | {tag} | {r['wall']:.1f} | {r['cpu']:.1f} | {base} | {shown} | "
            f"<= {TARGET_WEEK_FRACTION:g}x | {met} |"
        )
    if "before" in slice_runs:
        a, b, differ = same_rows(slice_runs["before"]["csv"], slice_runs["after"]["csv"])
        print(f"\nrow for row, {hours:g} h CSV: before {a} events, after {b}; rows that differ: {differ}")
        if "before" in week_runs:
            a, b, differ = same_rows(week_runs["before"]["csv"], week_runs["after"]["csv"])
            print(f"row for row, 7 d CSV: before {a} events, after {b}; rows that differ: {differ}")
    profile_rows(list(slice_runs.values()) + list(week_runs.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
