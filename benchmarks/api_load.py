"""Load benchmark (issues #5 and #18): concurrent clients listing conjunction events of a whole-catalog
screening run over loopback, on SQLite and on PostgreSQL, with one server process and with
`spacecommons serve --workers N`. Reports requests/s, p50/p99 latency and the server's CPU time per
request (user + system of the server and its worker processes, which the machine's load inflates far
less than wall time) and, for a local PostgreSQL, its server's CPU per request (its backends share
the cores); the ratio of SQLite's req/s to PostgreSQL's per configuration. The baseline in the same
run is the same server answering one client, and, with `--baseline-commit`, the sources of that
commit serving the same database.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, benchmarks only)
screened over 6 hours at 5 km (~5,300 events), stored through the CLI; then the server answers
`GET /api/v1/screening/runs/1/events?limit=100` (`--pages first`, the issue's target) or pages at
random offsets (`--pages offset`) with an analyst's API key; rate limits raised (`create_app
(rate_per_second=1e6, ...)` for one process, SPACECOMMONS_RATE_LIMIT_PER_SECOND/BURST for `serve`).

Load generators: `wrk` (C, one thread; Debian package `wrk`; a Lua script sets the key header),
the default when it is installed, or `--generator python` (httpx/asyncio: it competes with the
server for the CPU, so on a small machine it measures itself as much as the server).

Usage: python benchmarks/api_load.py [--backends sqlite,postgresql] [--workers 1,2] [--clients 50]
       [--duration 15] [--warmup 2] [--pages first|offset] [--sqlite-db PATH] [--pg-url URL]
       [--baseline-commit COMMIT [--baseline-without-c-loop]] [--serve-args "--no-access-log"]
`--sqlite-db PATH` keeps the SQLite database between runs (the screening is stored once). `--pg-url`
uses a PostgreSQL database prepared by an earlier run; otherwise scripts/test-postgres starts a
throw-away server (SPACECOMMONS_PG_PORT). `--baseline-commit` extracts that commit's `src/` (git
archive) and serves the same database with it, right before the current sources, in every
configuration; `--baseline-without-c-loop` hides uvloop and httptools from the baseline (uvicorn then
falls back to asyncio and h11, as before they were dependencies).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = (
    next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.exists()), ROOT.parent / "shared")
    / "data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
)  # beside the checkout, or a worktree's parent
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the time the rows say they were written
EVENTS = "/api/v1/screening/runs/1/events"
SERVER_CODE = """
import sys, uvicorn
from spacecommons.service import create_app
uvicorn.run(create_app(sys.argv[1], rate_per_second=1e6, rate_burst=10**9), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""
WRK_LUA = """
wrk.headers["X-API-Key"] = os.getenv("WRK_KEY")
local pages, n = os.getenv("WRK_PAGES"), tonumber(os.getenv("WRK_EVENTS"))
request = function()
  if pages == "offset" then
    return wrk.format(nil, wrk.path .. "&offset=" .. math.random(0, math.max(0, n - 100)))
  end
  return wrk.format(nil, wrk.path)
end
"""


def issue_key(url: str) -> tuple[str, int]:
    """A fresh analyst key (a new partner each call) and the number of stored events."""
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import ConjunctionEvent

    app = create_app(url)
    name = f"bench{random.randrange(10**9)}"
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, name, NOW)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, name, "a", "analyst", NOW).id, NOW)
        n = s.query(ConjunctionEvent).count()
    app.state.engine.dispose()
    return key, n


def prepare(url: str, catalog: Path) -> tuple[str, int]:
    cli = [sys.executable, "-m", "spacecommons.cli.main"]
    subprocess.run([*cli, "catalog", "load", str(catalog), "--database-url", url], check=True, capture_output=True)
    events_csv = str(Path(tempfile.gettempdir()) / "api_load_events.csv")
    window = ["--start", "2022-01-22T00:00:00Z", "--days", "0.25", "--threshold-km", "5"]
    screen = [*cli, "screen", "--from-db", *window, "--out", events_csv, "--database-url", url]
    subprocess.run(screen, check=True, capture_output=True)
    return issue_key(url)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (uvicorn's workers)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def db_cpu_seconds(url: str) -> float:
    """User + system CPU seconds of a local PostgreSQL server behind ``url`` (its postmaster, found by
    the port on its command line, and its backends); 0 for SQLite, which runs inside the server. The
    PostgreSQL backends share the machine's cores with the server: their CPU per request is part of
    what a request costs."""
    if not url.startswith("postgresql"):
        return 0.0
    import psutil
    from sqlalchemy.engine import make_url

    port = str(make_url(url).port or 5432)
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmd = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and "-p" in cmd and cmd[cmd.index("-p") + 1 : cmd.index("-p") + 2] == [port]:
            # backends that exited (a pool's overflow connections closed) are in the postmaster's
            # children_* times: they are waited for by it
            t = proc.cpu_times()
            return cpu_seconds(proc.pid) + t.children_user + t.children_system
    return float("nan")  # not a local server (or not visible): the column says nan


async def hammer(base: str, key: str, n_events: int, requests: int, clients: int, pages: str):
    """The Python generator: ``requests`` requests over ``clients`` connections; (wall s, latencies s, errors)."""
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    rng = random.Random(1)
    for _ in range(requests):
        queue.put_nowait(rng.randrange(0, max(1, n_events - 100)) if pages == "offset" else 0)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                offset = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.perf_counter()
            try:
                r = await client.get(f"{base}{EVENTS}", params={"limit": 100, "offset": offset})
                r.raise_for_status()
            except httpx.HTTPError:  # a dropped connection or an error status counts, not its latency
                errors += 1
                continue
            latencies.append(time.perf_counter() - t)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers={"X-API-Key": key}, limits=limits, timeout=60) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return time.perf_counter() - t0, latencies, errors


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(base: str, key: str, n_events: int, clients: int, duration: float, pages: str, lua: Path) -> dict:
    """One wrk run: requests, req/s, p50/p99 ms, errors (non-2xx, socket errors, timeouts)."""
    env = dict(os.environ, WRK_KEY=key, WRK_PAGES=pages, WRK_EVENTS=str(n_events))
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{duration:g}s", "--timeout", "30s", "--latency", "-s", str(lua)]
    out = subprocess.run([*cmd, f"{base}{EVENTS}?limit=100"], env=env, capture_output=True, text=True, check=True)
    text = out.stdout
    quantile = {q: _ms(v) for q, v in re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
    n = int(re.search(r"(\d+) requests in", text).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    return {"n": n, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), "errors": errors} | {
        "p50": quantile["50"],
        "p99": quantile["99"],
    }


def run_python(base: str, key: str, n_events: int, clients: int, duration: float, pages: str) -> dict:
    n = max(100, int(duration * (20 if clients == 1 else 60)))
    wall, lat, errors = asyncio.run(hammer(base, key, n_events, n, clients, pages))
    q = statistics.quantiles(lat, n=100)
    return {"n": len(lat), "rps": len(lat) / wall, "p50": q[49] * 1000, "p99": q[98] * 1000, "errors": errors}


def serve(url: str, workers: int, pythonpath: str, serve_args: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=pythonpath)
    if workers == 1:
        cmd = [sys.executable, "-c", SERVER_CODE, url, str(port)]
    else:
        env |= {"SPACECOMMONS_RATE_LIMIT_PER_SECOND": "1000000", "SPACECOMMONS_RATE_LIMIT_BURST": "1000000000"}
        cmd = [sys.executable, "-m", "spacecommons.cli.main", "serve", "--workers", str(workers), "--port", str(port)]
        cmd += [*serve_args, "--database-url", url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/api/v1/health", timeout=1)
            return proc, base
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {' '.join(cmd)}") from None
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def baseline_sources(commit: str, tmp: Path, without_c_loop: bool) -> str:
    """PYTHONPATH for ``commit``'s ``src/`` (and, with ``without_c_loop``, a directory that hides
    uvloop and httptools, so that uvicorn runs on asyncio and h11 as it did before they were dependencies)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], check=True, capture_output=True)
    dest = tmp / f"src-{commit[:12]}"
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    paths = [str(dest / "src")]
    if without_c_loop:
        hide = tmp / "hide-c-loop"
        for name in ("uvloop", "httptools"):
            (hide / name).mkdir(parents=True, exist_ok=True)
            (hide / name / "__init__.py").write_text(f"raise ImportError('{name} hidden for the baseline')\n")
        paths.insert(0, str(hide))
    return os.pathsep.join(paths)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--workers", default="1,2", help="comma-separated server process counts, e.g. 1,2")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per measurement (wrk)")
    ap.add_argument("--pages", choices=("first", "offset"), default="first")
    ap.add_argument(
        "--warmup",
        type=float,
        default=0.0,
        help="seconds of unmeasured wrk load first, on --clients connections: "
        "reaches every worker (each verifies the key once, argon2) before the measurement",
    )
    ap.add_argument("--generator", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python")
    ap.add_argument("--sqlite-db", type=Path, help="keep the SQLite database here between runs")
    ap.add_argument("--pg-url", help="a PostgreSQL database prepared by an earlier run")
    ap.add_argument("--baseline-commit", help="also serve the same database with this commit's sources")
    ap.add_argument("--baseline-without-c-loop", action="store_true")
    ap.add_argument("--baseline-backends", default="sqlite,postgresql", help="backends the baseline runs on")
    ap.add_argument("--serve-args", default="", help="extra options of `spacecommons serve` (workers > 1)")
    args = ap.parse_args()
    catalog = Path(os.environ.get("SPACECOMMONS_CATALOG", SNAPSHOT))
    if not catalog.exists() and not (args.sqlite_db and args.sqlite_db.exists()):
        print(f"missing {catalog}", file=sys.stderr)
        return 2
    rows = []
    tmp = Path(tempfile.mkdtemp())
    lua = tmp / "events.lua"
    lua.write_text(WRK_LUA)
    sources = [("this", str(ROOT / "src"))]
    if args.baseline_commit:
        sources.insert(
            0, (args.baseline_commit[:7], baseline_sources(args.baseline_commit, tmp, args.baseline_without_c_loop))
        )
    pg_started = False
    print(f"generator: {args.generator}; load average at the start: {os.getloadavg()}", flush=True)
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{args.sqlite_db or tmp / 'load.db'}"
                prepared = args.sqlite_db is not None and args.sqlite_db.exists()
            else:
                url = args.pg_url
                if url is None:
                    script = str(ROOT / "scripts/test-postgres")
                    url = subprocess.run([script, "start"], check=True, capture_output=True, text=True).stdout.strip()
                    pg_started = True
                prepared = args.pg_url is not None
            t = time.perf_counter()
            key, n_events = issue_key(url) if prepared else prepare(url, catalog)
            print(f"{backend}: {n_events} events stored, key issued in {time.perf_counter() - t:.0f} s", flush=True)
            for workers in (int(w) for w in args.workers.split(",")):
                for name, pythonpath in sources:
                    if name != "this" and backend not in args.baseline_backends.split(","):
                        continue
                    proc, base = serve(url, workers, pythonpath, args.serve_args.split() if name == "this" else [])
                    try:
                        for _ in range(3):  # the key's argon2 check and first queries
                            httpx.get(f"{base}{EVENTS}?limit=100", headers={"X-API-Key": key}, timeout=60)
                        if args.warmup > 0 and args.generator == "wrk":  # every worker, on many connections
                            run_wrk(base, key, n_events, args.clients, args.warmup, args.pages, lua)
                        for clients in (1, args.clients):
                            load = os.getloadavg()[0]
                            cpu0, db0 = cpu_seconds(proc.pid), db_cpu_seconds(url)
                            if args.generator == "wrk":
                                r = run_wrk(base, key, n_events, clients, args.duration, args.pages, lua)
                            else:
                                r = run_python(base, key, n_events, clients, args.duration, args.pages)
                            r["cpu_ms"] = (cpu_seconds(proc.pid) - cpu0) / max(1, r["n"]) * 1000
                            r["db_ms"] = (db_cpu_seconds(url) - db0) / max(1, r["n"]) * 1000
                            rows.append((name, backend, workers, clients, load, r))
                            print(rows[-1], flush=True)
                    finally:
                        proc.terminate()
                        proc.wait(20)
    finally:
        if pg_started:
            subprocess.run([str(ROOT / "scripts/test-postgres"), "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()}")
    print(f"\ngenerator: {args.generator}; pages: {args.pages}; {args.duration:g} s per row")
    print(
        "\n| sources | backend | workers | clients | load avg | requests | req/s | p50 ms | p99 ms | server CPU ms/req "
        "| database CPU ms/req | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for name, backend, workers, clients, load, r in rows:
        print(
            f"| {name} | {backend} | {workers} | {clients} | {load:.1f} | {r['n']} | {r['rps']:.0f} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {r['cpu_ms']:.2f} | {r['db_ms']:.2f} | {r['errors']} |"
        )
    for backend, workers in sorted({(r[1], r[2]) for r in rows}):
        got = {(r[0], r[3]): r[5] for r in rows if r[1:3] == (backend, workers)}
        many = got.get(("this", args.clients))
        if many and args.baseline_commit and (sources[0][0], args.clients) in got:
            old = got[(sources[0][0], args.clients)]
            print(
                f"{backend}, {workers} worker(s), {args.clients} clients: {many['rps'] / old['rps']:.1f}x the "
                f"baseline's req/s, {old['cpu_ms'] / many['cpu_ms']:.1f}x less server CPU per request"
            )
    for name in dict.fromkeys(r[0] for r in rows):
        for workers in sorted({r[2] for r in rows}):
            got = {(r[1], r[3]): r[5] for r in rows if r[0] == name and r[2] == workers}
            for clients in (1, args.clients):
                lite, pg = got.get(("sqlite", clients)), got.get(("postgresql", clients))
                if lite and pg:
                    print(
                        f"{name}, {workers} worker(s), {clients} client(s): SQLite {lite['rps']:.0f} / PostgreSQL "
                        f"{pg['rps']:.0f} req/s = {lite['rps'] / pg['rps']:.2f}x; CPU per request (server + "
                        f"database) {lite['cpu_ms']:.2f} vs {pg['cpu_ms'] + pg['db_ms']:.2f} ms"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
