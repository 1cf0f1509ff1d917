"""Write CDMs for screening events: states at TCA in EME2000 (GCRF), RTN relative state, a
covariance (DEFAULT model for TLE states), Pc with its method, screening period and volume."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from ..frames import rtn_basis, teme_to_gcrf
from ..propagation.sgp4_batch import EARTH_RADIUS_KM, MU_KM3_S2
from ..timescales import jd_to_iso, normalize_jd
from .keywords import COVARIANCE_6, UNITS
from .model import Cdm, Item


def _it(key: str, value: str) -> Item:
    return Item(key, value, UNITS.get(key))


def _time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def event_cdm(
    *,
    message_id: str,
    creation: datetime,
    originator: str,
    tca_jd: float,
    tca_fr: float,
    objects: list[dict],
    window: tuple[str, str],
    threshold_km: float,
    hbr_m: float,
    hbr_note: str,
) -> Cdm:
    """``objects``: two dicts with norad_id, name, object_id, r_teme, v_teme (km, km/s),
    epoch_age_days, satrec (for the regime), and optionally covariance_rtn_m (6x6 RTN in m, m/s: an
    owner/operator covariance, COVARIANCE_METHOD = CALCULATED) with covariance_note saying where it
    came from. Pc is computed here, with the default covariance for objects without one."""
    from ..catalog.elements import regime
    from ..risk.cdm_pc import foster
    from ..risk.default_covariance import default_covariance_rtn
    from .pc import encounter_from_cdm

    jd, fr = normalize_jd(tca_jd, tca_fr)
    states = []
    for o in objects:
        r, v = teme_to_gcrf(np.array([o["r_teme"]]), np.array([o["v_teme"]]), np.array([jd]), np.array([fr]))
        states.append((r[0], v[0]))
    (r1, v1), (r2, v2) = states
    basis = rtn_basis(r1, v1)
    dr = basis @ (r2 - r1) * 1000.0
    dv = basis @ (v2 - v1) * 1000.0
    cdm = Cdm(source=message_id)
    cdm.header += [
        Item("CCSDS_CDM_VERS", "1.0"),
        _it("CREATION_DATE", _time(creation)),
        _it("ORIGINATOR", originator),
        _it("MESSAGE_ID", message_id),
    ]
    tca = jd_to_iso(float(jd), float(fr), 3).rstrip("Z")
    miss = float(np.linalg.norm(dr))
    cdm.relative += [
        _it("TCA", tca),
        _it("MISS_DISTANCE", f"{miss:.3f}"),
        _it("RELATIVE_SPEED", f"{np.linalg.norm(dv):.3f}"),
        *(_it(f"RELATIVE_POSITION_{a}", f"{x:.3f}") for a, x in zip("RTN", dr, strict=True)),
        *(_it(f"RELATIVE_VELOCITY_{a}", f"{x:.4f}") for a, x in zip("RTN", dv, strict=True)),
        _it("START_SCREEN_PERIOD", window[0].rstrip("Z")),
        _it("STOP_SCREEN_PERIOD", window[1].rstrip("Z")),
        _it("SCREEN_VOLUME_FRAME", "RTN"),
        _it("SCREEN_VOLUME_SHAPE", "ELLIPSOID"),
        *(_it(f"SCREEN_VOLUME_{a}", f"{threshold_km * 1000.0:.1f}") for a in "XYZ"),
    ]
    for n, (o, (r, v)) in enumerate(zip(objects, states, strict=True), start=1):
        sat = o["satrec"]
        a_km = sat.a * EARTH_RADIUS_KM
        rp, ra = a_km * (1 - sat.ecco) - EARTH_RADIUS_KM, a_km * (1 + sat.ecco) - EARTH_RADIUS_KM
        period = 2 * math.pi * math.sqrt(a_km**3 / MU_KM3_S2) / 60.0
        reg = regime(rp, ra, period, sat.ecco)
        if o.get("covariance_rtn_m") is not None:  # an owner/operator ephemeris with covariance
            cov = np.asarray(o["covariance_rtn_m"], dtype=float)
            method = "CALCULATED"
            comment = f"Covariance: {o.get('covariance_note') or 'owner/operator covariance'}"
        else:
            cov = default_covariance_rtn(o["epoch_age_days"], reg, sat.no_kozai / 60.0)
            method = "DEFAULT"
            comment = (
                f"Covariance: spacecommons DEFAULT model for TLE states, regime {reg}, "
                f"element set age {o['epoch_age_days']:.2f} d"
            )
        items = [
            Item("COMMENT", comment),
            _it("OBJECT", f"OBJECT{n}"),
            _it("OBJECT_DESIGNATOR", str(o["norad_id"])),
            _it("CATALOG_NAME", "SATCAT"),
            _it("OBJECT_NAME", o["name"] or "UNKNOWN"),
            _it("INTERNATIONAL_DESIGNATOR", o.get("object_id") or "UNKNOWN"),
            _it("EPHEMERIS_NAME", "NONE"),
            _it("COVARIANCE_METHOD", method),
            _it("MANEUVERABLE", "N/A"),
            _it("REF_FRAME", "EME2000"),
            _it("GRAVITY_MODEL", "SGP4 (WGS-72)"),
            *(_it(k, f"{x:.9f}") for k, x in zip(("X", "Y", "Z"), r, strict=True)),
            *(_it(k, f"{x:.12f}") for k, x in zip(("X_DOT", "Y_DOT", "Z_DOT"), v, strict=True)),
        ]
        k = 0
        for i in range(6):
            for j in range(i + 1):
                items.append(_it(COVARIANCE_6[k], f"{cov[i, j]:.6e}"))
                k += 1
        cdm.objects[n - 1] = items
    report = foster(encounter_from_cdm(cdm), hbr_m)
    cdm.relative += [
        _it("COLLISION_PROBABILITY", f"{report.pc:.4e}"),
        _it("COLLISION_PROBABILITY_METHOD", "FOSTER-1992"),
        Item("COMMENT", f"HBR = {hbr_m:g} [m]"),
        Item("COMMENT", hbr_note),
    ]
    cdm.validate()
    return cdm
