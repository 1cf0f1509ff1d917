"""The incremental sieve's stated margins against SGP4 on a whole catalog (issue #18, target 2).

For every object the sieve gives a model path (``conjunction.sieve.path_geometry``), SGP4 is sampled
every --sample-s seconds over the window and each position's distance from the model path and its
slip along it are compared with the stated margin and slip. Prints the largest ratios (must stay
below 1: the sieve's conservativeness rests on it) and the objects closest to their margins.

Workload: the 2022-01-22 catalog snapshot (Space-Track-sourced, benchmarks only), from
2022-01-22T00:00:00Z for --days.

    python benchmarks/sieve_margins.py [--days 0.25] [--sample-s 60] [--stride 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import sieve as sv
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.timescales import iso_to_jd

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
START = "2022-01-22T00:00:00Z"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=0.25)
    ap.add_argument("--sample-s", type=float, default=60.0)
    ap.add_argument("--stride", type=int, default=1, help="check every n-th object")
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_CATALOG", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd(START)
    clock = time.perf_counter()
    el = sv.mean_elements(payload.texts)
    geom = sv.path_geometry(el, jd, fr, args.days)
    model_s = time.perf_counter() - clock
    objects = np.flatnonzero(~geom.shell_only)[:: args.stride]
    sats = payload.satrecs()
    t = np.append(np.arange(0.0, args.days * 86400.0, args.sample_s), args.days * 86400.0)
    mids, half = sv.sub_windows(jd, fr, args.days)
    dev = np.full(objects.size, np.nan)
    slip = np.full(objects.size, np.nan)
    for part in np.array_split(np.arange(objects.size), max(1, objects.size // 1000)):
        idx = objects[part]
        err, r, _ = propagate_satrecs([sats[i] for i in idx], np.full(t.shape, jd), fr + t / 86400.0)
        fields = ("p_km", "ecc", "rp_km", "ra_km", "margin_km", "slip", "node_rate", "argp_rate", "shell_only")
        sub = geom.replace(
            pq=geom.pq[:, idx], m_w=geom.m_w[:, idx], n_w=geom.n_w[:, idx], **{f: getattr(geom, f)[idx] for f in fields}
        )
        d, s = sv.path_deviation(sub, np.where((err == 0)[..., None], r, np.nan), t, mids, half)
        dev[part], slip[part] = d, s
    good = np.isfinite(dev)
    ratio = dev[good] / geom.margin_km[objects][good]
    slip_ratio = slip[good] / geom.slip[objects][good]
    print(
        f"{len(payload)} objects, {int((~geom.shell_only).sum())} with a model path ({objects.size} checked, "
        f"{int((~good).sum())} with an SGP4 error in the window), {args.days} d, SGP4 every {args.sample_s:g} s; "
        f"model for the whole catalog {model_s:.2f} s; load average {os.getloadavg()[0]:.1f}"
    )
    print("\n| quantity | median | 99th percentile | max | median stated margin |\n|---|---:|---:|---:|---:|")
    print(
        f"| distance from path / margin | {np.median(ratio):.3f} | {np.percentile(ratio, 99):.3f} | "
        f"{ratio.max():.3f} | {np.median(geom.margin_km[objects]):.1f} km |"
    )
    print(
        f"| slip along path / stated slip | {np.median(slip_ratio):.3f} | {np.percentile(slip_ratio, 99):.3f} | "
        f"{slip_ratio.max():.3f} | {np.median(geom.slip[objects]) * 1e3:.2f} mrad |"
    )
    ids = np.asarray(payload.norad_ids)[objects][good]
    for name, r in (("distance", ratio), ("slip", slip_ratio)):
        worst = np.argsort(-r)[:3]
        print(f"closest to their {name} margin: " + ", ".join(f"{ids[k]} ({r[k]:.2f})" for k in worst))
    return 0 if ratio.max() < 1.0 and slip_ratio.max() < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
