"""Benchmark: whole-catalog all-vs-all screening, and a brute-force baseline on a slice.

Workload (issue #2): the 2022-01-22 catalog snapshot (23,939 objects), all-vs-all, 7 days,
5 km, on this machine's cores. Baseline, in the same run, on a 6-hour slice: SatrecArray at
10 s steps, a scipy cKDTree pair query per step with the radius padded by how far two objects
can close in half a step, then the same SGP4 refinement as the engine; the engine runs on the
same slice and both event lists are compared.

Needs ../shared/data/tle/catalog_snapshots/ (or SPACECOMMONS_CATALOG=path); Space-Track-sourced,
so it is read from there and never copied into the project.

    python benchmarks/screen_catalog.py [--days 7] [--slice-hours 6] [--workers 2] [--skip-full]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.refine import refine_tca
from spacecommons.constants import SECONDS_PER_DAY
from spacecommons.propagation import propagate_satrecs
from spacecommons.timescales import iso_to_jd

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
START = "2022-01-22T00:00:00Z"


def baseline(payload: CatalogPayload, params: ScreeningParams, step_s: float = 10.0):
    """Brute force: SGP4 every step_s, cKDTree per step, SGP4 refinement of sampled minima."""
    sats = payload.satrecs()
    vmax = float(np.minimum(payload.max_speeds_km_s(), 11.0).max())
    radius = params.threshold_km + 2.0 * vmax * step_s / 2.0
    t = np.arange(0.0, params.duration_s + step_s / 2, step_s)
    flagged: dict[tuple[int, int], list[int]] = {}
    clock = time.perf_counter()
    prop = 0.0
    block = 60
    dist_cache: dict[tuple[int, int, int], float] = {}
    for b0 in range(0, t.size, block):
        tb = t[b0 : b0 + block]
        c0 = time.perf_counter()
        e, r, _ = propagate_satrecs(
            sats, np.full(tb.shape, params.start_jd), params.start_fr + tb / SECONDS_PER_DAY, payload.satrec_array()
        )
        prop += time.perf_counter() - c0
        for q in range(tb.size):
            good = np.flatnonzero(e[:, q] == 0)
            pairs = cKDTree(r[good, q]).query_pairs(radius, output_type="ndarray")
            for a, c in pairs:
                i, j = int(good[a]), int(good[c])
                if i > j:
                    i, j = j, i
                flagged.setdefault((i, j), []).append(b0 + q)
                dist_cache[(i, j, b0 + q)] = float(np.linalg.norm(r[good[c], q] - r[good[a], q]))
    pair_time = time.perf_counter() - clock - prop
    clock = time.perf_counter()
    minima = []
    for (i, j), steps in flagged.items():
        for q in steps:
            d = dist_cache[(i, j, q)]
            before = dist_cache.get((i, j, q - 1), np.inf)
            after = dist_cache.get((i, j, q + 1), np.inf)
            if d <= before and d < after:
                out = refine_tca(sats[i], sats[j], params.start_jd, params.start_fr, t[q], step_s)
                if out and out[1] < params.threshold_km and 0.0 <= out[0] < params.duration_s:
                    minima.append((payload.norad_ids[i], payload.norad_ids[j], out[0], out[1]))
    refine = time.perf_counter() - clock
    return minima, {"propagation_s": prop, "pairs_s": pair_time, "refinement_s": refine}


def tca_tolerance_s(miss_km: float, speed_km_s: float) -> float:
    """1 ms, or the time in which a slow pair's distance changes by 1 micrometre (tests/test_screen.py)."""
    return max(1e-3, np.sqrt(2.0 * miss_km * 1e-9) / max(speed_km_s, 1e-9))


def compare(events, minima) -> tuple[int, int]:
    """(baseline minima not covered by an engine event, engine events with no baseline minimum)."""
    by_pair: dict[tuple[int, int], list] = {}
    for e in events:
        by_pair.setdefault((min(e.id1, e.id2), max(e.id1, e.id2)), []).append(e)
    missed = 0
    covered = set()
    for a, b, t, miss in minima:
        evs = by_pair.get((min(a, b), max(a, b)), [])
        hit = [e for e in evs if abs(e.tca_s - t) < tca_tolerance_s(miss, e.speed_km_s) or e.kind == "proximity"]
        if not hit:
            missed += 1
            near = min(evs, key=lambda e: abs(e.tca_s - t), default=None)
            print(
                f"  baseline minimum not in engine: {a}-{b} t={t:.4f} s miss={miss:.6f} km; nearest engine "
                f"event: {near and (round(near.tca_s, 4), round(near.miss_km, 6), near.speed_km_s, near.kind)}"
            )
        covered.update(id(e) for e in hit)
    extra = [e for e in events if id(e) not in covered]
    for e in extra:
        print(
            f"  engine event not in baseline: {e.id1}-{e.id2} t={e.tca_s:.4f} s miss={e.miss_km:.6f} km "
            f"v={e.speed_km_s:.4f} km/s {e.kind}"
        )
    return missed, len(extra)


def peak_rss_gib() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return me, kids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.environ.get("SPACECOMMONS_CATALOG", str(DEFAULT)))
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--slice-hours", type=float, default=6.0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-slice", action="store_true", help="no baseline comparison (it takes minutes)")
    args = ap.parse_args()
    path = Path(args.catalog)
    if not path.exists():
        print(
            f"needs the catalog snapshot {path} (../shared/data/tle/catalog_snapshots/) or SPACECOMMONS_CATALOG=path",
            file=sys.stderr,
        )
        return 2
    parsed = read_elements(path)
    records, dupes = latest_per_object(parsed.records)
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd(START)
    print(
        f"# {path.name}: {len(payload)} objects ({len(parsed.issues)} bad records, {len(dupes)} duplicates); "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, workers={args.workers}"
    )
    rows = []
    if not args.skip_full:
        params = ScreeningParams(jd, fr, args.days, args.threshold_km)
        res = screen(payload, params, workers=args.workers)
        s = res.stats
        me, kids = peak_rss_gib()
        rows.append((f"engine, {args.days:g} d all-vs-all", s["wall_s"], s))
        print(
            f"full run: wall {s['wall_s']:.1f} s, events {len(res.events)} "
            f"({sum(e.kind == 'proximity' for e in res.events)} proximity spans), SGP4 failures {len(res.failures)}"
        )
        print(
            f"  CPU time per stage (summed over workers): propagation {s['propagation_s']:.1f} s, "
            f"error bounds {s.get('bounds_s', 0.0):.1f} s, broad phase {s['broad_phase_s']:.1f} s, "
            f"narrow phase {s['narrow_phase_s']:.1f} s, refinement {s['refinement_s']:.1f} s; "
            f"merge (main process) {s['merge_s']:.1f} s"
        )
        print(
            f"  peak RSS: main {me:.2f} GiB, largest worker {kids:.2f} GiB "
            f"(bound on the total: {me + args.workers * kids:.2f} GiB)"
        )
    if args.skip_slice:
        return 0
    days = args.slice_hours / 24.0
    params = ScreeningParams(jd, fr, days, args.threshold_km, chunk_days=days / max(1, args.workers))
    clock = time.perf_counter()
    res = screen(payload, params, workers=args.workers)
    engine_s = time.perf_counter() - clock
    clock = time.perf_counter()
    minima, bstats = baseline(payload, params)
    base_s = time.perf_counter() - clock
    missed, extra = compare(res.events, minima)
    print(
        f"\n| workload | engine (s) | baseline (s) | ratio |\n|---|---|---|---|\n"
        f"| {len(payload)} objects, {args.slice_hours:g} h, {args.threshold_km:g} km | {engine_s:.1f} | "
        f"{base_s:.1f} | {base_s / engine_s:.1f}x |"
    )
    print(
        f"\nslice: engine {len(res.events)} events, baseline {len(minima)} minima; baseline minima missed by "
        f"engine: {missed}; engine events without a baseline minimum: {extra}"
    )
    print(
        f"baseline stages: propagation {bstats['propagation_s']:.1f} s, cKDTree pairs {bstats['pairs_s']:.1f} s, "
        f"refinement {bstats['refinement_s']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
