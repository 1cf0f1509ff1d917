"""Dashboard benchmark (issue #19): a run with 160,000 conjunction events (the size of a full-catalog
week) lists its first page in the browser in under 1 s.

Workload: the bundled Iridium 33 debris sample (332 objects) as the run's input catalog and
160,000 synthetic events between its objects (miss 0-10 km, TCA spread over 7 days, seeded),
inserted in bulk into SQLite; `spacecommons` served by one uvicorn process; Debian's Chromium
(Playwright, headless, software WebGL) opens `/#safety?run=1`. Measured: from navigation start to
the first event rows in the table (a MutationObserver records performance.now()), five fresh page
loads after one that warms the server up, each waiting for the run summary before the next, median
and worst. In the same run, over HTTP: the first page (keyset, 50 rows + total
count), the first page sorted by Pc, the run summary (its first request, then from the per-run cache),
and a page 150,000 rows deep by keyset (`after`) against the same page by
`offset` (the baseline: what old clients do).

Usage: python benchmarks/dashboard_first_page.py [--events 160000] [--loads 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import httpx

SAMPLE = Path(str(files("spacecommons") / "data" / "sample"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
T0 = datetime(2021, 10, 2, tzinfo=UTC)
SERVER_CODE = """
import sys, uvicorn
from spacecommons.service import create_app
uvicorn.run(create_app(sys.argv[1], rate_per_second=1e6, rate_burst=10**9), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""
FIRST_ROWS = """
window.scFirstRows = null;
new MutationObserver((_, observer) => {
  if (document.querySelector('#events tbody tr')) {
    window.scFirstRows = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def prepare(url: str, n_events: int) -> int:
    """The run and its events, written straight into the database (bulk insert)."""
    from sqlalchemy import insert

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.storage.catalog_repo import store_elements
    from spacecommons.storage.screening_repo import create_run
    from spacecommons.storage.tables import ConjunctionEvent, ScreeningRun
    from spacecommons.timescales import iso_to_jd

    engine = make_engine(url)
    upgrade(engine)
    parsed = read_elements(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt")
    payload = CatalogPayload.from_elements(parsed.records)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    rng = random.Random(19)
    objects = list(zip(payload.norad_ids, payload.names, strict=True))
    with session_factory(engine).begin() as s:
        store_elements(s, parsed.records, NOW)
        run_id = create_run(s, ScreeningParams(jd, fr, 7.0, 10.0), payload, NOW)
        rows = []
        for _ in range(n_events):
            (i1, n1), (i2, n2) = rng.sample(objects, 2)
            r, t, n = (rng.uniform(-5, 5) for _ in range(3))
            rows.append(
                {
                    "run_id": run_id, "id1": i1, "name1": n1, "id2": i2, "name2": n2,
                    "tca": T0 + timedelta(seconds=rng.uniform(0, 7 * 86400)),
                    "miss_km": (r * r + t * t + n * n) ** 0.5, "speed_km_s": rng.uniform(0, 15),
                    "r_km": r, "t_km": t, "n_km": n, "kind": "synthetic", "n_minima": 1,
                    "pc": None if rng.random() < 0.5 else 10 ** rng.uniform(-12, -2), "pc_method": None,
                }
            )  # fmt: skip
        s.execute(insert(ConjunctionEvent), rows)
        run = s.get(ScreeningRun, run_id)
        run.status, run.n_events = "done", n_events
    engine.dispose()
    return run_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(client: httpx.Client, path: str, repeat: int = 5) -> tuple[float, httpx.Response]:
    times, r = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get(path)
        times.append(time.perf_counter() - t)
        r.raise_for_status()
    return statistics.median(times), r


def browser_loads(base: str, run_id: int, loads: int) -> tuple[float, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("SPACECOMMONS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    out, first = [], None
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--enable-unsafe-swiftshader"]
        )
        for k in range(loads + 1):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(120_000)
            page.add_init_script(FIRST_ROWS)
            page.goto(f"{base}/#safety?run={run_id}")
            page.wait_for_function("() => window.scFirstRows !== null")
            if k:  # the first load warms the server and the browser's cache up, as any earlier visit would
                out.append(page.evaluate("window.scFirstRows") / 1000.0)
            else:  # reported apart: the first visit of a run (its summary not yet computed, nothing cached)
                first = page.evaluate("window.scFirstRows") / 1000.0
            # the page is done when its summary is drawn: the next load does not share the server with it
            page.wait_for_function("() => document.querySelectorAll('#miss-bands rect.bar').length === 5")
            page.close()
        browser.close()
    return first, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=160_000)
    ap.add_argument("--loads", type=int, default=5)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dash_bench_"))
    url = f"sqlite:///{folder / 'bench.db'}"
    t = time.perf_counter()
    run_id = prepare(url, args.events)
    print(f"prepared {args.events} events in {time.perf_counter() - t:.1f} s")
    port = _free_port()
    env = {**os.environ, "SPACECOMMONS_DATA_DIR": str(folder)}
    server = subprocess.Popen([sys.executable, "-c", SERVER_CODE, url, str(port)], env=env, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(600):
                try:
                    if client.get("/api/v1/screening/runs").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            events = f"/api/v1/screening/runs/{run_id}/events"
            first, r = _timed(client, f"{events}?limit=50")
            assert int(r.headers["x-total-count"]) == args.events
            t = time.perf_counter()
            client.get(f"/api/v1/screening/runs/{run_id}/summary").raise_for_status()
            summary_cold = time.perf_counter() - t  # computed (the cache is per process and empty)
            summary, _ = _timed(client, f"/api/v1/screening/runs/{run_id}/summary")  # from the cache
            by_pc, r = _timed(client, f"{events}?limit=50&sort=pc")
            assert int(r.headers["x-total-count"]) == args.events
            deep = args.events - 10_000
            offset_t, by_offset = _timed(client, f"{events}?limit=50&offset={deep}", 3)
            cursor = client.get(f"{events}?limit=1&offset={deep - 1}").headers["x-next-after"]
            keyset_t, by_keyset = _timed(client, f"{events}?limit=50&after={cursor}", 3)
            assert by_offset.json() == by_keyset.json()  # the same rows either way
        cold, loads = browser_loads(base, run_id, args.loads)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()  # a connection held open (the browser's) keeps uvicorn waiting
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)
        Path(f"{folder}.secret-key").unlink(missing_ok=True)  # the server's generated key, beside its data
    table = [
        (f"browser: first rows of a {args.events}-event run (median)", statistics.median(loads), None),
        (f"browser: first rows, worst of {args.loads} loads", max(loads), None),
        ("browser: first rows, the run's first visit (server just started)", cold, None),
        ("API: first page, 50 rows + total count", first, None),
        ("API: run summary, first request (counted in SQL)", summary_cold, None),
        ("API: run summary again (cached per run version)", summary, None),
        ("API: first page sorted by Pc (index of migration 0017)", by_pc, None),
        (f"API: page {deep} rows deep, keyset (ours) vs offset", keyset_t, offset_t),
    ]
    print(f"\n{'workload':58s} {'ours':>9s} {'baseline':>9s} {'ratio':>7s}")
    for name, ours, baseline in table:
        tail = "" if baseline is None else f" {baseline:8.3f}s {baseline / ours:6.1f}x"
        print(f"{name:58s} {ours:8.3f}s{tail}")
    verdict = "PASS" if statistics.median(loads) < 1.0 else "FAIL"
    print(f"\nfirst page under 1 s in the browser: {verdict}")


if __name__ == "__main__":
    main()
