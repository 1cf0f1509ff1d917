"""Benchmark (issue #18, target 3): a synthetic future catalog of 25k/50k/100k objects screened
all-vs-all through dask.distributed, with each worker's peak memory and the growth exponent.

Workload: the 2022-01-22 catalog snapshot + the mega-constellation shells of
``spacecommons.sustainability.synthetic.SHELLS`` + NASA-breakup-model debris, a population of
``--population`` objects (default 100,000) of which each size is a seeded uniform draw (same mix
at every size); 1 day from the synthetic epoch, 5 km, on a ``LocalCluster`` of ``--workers``
processes with one thread each and a 4 GiB memory limit per worker (Dask restarts a worker that
reaches 95% of it, so a finished run also proves the bound). Each size gets a fresh cluster
(its start is not timed), so each starts from empty workers.

Memory: each worker process's RSS is sampled every 0.2 s with psutil (the same number Dask's
worker memory metric reports), the peak per worker is kept.

Identity: on the smallest size the same payload and parameters also run on the local process
pool (``workers=``); both event lists must be equal (pair, TCA, miss to 1e-9 km, kind).

Needs ../shared/data/tle/catalog_snapshots/ (or SPACECOMMONS_CATALOG=path); Space-Track-sourced,
so it is read from there and never copied into the project.

    python benchmarks/screen_dask.py [--sizes 25000,50000,100000] [--days 1] [--days-largest D]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.sustainability.synthetic import synthesize
from spacecommons.timescales import datetime_to_jd

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
GIB = 2**30


class PeakRss:
    """Samples the RSS of a set of processes in a thread; ``peaks`` is the largest seen per pid."""

    def __init__(self, pids: list[int], every_s: float = 0.2) -> None:
        self.procs = {pid: psutil.Process(pid) for pid in pids}
        self.peaks = dict.fromkeys(pids, 0)
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, proc in self.procs.items():
                with contextlib.suppress(psutil.Error):  # a worker that exits between samples
                    self.peaks[pid] = max(self.peaks[pid], proc.memory_info().rss)
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def rows(events) -> list[tuple]:
    return [(e.id1, e.id2, e.tca, round(e.miss_km, 9), e.kind) for e in events]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.environ.get("SPACECOMMONS_CATALOG", str(DEFAULT)))
    ap.add_argument("--sizes", default="25000,50000,100000")
    ap.add_argument("--population", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--days-largest", type=float, default=None, help="a shorter window for the largest size")
    ap.add_argument("--chunk-days", type=float, default=0.5)
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="4GiB")
    ap.add_argument("--skip-pool", action="store_true", help="no local-pool identity check")
    args = ap.parse_args()
    path = Path(args.catalog)
    if not path.exists():
        print(f"needs the catalog snapshot {path} or SPACECOMMONS_CATALOG=path", file=sys.stderr)
        return 2
    from dask.distributed import Client, LocalCluster

    sizes = [int(s) for s in args.sizes.split(",")]
    records, _ = latest_per_object(read_elements(path).records)
    print(
        f"# {path.name}: {len(records)} objects; population {args.population}, seed {args.seed}; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"LocalCluster {args.workers} workers x 1 thread, memory limit {args.memory_limit} each"
    )
    results = []
    for n in sizes:
        clock = time.perf_counter()
        syn = synthesize(records, n, args.seed, population=args.population)
        build_s = time.perf_counter() - clock
        payload = CatalogPayload.from_elements(syn.elements)
        days = args.days_largest if (args.days_largest and n == max(sizes)) else args.days
        jd, fr = datetime_to_jd(syn.epoch)
        params = ScreeningParams(jd, fr, days, args.threshold_km, chunk_days=min(args.chunk_days, days))
        # a fresh cluster per size: every size starts from empty workers
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=args.memory_limit,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            pids = list(client.run(os.getpid).values())
            load0 = os.getloadavg()[0]
            with PeakRss(pids) as mem:
                res = screen(payload, params, dask_address=cluster.scheduler_address)
        peak = max(mem.peaks.values()) / GIB
        s = res.stats
        print(
            f"{n} objects ({syn.counts}; built in {build_s:.1f} s), {days:g} d: wall {s['wall_s']:.1f} s, "
            f"{len(res.events)} events, {len(res.failures)} not screened; peak worker RSS "
            f"{', '.join(f'{v / GIB:.2f}' for v in mem.peaks.values())} GiB; load average {load0:.2f} -> "
            f"{os.getloadavg()[0]:.2f}",
            flush=True,
        )
        print(
            f"  CPU per stage (summed over chunks): propagation {s['propagation_s']:.1f} s, bounds "
            f"{s.get('bounds_s', 0.0):.1f} s, broad phase {s['broad_phase_s']:.1f} s, narrow phase "
            f"{s['narrow_phase_s']:.1f} s, refinement {s['refinement_s']:.1f} s; merge {s['merge_s']:.1f} s",
            flush=True,
        )
        results.append((n, days, s["wall_s"], peak, len(res.events)))
        if n == min(sizes) and not args.skip_pool:
            clock = time.perf_counter()
            pooled = screen(payload, params, workers=args.workers)
            pool_s = time.perf_counter() - clock
            same = rows(pooled.events) == rows(res.events)
            print(
                f"  local pool ({args.workers} processes), same payload and params: wall {pool_s:.1f} s, "
                f"{len(pooled.events)} events; identical to Dask: {same}",
                flush=True,
            )
            if not same:
                return 1
    print("\n| objects | window (d) | wall (s) | peak RSS per worker (GiB) | events |\n|---|---|---|---|---|")
    for n, days, wall, peak, n_events in results:
        print(f"| {n:,} | {days:g} | {wall:.1f} | {peak:.2f} | {n_events:,} |")
    same_window = [(n, wall) for n, days, wall, _, _ in results if days == args.days]
    if len(same_window) >= 2:
        slope = np.polyfit(np.log([n for n, _ in same_window]), np.log([w for _, w in same_window]), 1)[0]
        print(f"\ngrowth exponent (least-squares slope of log wall vs log objects, {args.days:g} d runs): {slope:.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
