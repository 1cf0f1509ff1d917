"""Co-located groups in the whole 2022-01-22 catalog (issue 14): each group once, with its members.

    python benchmarks/colocated_2022.py [--days 1] [--colocated-km 1]

Needs ``../shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt`` (Space-Track-sourced,
read in place, never copied) or ``SPACECOMMONS_CATALOG=path``. Prints every group (members with
names), then a table: the workload, our time, the baseline's time (SGP4 of every object at every
10-minute sample and a k-d tree pair query at each, intersected) and the ratio, and whether both
found the same pairs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"


def baseline_pairs(payload, params) -> set[tuple[int, int]]:
    """Every sample of the whole catalog, pairs within the distance at all of them."""
    from scipy.spatial import cKDTree

    from spacecommons.conjunction.colocated import _times
    from spacecommons.propagation.sgp4_batch import propagate_satrecs
    from spacecommons.timescales import normalize_jd

    t = _times(params)
    jd, fr = normalize_jd(np.full(t.shape, params.start_jd), params.start_fr + t / 86400.0)
    e, r, _ = propagate_satrecs(payload.satrecs(), jd, fr, payload.satrec_array())
    ok = np.flatnonzero((e == 0).all(axis=1))
    pairs = None
    for k in range(t.size):
        found = cKDTree(r[ok, k]).query_pairs(params.colocation_km, output_type="ndarray")
        now = {(int(ok[a]), int(ok[b])) for a, b in found}
        now = {(min(p), max(p)) for p in now}
        pairs = now if pairs is None else pairs & now
    return pairs or set()


def main() -> None:
    from spacecommons.catalog import latest_per_object, read_elements
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.colocated import colocated_pairs, groups
    from spacecommons.timescales import iso_to_jd

    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--colocated-km", type=float, default=1.0)
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_CATALOG", DEFAULT))
    if not path.exists():
        sys.exit(f"needs the 2022-01-22 catalog snapshot at {path} (or SPACECOMMONS_CATALOG=path)")
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    params = ScreeningParams(jd, fr, args.days, 5.0, colocated_km=args.colocated_km)
    payload.satrecs()
    clock = time.perf_counter()
    pairs = colocated_pairs(payload, params)
    ours = time.perf_counter() - clock
    comps = groups(pairs)
    for comp in comps:
        names = ", ".join(f"{payload.norad_ids[i]} {payload.names[i]}" for i in comp)
        print(f"group of {len(comp)}: {names}")
    clock = time.perf_counter()
    base = baseline_pairs(payload, params)
    theirs = time.perf_counter() - clock
    print()
    print("| workload | ours (s) | baseline (s) | ratio | groups | pairs (ours / baseline) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {len(payload):,} objects, {args.days:g} d from 2022-01-22, {params.colocation_km:g} km "
        f"| {ours:.1f} | {theirs:.1f} | {theirs / ours:.1f}x | {len(comps)} | {len(pairs)} / {len(base)} |"
    )
    assert set(pairs) == base, "the baseline found other pairs"


if __name__ == "__main__":
    main()
