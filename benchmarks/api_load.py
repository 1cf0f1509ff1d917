"""Load benchmark (issue #5): 50 concurrent clients listing conjunction events of a whole-catalog
screening run over loopback, on SQLite and on PostgreSQL. Reports requests/s and p50/p99 latency;
the baseline in the same run is one client issuing the same requests one after the other.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, benchmarks only)
screened over 6 hours at 5 km (~5,000 events), stored through the CLI; then `spacecommons serve`
(one uvicorn process) answers `GET /api/v1/screening/runs/1/events?limit=100&offset=k` with an
analyst's API key (rate limit raised for the benchmark).

Usage: python benchmarks/api_load.py [--requests 2000] [--clients 50] [--backends sqlite,postgresql]
       [--workers 1,2] [--sqlite-db PATH]
`--workers 1` is one uvicorn process in this benchmark's own runner; `--workers N` (N > 1) is
`spacecommons serve --workers N` with the rate limits raised through SPACECOMMONS_RATE_LIMIT_PER_SECOND
and SPACECOMMONS_RATE_LIMIT_BURST. `--sqlite-db PATH` keeps the SQLite database between runs (the
screening is stored once; later runs only issue a new key).
PostgreSQL comes from scripts/test-postgres (installed and started when missing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT.parent / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the time the rows say they were written
SERVER_CODE = """
import sys, uvicorn
from spacecommons.service import create_app
uvicorn.run(create_app(sys.argv[1], rate_per_second=1e6, rate_burst=10**9), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
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
    subprocess.run(
        [
            *cli,
            "screen",
            "--from-db",
            "--start",
            "2022-01-22T00:00:00Z",
            "--days",
            "0.25",
            "--threshold-km",
            "5",
            "--out",
            events_csv,
            "--database-url",
            url,
        ],
        check=True,
        capture_output=True,
    )
    return issue_key(url)


async def hammer(base: str, key: str, n_events: int, requests: int, clients: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    errors: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    rng = random.Random(1)
    for _ in range(requests):
        queue.put_nowait(rng.randrange(0, max(1, n_events - 100)))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            try:
                offset = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.perf_counter()
            try:
                r = await client.get(f"{base}/api/v1/screening/runs/1/events", params={"limit": 100, "offset": offset})
                r.raise_for_status()
            except httpx.TransportError:  # a dropped connection counts as an error, not a latency
                errors.append(offset)
                continue
            latencies.append(time.perf_counter() - t)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers={"X-API-Key": key}, limits=limits, timeout=60) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        if errors:
            print(f"{len(errors)} of {requests} requests failed (connection dropped)", flush=True)
        return time.perf_counter() - t0, latencies


def serve(url: str, workers: int = 1) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if workers == 1:
        proc = subprocess.Popen([sys.executable, "-c", SERVER_CODE, url, str(port)])
    else:
        env = dict(os.environ, SPACECOMMONS_RATE_LIMIT_PER_SECOND="1000000", SPACECOMMONS_RATE_LIMIT_BURST="1000000000")
        cmd = [sys.executable, "-m", "spacecommons.cli.main", "serve", "--workers", str(workers), "--port", str(port)]
        proc = subprocess.Popen([*cmd, "--database-url", url], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/api/v1/health", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--workers", default="1", help="comma-separated server process counts, e.g. 1,2")
    ap.add_argument("--sqlite-db", type=Path, help="keep the SQLite database here between runs")
    args = ap.parse_args()
    catalog = Path(os.environ.get("SPACECOMMONS_CATALOG", SNAPSHOT))
    if not catalog.exists():
        print(f"missing {catalog}", file=sys.stderr)
        return 2
    rows = []
    tmp = Path(tempfile.mkdtemp())
    pg = None
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{args.sqlite_db or tmp / 'load.db'}"
            else:
                pg = subprocess.run(
                    [str(ROOT / "scripts/test-postgres"), "start"], check=True, capture_output=True, text=True
                ).stdout.strip()
                url = pg
            t = time.perf_counter()
            if backend == "sqlite" and args.sqlite_db and args.sqlite_db.exists():
                key, n_events = issue_key(url)
            else:
                key, n_events = prepare(url, catalog)
            print(f"{backend}: {n_events} events stored in {time.perf_counter() - t:.0f} s", flush=True)
            for workers in (int(w) for w in args.workers.split(",")):
                proc, base = serve(url, workers)
                try:
                    for clients in (1, args.clients):
                        n = args.requests if clients > 1 else max(200, args.requests // 10)
                        wall, lat = asyncio.run(hammer(base, key, n_events, n, clients))
                        q = statistics.quantiles(lat, n=100)
                        rows.append((backend, workers, clients, n, len(lat) / wall, q[49] * 1000, q[98] * 1000))
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        if pg:
            subprocess.run([str(ROOT / "scripts/test-postgres"), "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("\n| backend | workers | clients | requests | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.0f} | {r[5]:.1f} | {r[6]:.1f} |")
    for backend, workers in sorted({(r[0], r[1]) for r in rows}):
        one = next(r for r in rows if r[:2] == (backend, workers) and r[2] == 1)
        many = next(r for r in rows if r[:2] == (backend, workers) and r[2] > 1)
        print(f"{backend}, {workers} worker(s): throughput {many[4] / one[4]:.2f}x the single-client baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
