"""Benchmark: time per Pc method on NASA CARA's 53 real CDMs and Alfano's (2009) 11 test cases,
with the 2D (Foster) Pc as the same-run baseline, and each method's agreement with CARA's values.

References (github nasa/CARA_Analysis_Tools, copied with provenance into tests/data): CARA's
Pc2D, Nc3D and SDMC for the 53 CDMs (cara_pc_method_values.csv) and CARA's Pc3D for Alfano's cases
(Pc3D_Hall_UnitTest.m, with its integration limits).

    python benchmarks/pc_methods.py [--mc]      # --mc adds the Monte Carlo column (slow)

Reads only tests/data (no ../shared needed). Prints a table: workload, method, total and median
time per CDM, the baseline's time in the same run, the ratio, and the largest deviation from CARA.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
import warnings
from pathlib import Path

from spacecommons.cdm import read_cdm
from spacecommons.cdm.pc import encounter_from_cdm
from spacecommons.risk.cdm_pc import auto, foster, max_pc, monte_carlo, pc_3d
from spacecommons.risk.pc3d import pc3d

DATA = Path(__file__).resolve().parents[1] / "tests/data/cdm"
ALFANO = {  # case: (HBR m, CARA Pc3D over +-limit s, limit s)  (Pc3D_Hall_UnitTest.m)
    1: (15, 2.1680836276e-01, 21600),
    2: (4, 1.5567748968e-02, 21600),
    3: (15, 1.0033642320e-01, 21600),
    4: (15, 7.3640419383e-02, 21600),
    5: (10, 4.4489813350e-02, 1419),
    6: (10, 4.3331309702e-03, 1419),
    7: (10, 1.6184123020e-04, 1419),
    8: (4, 3.5250174961e-02, 10135),
    9: (6, 2.7983426149e-01, 10800),
    10: (6, 3.6406379645e-01, 21600),
    11: (4, 2.4407488450e-03, 1420),
}


def workloads():
    values = {
        r["Conjunction_ID"][:40]: r
        for r in csv.DictReader(
            line for line in (DATA / "cara_pc_test_cdms/cara_pc_method_values.csv").open() if not line.startswith("#")
        )
    }
    real = []
    for path in sorted((DATA / "cara_pc_test_cdms").glob("*.cdm")):
        cdm = read_cdm(path.read_text(), path.name)
        ref = values[path.name[:40]]
        real.append((encounter_from_cdm(cdm), cdm.hbr_m(), float(ref["Pc2D"]), float(ref["Nc3D"]), None))
    alfano = []
    for case, (hbr, pc3d_ref, limit) in ALFANO.items():
        cdm = read_cdm((DATA / f"cara_sample_cdms/AlfanoTestCase{case:02d}.cdm").read_text())
        alfano.append((encounter_from_cdm(cdm), float(hbr), float("nan"), pc3d_ref, (-limit, limit)))
    return {"53 CARA CDMs": real, "Alfano 1-11": alfano}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mc", action="store_true", help="include the Monte Carlo column")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    methods = {
        "foster (baseline)": lambda e, h, lim: foster(e, h),
        # Alfano's cases: CARA's unit-test limits, as CARA's reference values use them
        "3d": lambda e, h, lim: pc_3d(e, h) if lim is None else pc3d(e.x1, e.c1, e.x2, e.c2, h / 1e3, t_limits=lim),
        "max": lambda e, h, lim: max_pc(e, h),
        "auto": lambda e, h, lim: auto(e, h),
    }
    if args.mc:
        methods["mc"] = lambda e, h, lim: monte_carlo(e, h)
    print(
        f"{'workload':14} {'method':18} {'total (s)':>10} {'median/CDM (s)':>15} {'baseline (s)':>13}"
        f" {'ratio':>9}  vs CARA"
    )
    for name, cases in workloads().items():
        times: dict[str, list[float]] = {}
        worst: dict[str, str] = {}
        for label, fn in methods.items():
            spent, devs = [], []
            for enc, hbr, pc2d_ref, pc3d_ref, limits in cases:
                clock = time.perf_counter()
                report = fn(enc, hbr, limits)
                spent.append(time.perf_counter() - clock)
                ref = pc2d_ref if label.startswith("foster") else pc3d_ref if label == "3d" else float("nan")
                if ref == ref and ref > 0:
                    devs.append(abs(report.pc / ref - 1.0))
            times[label] = spent
            worst[label] = f"max |rel dev| {max(devs):.1e}" if devs else ""
        base = sum(times["foster (baseline)"])
        for label, spent in times.items():
            total = sum(spent)
            print(
                f"{name:14} {label:18} {total:10.2f} {statistics.median(spent):15.4f} {base:13.2f} "
                f"{total / base:8.1f}x  {worst[label]}"
            )
    print("3d on Alfano's cases over CARA's unit-test limits; auto chooses its own bounds (docs/risk-and-cdm.md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
