"""The all-vs-all broad phase alone, this tree against another tree's kernel (issue #18, target 1).

One chunk of the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, read in place,
benchmarks only), 5 km, from 2022-01-22T00:00:00Z: SGP4 states, bounds and pads as
``screen_chunk`` computes them, then ``kernels.radial_shells`` and ``kernels.screen_broad_phase``
(the all-vs-all kernel; in a tree whose kernel takes ``use_shells``, one call doing both) on the
first ``--segments`` segments, one thread, CPU time of this process. The two kernels run alternately
in the same process (``--repeat`` times each) and must give the same set of candidate (i, j, segment)
triples.

    python benchmarks/screen_broad_phase.py --before-src ../main/src [--segments 144] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import ScreeningParams, kernels
from spacecommons.conjunction.bounds import VELOCITY_SAMPLES, velocity_mismatch_km_s
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.params import ChunkResult
from spacecommons.constants import SECONDS_PER_DAY
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.timescales import iso_to_jd

screen_mod = importlib.import_module("spacecommons.conjunction.screen")
HERE = Path(__file__).resolve().parent
SNAPSHOT = "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
DEFAULT = next((p / SNAPSHOT for p in HERE.parents[1:3] if (p / SNAPSHOT).exists()), HERE.parents[1] / SNAPSHOT)
START = "2022-01-22T00:00:00Z"


def chunk_inputs(path: Path):
    """States, validity, pads and cell size of chunk 0, as ``screen_chunk`` computes them."""
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    jd0, fr0 = iso_to_jd(START)
    params = ScreeningParams(jd0, fr0, 0.5, 5.0)
    k0, k1 = params.chunks()[0]
    res = ChunkResult(index=0)
    sats = payload.satrecs()
    t_nodes, jd, fr = screen_mod._node_times(params, k0, k1)
    err, r, v = propagate_satrecs(sats, jd, fr, payload.satrec_array())
    ok = err == 0
    screen_mod._record_failures(res, payload, err, ok)
    samples = params.start_fr + np.linspace(t_nodes[0], t_nodes[-1], VELOCITY_SAMPLES) / SECONDS_PER_DAY
    mismatch = velocity_mismatch_km_s(sats, payload.satrec_array(), params.start_jd, samples)
    _, pad, cell = screen_mod._bounds_and_pads(res, payload, params, jd, fr, ok, r, v, mismatch)
    return params, r, v, ok, pad, cell


def shells_and_broad_phase(kern, params, r, v, ok, pad, cell, prim, segments: int):
    """The radial shells and the all-vs-all kernel on the first ``segments`` segments, with either
    signature of ``kernels.screen_broad_phase``: the shells as arrays (computed here, once), or a
    ``use_shells`` flag (the kernel computes them)."""
    h, m = params.step_s, params.substeps
    if "use_shells" in inspect.signature(kern.screen_broad_phase.py_func).parameters:
        return kern.screen_broad_phase(r, v, ok, h, m, pad, cell, prim, False, True, 0, segments)
    lo, hi = kern.radial_shells(r, v, ok, h, m, pad)
    return kern.screen_broad_phase(r, v, ok, h, m, pad, cell, prim, False, lo, hi, 0, segments)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=os.environ.get("SPACECOMMONS_CATALOG", str(DEFAULT)))
    ap.add_argument("--before-src", type=Path, required=True, help="the other tree's src (e.g. ../main/src)")
    ap.add_argument("--segments", type=int, default=144, help="segments of chunk 0 (144: the whole 12-hour chunk)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.catalog).exists():
        print(f"missing {args.catalog}", file=sys.stderr)
        return 2
    params, r, v, ok, pad, cell = chunk_inputs(Path(args.catalog))
    n = r.shape[0]
    tmp = Path(tempfile.mkdtemp(prefix="broad_phase_"))
    shutil.copy(args.before_src / "spacecommons/conjunction/kernels.py", tmp / "kernels_before.py")
    sys.path.insert(0, str(tmp))
    before = importlib.import_module("kernels_before")
    prim = np.zeros(0, dtype=np.int64)
    runs = {"before": before, "after": kernels}
    times: dict[str, list[float]] = {name: [] for name in runs}
    keys = {}
    for kern in runs.values():  # compile (or load the cache) outside the timing
        shells_and_broad_phase(kern, params, r, v, ok, pad, cell, prim, 1)
    print(f"# load average at start {os.getloadavg()}; {n} objects, {args.segments} segments, one thread")
    for _ in range(args.repeat):
        for name, kern in runs.items():
            clock = time.process_time()
            ci, cj, ck = shells_and_broad_phase(kern, params, r, v, ok, pad, cell, prim, args.segments)
            times[name].append(time.process_time() - clock)
            keys[name] = np.unique((ck * n + ci) * n + cj)
    same = np.array_equal(keys["before"], keys["after"])
    for name, ts in times.items():
        print(f"{name}: CPU s {' '.join(f'{t:.2f}' for t in ts)}; unique triples {keys[name].size}")
    ratios = [a / b for a, b in zip(times["after"], times["before"], strict=True)]
    print(f"after / before, pair by pair: {' '.join(f'{x:.3f}' for x in ratios)}; triples identical: {same}")
    print(f"# load average at end {os.getloadavg()}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
