"""The figure of docs/risk-and-cdm.md: 2D vs 3D vs Monte Carlo Pc on Alfano's (2009) 11 cases and
NASA CARA's 53 real CDMs, each against CARA's reference values.

Monte Carlo: CARA's own (1e8-sample MC for Alfano, A09TestCases_01_12_Distributed.csv; SDMC for
the 53 CDMs, cara_pc_method_values.csv). Our Monte Carlo (risk/sdmc.py, issue 12's other half) is
plotted where ``--ours-mc`` is given and the module is present.

    python benchmarks/pc_methods_figure.py [--out docs/pc_methods.png] [--ours-mc]
"""

from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spacecommons.cdm import read_cdm  # noqa: E402
from spacecommons.cdm.pc import encounter_from_cdm  # noqa: E402
from spacecommons.risk.cdm_pc import foster, monte_carlo, pc_3d  # noqa: E402
from spacecommons.risk.pc3d import pc3d  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests/data/cdm"
# case: HBR m, limit s, CARA MC 1e8 (CARA_PcMC), its 95% interval, Alfano MC 1e8 (A09_PcMC1e8)
ALFANO = {
    1: (15, 21600, 0.21686537, 0.216784601089679, 0.216946155301232, 0.21746714),
    2: (4, 21600, 0.0155469, 0.0155226614929474, 0.0155711665578351, 0.01573662),
    3: (15, 21600, 0.10034086, 0.100281978677948, 0.100399764459375, 0.10084642),
    4: (15, 21600, 0.07364054, 0.0735893560196113, 0.0736917486638813, 0.07308953),
    5: (10, 1419, 0.04446611, 0.044425717781909, 0.0445065285915099, 0.044498913),
    6: (10, 1419, 0.00432422, 0.00431136875715775, 0.00433709995038931, 0.0043005),
    7: (10, 1419, 0.00016011, 0.000157639645593939, 0.000162609365493197, 0.000161462),
    8: (4, 10135, 0.03523735, 0.0352012207992815, 0.0352735061089634, 0.03525608),
    9: (6, 10800, 0.27977477, 0.279686790854236, 0.279862761894709, 0.36511606),
    10: (6, 21600, 0.36404591, 0.363951602995593, 0.364140224874815, 0.36295247),
    11: (4, 1420, 0.00243642, 0.00242676679408548, 0.00244610202771047, 0.00332853),
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs/pc_methods.png"))
    ap.add_argument("--ours-mc", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5.2))

    cases = sorted(ALFANO)
    two, three, ours_mc = [], [], []
    for case in cases:
        hbr, limit, *_ = ALFANO[case]
        enc = encounter_from_cdm(read_cdm((DATA / f"cara_sample_cdms/AlfanoTestCase{case:02d}.cdm").read_text()))
        two.append(foster(enc, hbr).pc)
        three.append(pc3d(enc.x1, enc.c1, enc.x2, enc.c2, hbr / 1e3, t_limits=(-limit, limit)).pc)
        ours_mc.append(monte_carlo(enc, hbr).pc if args.ours_mc else np.nan)
    mc = np.array([ALFANO[c][2] for c in cases])
    lo = np.array([ALFANO[c][3] for c in cases])
    hi = np.array([ALFANO[c][4] for c in cases])
    x = np.arange(len(cases))
    ax1.axhline(1.0, color="0.6", lw=0.8)
    ax1.fill_between(x, lo / mc, hi / mc, color="0.85", step="mid", label="CARA MC 1e8, 95% interval")
    ax1.plot(x, np.array(two) / mc, "o", label="2D (Foster)")
    ax1.plot(x, np.array(three) / mc, "s", mfc="none", ms=9, label="3D (Hall 2021, ours)")
    ax1.plot(x, np.array([ALFANO[c][5] for c in cases]) / mc, "x", label="Alfano 2009 MC 1e8 (his windows)")
    if args.ours_mc:
        ax1.plot(x, np.array(ours_mc) / mc, "^", label="Monte Carlo (ours)")
    else:
        ax1.text(0.02, 0.03, "our Monte Carlo: pending (risk/sdmc.py)", transform=ax1.transAxes, fontsize=8)
    ax1.set_xticks(x, [str(c) for c in cases])
    ax1.set_xlabel("Alfano (2009) test case")
    ax1.set_ylabel("Pc / CARA Monte Carlo Pc")
    ax1.set_title("Alfano's cases: 2D fails on slow encounters, 3D holds")
    ax1.legend(fontsize=8, loc="upper right")

    values = {
        r["Conjunction_ID"][:40]: r
        for r in csv.DictReader(
            line for line in (DATA / "cara_pc_test_cdms/cara_pc_method_values.csv").open() if not line.startswith("#")
        )
    }
    pts = []
    for path in sorted((DATA / "cara_pc_test_cdms").glob("*.cdm")):
        cdm = read_cdm(path.read_text(), path.name)
        enc = encounter_from_cdm(cdm)
        ref = values[path.name[:40]]
        pts.append((float(ref["PcSDMC"]), foster(enc, cdm.hbr_m()).pc, pc_3d(enc, cdm.hbr_m()).pc))
    sdmc, p2, p3 = (np.array(v) for v in zip(*pts, strict=True))
    lims = (1e-9, 1e-1)
    ax2.plot(lims, lims, color="0.6", lw=0.8)
    ax2.loglog(sdmc, np.maximum(p2, 1e-12), "o", label="2D (Foster)")
    ax2.loglog(sdmc, p3, "s", mfc="none", ms=8, label="3D (ours)")
    ax2.set_xlim(*lims)
    ax2.set_ylim(1e-12, 1e-1)
    ax2.set_xlabel("CARA SDMC Pc")
    ax2.set_ylabel("Pc")
    ax2.set_title("53 real CARA CDMs (2D below 1e-12 drawn at 1e-12)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
