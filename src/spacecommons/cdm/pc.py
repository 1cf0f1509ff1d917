"""Pc of a CDM: the encounter read from the message, then ``risk``'s methods (one-way: cdm -> risk)."""

from __future__ import annotations

import numpy as np

from ..risk.cdm_pc import Encounter, PcReport, encounter_pc
from ..risk.plane import rtn_to_inertial
from ..timescales import datetime_to_jd
from .model import Cdm

INERTIAL = {"EME2000", "GCRF", "ICRF", "J2000"}


def encounter_from_cdm(cdm: Cdm) -> Encounter:
    """Inertial states (km, km/s) and 6x6 inertial covariances of both objects at TCA."""
    warnings = []
    states = []
    for obj in (1, 2):
        r, v = cdm.state_km(obj)
        frame = (cdm.get("REF_FRAME", obj) or "").upper()
        if frame == "ITRF":
            from ..frames import itrf_to_gcrf

            jd, fr = datetime_to_jd(cdm.tca)
            r, v = (a[0] for a in itrf_to_gcrf(r[None], v[None], np.array([jd]), np.array([fr])))
        elif frame not in INERTIAL:
            raise ValueError(f"REF_FRAME {frame!r} of OBJECT{obj} is not supported (EME2000, GCRF, ICRF or ITRF)")
        cov = cdm.covariance_rtn(obj, 6) * 1e-6  # m**2 -> km**2 (and m**2/s -> km**2/s, ...)
        w = np.linalg.eigvalsh(cov)
        if w[0] < -1e-9 * max(w[-1], 1e-30):
            warnings.append(
                f"OBJECT{obj} covariance is not positive semi-definite (eigenvalue {w[0]:.3g}); "
                "negative eigenvalues clipped where sampled"
            )
        states.append((np.concatenate([r, v]), rtn_to_inertial(cov, r, v)))
    (x1, c1), (x2, c2) = states
    return Encounter(x1, c1, x2, c2, tuple(warnings))


def cdm_pc(
    cdm: Cdm,
    method: str = "foster",
    hbr_m: float | None = None,
    shape: str = "circle",
    samples: int | None = None,
    seed: int = 0,
) -> list[PcReport]:
    """Pc of a CDM by ``foster``, ``3d``, ``mc``, ``max``, ``auto`` (CARA's multi-step choice) or
    ``all``. The HBR comes from ``hbr_m`` or the ``COMMENT HBR = ...`` line."""
    hbr = hbr_m if hbr_m is not None else cdm.hbr_m()
    if hbr is None:
        raise ValueError(f"{cdm.source}: no hard-body radius: give --hbr-m (the message has no COMMENT HBR)")
    return encounter_pc(encounter_from_cdm(cdm), hbr, method, shape, samples, seed)
