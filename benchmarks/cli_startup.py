"""Start-up time of ``spacecommons --help`` against a bare ``python -c pass`` in the same run (issue #10).

Each command is run N times in fresh interpreters, alternating, so that a busy machine slows both
alike; the table gives the median and the fastest run of each and their ratio, and the imports
that dominate one ``--help`` (``python -X importtime``).

    python benchmarks/cli_startup.py            # 20 runs each
    python benchmarks/cli_startup.py -n 50
    python benchmarks/cli_startup.py --src /path/to/other/checkout/src   # the same, other sources
    python benchmarks/cli_startup.py --against /path/to/main/src   # both trees in one loop, run for run

Also timed, on a throw-away SQLite database migrated once before timing (so every run finds the
schema at its head): the light commands ``catalog history 25544`` and ``runs list``, and the help of
a command group and of a command (``neo --help``, ``catalog history --help``). The database holds
the four element sets of ``tests/data/tle/iss_docked_2022-01-22.3le`` (loaded with the timed
sources' own ``catalog load``) and one screening run (inserted with SQL), so that both commands
print rows as they do in use; ``--empty`` times them on the empty database instead (``catalog
history`` then stops at "not in the catalog", ``runs list`` prints an empty table).

The floors, timed in the same loop (CPU only): what a light command imported while it read through
SQLAlchemy (Typer, SQLAlchemy and its SQLite dialect, a Rich table), what it imports now that its
reads are plain SQL over ``sqlite3`` (``storage/core_reads.py``), ``import sqlalchemy`` alone and
Rich's console and table alone. The largest imports are listed for ``--help`` and both light commands.

Targets (issue #18): ``--help`` <= 0.3 s (it was 2.7 s when every command module imported scipy,
SQLAlchemy, matplotlib and the service at start), light commands <= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HELP = [
    sys.executable,
    "-c",
    "import sys; sys.argv = ['spacecommons', '--help']; from spacecommons.cli.main import app; app()",
]
BARE = [sys.executable, "-c", "pass"]
# What a light command had to import while it read through SQLAlchemy (Typer, SQLAlchemy and its
# SQLite dialect, a Rich table): the floor its start-up could reach without leaving SQLAlchemy; what
# it must import with plain SQL over the standard library's sqlite3 (issue #18); and two parts of it.
FLOORS = {
    "SQLAlchemy floor (`import typer.main, sqlalchemy, sqlalchemy.dialects.sqlite, rich.console, rich.table`)": [
        sys.executable,
        "-c",
        "import typer.main, sqlalchemy, sqlalchemy.dialects.sqlite, rich.console, rich.table",
    ],
    "plain-SQL floor (`import typer.main, sqlite3, rich.console, rich.table`)": [
        sys.executable,
        "-c",
        "import typer.main, sqlite3, rich.console, rich.table",
    ],
    "`import sqlalchemy` alone": [sys.executable, "-c", "import sqlalchemy"],
    "`import rich.console, rich.table` alone": [sys.executable, "-c", "import rich.console, rich.table"],
}


def _cli(*argv: str) -> list[str]:
    code = f"import sys; sys.argv = ['spacecommons', *{list(argv)!r}]; from spacecommons.cli.main import app; app()"
    return [sys.executable, "-c", code]


LIGHT = {
    "`spacecommons neo --help`": _cli("neo", "--help"),
    "`spacecommons catalog history --help`": _cli("catalog", "history", "--help"),
    "`spacecommons catalog history 25544`": _cli("catalog", "history", "25544"),
    "`spacecommons runs list`": _cli("runs", "list"),
}
ISS = Path(__file__).resolve().parents[1] / "tests" / "data" / "tle" / "iss_docked_2022-01-22.3le"
# One stored run: the fields ScreeningParams.from_json needs (the rest take their defaults); no
# catalog (its row in screening_run_catalogs): the timed commands do not read it.
RUN_PARAMS = {"start_jd": 2459601.5, "start_fr": 0.0, "days": 1.0, "threshold_km": 5.0, "primaries": [25544]}


def _fill(db: Path, env: dict[str, str]) -> None:
    """Element sets through the timed sources' CLI, one screening run row through SQL."""
    import json
    import sqlite3

    subprocess.run(_cli("catalog", "load", str(ISS)), env=env, check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO screening_runs (created_at, status, params_json, catalog_digest, catalog_json, "
            "n_objects, n_chunks, n_events, message, visibility) "
            "VALUES (?, 'done', ?, ?, '', 4, 1, 0, NULL, 'public')",
            ("2026-11-27 08:00:00.000000", json.dumps(RUN_PARAMS, sort_keys=True), "0" * 64),
        )


def _env(src: Path) -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), extra]))}


CPU: dict[str, list[float]] = {}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: list[str], env: dict[str, str], key: str | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (user + system: what a busy machine inflates less)
    are appended to CPU under ``key`` (default: the command's last argument)."""
    c0 = _cpu()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - t0
    CPU.setdefault(key or cmd[-1], []).append(_cpu() - c0)
    if done.returncode != 0 and b"is not in the catalog" not in done.stderr:  # an empty database answers so
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr.decode()}")
    return elapsed


def _heaviest_imports(env: dict[str, str], cmd: list[str], top: int = 8) -> list[tuple[float, str]]:
    """The top-level packages with the largest cumulative import time in one run of ``cmd``."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True)
    cumulative: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = line.split("|", 2)
        if name.strip().startswith(" ") or name != name.rstrip() or not cum.strip().isdigit():
            continue
        if len(name) - len(name.lstrip()) == 1:  # imported directly, not by another module
            cumulative[name.strip()] = int(cum) / 1e6
    return sorted(((s, n) for n, s in cumulative.items()), reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("-n", type=int, default=20, help="runs of each command")
    ap.add_argument("--src", type=Path, default=SRC, help="the sources to time (e.g. an older checkout's src/)")
    ap.add_argument(
        "--against", type=Path, help="a second source tree (e.g. main's src/), timed in the same loop, run for run"
    )
    ap.add_argument("--empty", action="store_true", help="time the light commands on an empty database")
    args = ap.parse_args()
    trees = {"": args.src} if args.against is None else {"this": args.src, "against": args.against}
    with tempfile.TemporaryDirectory() as tmp:
        envs = {
            label: {**_env(src), "SPACECOMMONS_DATABASE_URL": f"sqlite:///{Path(tmp) / 'cli.db'}"}
            for label, src in trees.items()
        }
        first = next(iter(envs.values()))
        subprocess.run(_cli("db", "upgrade"), env=first, check=True, capture_output=True)
        if not args.empty:
            _fill(Path(tmp) / "cli.db", first)
        commands = {"`spacecommons --help`": HELP, **LIGHT}
        for env in envs.values():
            for cmd in commands.values():
                _time(cmd, env)  # warm the file cache and the bytecode
        CPU.clear()
        times: dict[tuple[str, str], list[float]] = {(n, label): [] for n in commands for label in envs}
        bare_s = []
        for _ in range(args.n):
            for name, cmd in commands.items():
                for label, env in envs.items():  # the trees alternate, so that the load moves both alike
                    times[name, label].append(_time(cmd, env, f"{name} {label}"))
            bare_s.append(_time(BARE, first))
            for cmd in FLOORS.values():
                _time(cmd, first)
        profiled = [n for n in commands if n == "`spacecommons --help`" or not n.endswith("--help`")]
        imports = {(n, label): _heaviest_imports(env, commands[n]) for label, env in envs.items() for n in profiled}
    med_b = statistics.median(bare_s)
    for label, src in trees.items():
        print(f"sources{' (' + label + ')' if label else ''}: {src}")
    print(f"database: {'empty' if args.empty else 'four element sets, one run'}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    cpu_b = statistics.median(CPU[BARE[-1]])
    print(
        "| workload | sources | runs | median (s) | fastest (s) | baseline `python -c pass` median (s) "
        "| ratio (median) | CPU median (s) | baseline CPU (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, label), values in times.items():
        med, cpu = statistics.median(values), statistics.median(CPU[f"{name} {label}"])
        print(
            f"| {name} | {label or args.src} | {args.n} | {med:.3f} | {min(values):.3f} | {med_b:.3f} "
            f"| {med / med_b:.1f}x | {cpu:.3f} | {cpu_b:.3f} |"
        )
    print()
    for what, cmd in FLOORS.items():
        print(f"CPU median of the {what}: {statistics.median(CPU[cmd[-1]]):.3f} s")
    for (name, label), heaviest in imports.items():
        print()
        print(f"largest direct imports of one {name}{' (' + label + ')' if label else ''} (cumulative s):")
        for seconds, module in heaviest:
            print(f"  {seconds:6.3f}  {module}")


if __name__ == "__main__":
    main()
