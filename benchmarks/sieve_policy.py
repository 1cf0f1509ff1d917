"""Where the incremental sieve pays (issue #18, target 2): `update_run`'s two engine paths on the same
changed objects, in one process, one after the other: the sieve + the screening of what it keeps,
against the changed objects screened against every object over the whole window (the path taken
above ``workflows.screening.SIEVE_MAX_CHANGED``). Their events are compared row for row. Wall and
CPU time (user + sys of this process) per path; the basis for ``SIEVE_MAX_CHANGED``.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, benchmarks only),
5 km, from 2022-01-22T00:00:00Z; new element sets as in `screen_stages.py` (every 1/fraction-th
object, mean anomaly moved 0.5 deg).

    python benchmarks/sieve_policy.py [--days 1] [--fractions 0.001,0.005,0.01] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import ScreeningParams
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.incremental import screen_segments
from spacecommons.conjunction.sieve import sieve
from spacecommons.timescales import iso_to_jd
from spacecommons.workflows.screening import _subset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screen_stages import DEFAULT, START, shifted, warm_up  # noqa: E402


def timed(fn, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def rows(events):
    return sorted((e.id1, e.id2, e.tca, round(e.miss_km, 9), e.kind, e.n_minima) for e in events)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--fractions", default="0.001,0.005,0.01")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_CATALOG", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, args.days, 5.0)
    warm_up(payload, params)
    print(f"{len(payload)} objects, {args.days} d, {args.workers} worker(s), load average {os.getloadavg()[0]:.1f}")
    print(
        "\n| changed | without sieve: wall / CPU (s) | with sieve: sieve + screening wall (s) | with: CPU (s) "
        "| speed-up (wall / CPU) | kept objects, states | events equal | load |\n|---|---|---|---|---|---|---|---:|"
    )
    for fraction in (float(f) for f in args.fractions.split(",")):
        merged, updated = payload.updated_with(shifted(payload, fraction))
        changed = np.flatnonzero(np.isin(np.asarray(merged.norad_ids), np.asarray(updated, dtype=np.int64)))
        prim = replace(params, primaries=updated)
        every = np.ones((len(merged), params.n_segments), dtype=bool)
        off, w_off, c_off = timed(screen_segments, merged, prim, every, workers=args.workers)
        sats = _subset(merged, changed).satrecs()
        d_km, step = params.threshold_km, params.step_s
        found, w_sv, c_sv = timed(sieve, merged.texts, sats, changed, jd, fr, args.days, d_km, step)
        keep = np.flatnonzero(found.keep)
        on, w_on, c_on = timed(screen_segments, _subset(merged, keep), prim, found.segments[keep], workers=args.workers)
        share = found.segments.sum() / found.segments.size
        print(
            f"| {changed.size} ({fraction:.1%}) | {w_off:.1f} / {c_off:.1f} | {w_sv:.1f} + {w_on:.1f} = "
            f"{w_sv + w_on:.1f} | {c_sv:.1f} + {c_on:.1f} = {c_sv + c_on:.1f} | "
            f"{w_off / (w_sv + w_on):.2f}x / {c_off / (c_sv + c_on):.2f}x | {keep.size:,}, {share:.1%} | "
            f"{rows(on.events) == rows(off.events)} ({len(on.events)}) | {os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
