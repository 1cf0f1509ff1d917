"""Writes synthetic_impactor_sbdb_api.json: an SBDB-API-shaped orbit (cometary elements, 6x6
covariance over e, q, tp, node, peri, i) of an object built to hit Earth on 2028-08-17 TDB (JD 2462000.5)
(spacecommons.neo.scenario.synthetic_encounter, 6,000 km straight-line miss, v_inf 12 km/s),
20 days before, with a 15,000 km x 1,500 km (along-track x cross-track) position covariance.

Run from the repository root: python tests/data/neo/make_synthetic_impactor.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spacecommons.constants import AU_KM, AU_PER_DAY_KM_S, GM_SUN_DE440_AU3_D2
from spacecommons.neo.elements import (
    cometary_to_state,
    ecliptic_to_equatorial,
    elements_from_state,
    equatorial_to_ecliptic,
)
from spacecommons.neo.nbody import body_state
from spacecommons.neo.scenario import synthetic_encounter

T_IMPACT = 2462000.5
EPOCH = T_IMPACT - 20


def cometary(state_helio_ecl: np.ndarray) -> np.ndarray:
    r, v = state_helio_ecl[:3], state_helio_ecl[3:]
    a, e, i, om, w = elements_from_state(r, v, GM_SUN_DE440_AU3_D2)
    cos_e = (1 - np.linalg.norm(r) / a) / e
    sin_e = (r @ v) / (e * np.sqrt(GM_SUN_DE440_AU3_D2 * a))
    ecc_anom = np.arctan2(sin_e, cos_e)
    mean = ecc_anom - e * np.sin(ecc_anom)
    n = np.sqrt(GM_SUN_DE440_AU3_D2 / a**3)
    return np.array([e, a * (1 - e), EPOCH - mean / n, np.degrees(om) % 360, np.degrees(w) % 360, np.degrees(i)])


def main() -> None:
    bary = synthetic_encounter(T_IMPACT, EPOCH, v_inf_km_s=12.0, miss_km=6000.0)
    helio = bary - body_state("sun", EPOCH)
    el = cometary(equatorial_to_ecliptic(helio)[0])
    vhat = helio[3:] / np.linalg.norm(helio[3:])
    cov = np.zeros((6, 6))
    cov[:3, :3] = (15000 / AU_KM) ** 2 * np.outer(vhat, vhat) + (1500 / AU_KM) ** 2 * (np.eye(3) - np.outer(vhat, vhat))
    cov[3:, 3:] = np.eye(3) * (1e-4 / AU_PER_DAY_KM_S) ** 2

    def state(x):
        return ecliptic_to_equatorial(cometary_to_state(x[1], x[0], x[5], x[3], x[4], x[2], EPOCH))[0]

    J = np.empty((6, 6))
    for k in range(6):
        h = np.zeros(6)
        h[k] = 1e-7 * max(abs(el[k]), 1.0)
        J[:, k] = (state(el + h) - state(el - h)) / (2 * h[k])
    Ji = np.linalg.inv(J)
    cov_el = Ji @ cov @ Ji.T
    names = ["e", "q", "tp", "om", "w", "i"]
    doc = {
        "signature": {"source": "spacecommons synthetic scenario (not a JPL object)", "version": "1.3"},
        "object": {"des": "SYN2028", "fullname": "SYN2028 (synthetic impactor)", "neo": True, "pha": False},
        "orbit": {
            "epoch": f"{EPOCH}",
            "orbit_id": "synthetic-1",
            "elements": [
                {"name": k, "value": repr(float(v)), "sigma": repr(float(np.sqrt(cov_el[j, j])))}
                for j, (k, v) in enumerate(zip(names, el, strict=True))
            ],
            "covariance": {
                "labels": ["e", "q", "tp", "node", "peri", "i"],
                "epoch": f"{EPOCH}",
                "data": [[repr(float(x)) for x in row] for row in cov_el],
            },
        },
        "phys_par": [{"name": "H", "value": "22.0"}, {"name": "diameter", "value": "0.14"}],
    }
    out = Path(__file__).with_name("synthetic_impactor_sbdb_api.json")
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
