"""Gabbard diagrams: NASA Standard Breakup Model clouds next to the real Fengyun-1C, Iridium 33 and
Cosmos 2251 debris (CelesTrak groups of 2021-10-02, bundled in ``spacecommons/data/sample``).

The model clouds are drawn at the event from a circular parent orbit (altitude and inclination of
the parent at the event); the real clouds are the catalogued survivors 12-14 years later, so drag
has removed their low-perigee, high-A/m part. Prints the distribution statistics the test
``tests/test_sustainability.py::test_gabbard_statistics_of_a_model_cloud_resemble_the_real_debris``
asserts, and writes ``docs/breakup_gabbard.png``.

    PYTHONPATH=src python benchmarks/breakup_gabbard.py
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spacecommons.catalog.reader import read_elements  # noqa: E402
from spacecommons.constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2  # noqa: E402
from spacecommons.sustainability.breakup import fragment_elements, gabbard, sample_fragments  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "spacecommons" / "data" / "sample"
EVENTS = [
    # group file, label, parent altitude km, inclination deg, masses kg, impact speed km/s, date
    ("fengyun-1c_1999-025_celestrak_2021-10-02.txt", "Fengyun-1C (ASAT test, 2007)", 863.0, 98.8, 880.0, 20.0, 9.0),
    ("iridium-33-debris_celestrak_2021-10-02.txt", "Iridium 33 (collision, 2009)", 789.0, 86.4, 560.0, 900.0, 11.7),
    ("cosmos-2251-debris_celestrak_2021-10-02.txt", "Cosmos 2251 (collision, 2009)", 789.0, 74.0, 900.0, 560.0, 11.7),
]


def main() -> None:
    rng = np.random.default_rng(2007)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex="col", sharey="col")
    head = "| event | cloud | objects | median period (min) | IQR period (min) | median apogee (km) "
    print(head + "| median perigee (km) |")
    print("|---|---|---|---|---|---|---|")
    for col, (group, label, alt, inc, m1, m2, v) in enumerate(EVENTS):
        a = EARTH_RADIUS_WGS72_KM + alt
        vc = math.sqrt(GM_EARTH_WGS72_KM3_S2 / a)
        i = math.radians(inc)
        fr = sample_fragments(rng, "collision", mass_kg=m1, projectile_mass_kg=m2, v_impact_km_s=v)
        cloud = fragment_elements(
            fr,
            np.array([a, 0, 0]),
            np.array([0, vc * math.cos(i), vc * math.sin(i)]),
            datetime(2009, 2, 10, tzinfo=UTC),
        )
        for row, (name, g, n) in enumerate(
            [
                ("model", gabbard(cloud.elements), len(cloud.elements)),
                ("real 2021-10-02", gabbard(read_elements(SAMPLE / group).records), None),
            ]
        ):
            n = n if n is not None else len(g["period_min"])
            ax = axes[row, col]
            ax.scatter(g["period_min"], g["apogee_km"], s=2, c="tab:red", label="apogee")
            ax.scatter(g["period_min"], g["perigee_km"], s=2, c="tab:blue", label="perigee")
            ax.set_title(f"{label}: {name}, {n} objects", fontsize=9)
            ax.set_xlim(88, 115)
            ax.set_ylim(150, 2000)
            q25, q50, q75 = np.percentile(g["period_min"], [25, 50, 75])
            print(
                f"| {label} | {name} | {n} | {q50:.1f} | {q75 - q25:.1f} | {np.median(g['apogee_km']):.0f} "
                f"| {np.median(g['perigee_km']):.0f} |"
            )
    for ax in axes[1]:
        ax.set_xlabel("period (min)")
    for ax in axes[:, 0]:
        ax.set_ylabel("altitude (km)")
    axes[0, 0].legend(markerscale=4)
    fig.tight_layout()
    out = ROOT / "docs" / "breakup_gabbard.png"
    fig.savefig(out, dpi=80)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
