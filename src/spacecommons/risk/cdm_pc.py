"""Pc of a CDM: the encounter from the message, usage checks, and the method that holds."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..cdm import Cdm
from ..constants import GM_EARTH_EGM96_KM3_S2
from ..timescales import datetime_to_jd
from .foster import pc_circle, pc_square
from .maxpc import max_pc_isotropic
from .montecarlo import pc_monte_carlo
from .plane import encounter_plane, rtn_to_inertial

INERTIAL = {"EME2000", "GCRF", "ICRF", "J2000"}
SLOW_KM_S = 0.01  # below 10 m/s relative speed the straight-line encounter model is doubtful
LONG_FRACTION = 0.1  # encounter longer than a tenth of an orbit: not short-term


@dataclass
class PcReport:
    """One method's answer. ``pc`` with its method and hard-body convention, and any warnings."""

    pc: float
    method: str
    hbr_m: float
    hbr_shape: str = "circle"
    warnings: list[str] = field(default_factory=list)
    ci_low: float | None = None
    ci_high: float | None = None
    samples: int | None = None
    error_estimate: float | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Encounter:
    """Inertial states (km, km/s) and 6x6 inertial covariances (km, km/s) of both objects at TCA."""

    x1: np.ndarray
    c1: np.ndarray
    x2: np.ndarray
    c2: np.ndarray
    warnings: tuple[str, ...] = ()


def encounter_from_cdm(cdm: Cdm) -> Encounter:
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


def usage_checks(enc: Encounter, hbr_km: float) -> list[str]:
    """Short-term-encounter conditions of the 2D method (in the spirit of CARA's Pc2D checks)."""
    out = []
    dv = enc.x2[3:] - enc.x1[3:]
    speed = float(np.linalg.norm(dv))
    if speed < SLOW_KM_S:
        out.append(f"low relative speed {speed * 1000:.2f} m/s: the straight-line encounter model is doubtful")
    cov = enc.c1[:3, :3] + enc.c2[:3, :3]
    sigma = math.sqrt(max(np.linalg.eigvalsh(cov)[-1], 0.0))
    duration = 2.0 * (5.0 * sigma + hbr_km) / max(speed, 1e-12)
    periods = []
    for x in (enc.x1, enc.x2):
        r, v = np.linalg.norm(x[:3]), np.linalg.norm(x[3:])
        energy = v * v / 2 - GM_EARTH_EGM96_KM3_S2 / r
        if energy < 0:
            a = -GM_EARTH_EGM96_KM3_S2 / (2 * energy)
            periods.append(2 * math.pi * math.sqrt(a**3 / GM_EARTH_EGM96_KM3_S2))
    if periods and duration > LONG_FRACTION * min(periods):
        out.append(
            f"long encounter ({duration:.0f} s for the 5-sigma pass, over a tenth of an orbit): "
            "the short-term (2D) assumption does not hold"
        )
    return out


def foster(enc: Encounter, hbr_m: float, shape: str = "circle") -> PcReport:
    plane = encounter_plane(enc.x1[:3], enc.x1[3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    hbr_km = hbr_m / 1000.0
    warnings = list(enc.warnings) + usage_checks(enc, hbr_km)
    if shape == "circle":
        pc, err, npd = pc_circle(plane.miss, plane.cov, hbr_km)
        report = PcReport(float(pc), "FOSTER-1992", hbr_m, "circle", warnings, error_estimate=float(err))
    else:
        pc, npd = pc_square(plane.miss, plane.cov, hbr_km)
        report = PcReport(float(pc), "FOSTER-1992", hbr_m, "square (side 2 HBR, principal axes)", warnings)
    if bool(npd):
        report.warnings.append("encounter-plane covariance not positive definite: eigenvalues clipped")
    return report


def monte_carlo(enc: Encounter, hbr_m: float, samples: int = 200_000, seed: int = 0) -> PcReport:
    hbr_km = hbr_m / 1000.0
    cov = enc.c1[:3, :3] + enc.c2[:3, :3]
    sigma = math.sqrt(max(np.linalg.eigvalsh(cov)[-1], 0.0))
    speed = float(np.linalg.norm(enc.x2[3:] - enc.x1[3:]))
    window = min(max(5.0 * sigma / max(speed, 1e-9), 5.0), 3600.0)
    mc = pc_monte_carlo(enc.x1, enc.c1, enc.x2, enc.c2, hbr_km, window, samples=samples, seed=seed)
    return PcReport(
        mc.pc, "MONTE_CARLO (two-body)", hbr_m, "circle", list(enc.warnings), mc.ci_low, mc.ci_high, mc.samples
    )


def max_pc(enc: Encounter, hbr_m: float) -> PcReport:
    miss_km = float(np.linalg.norm(enc.x2[:3] - enc.x1[:3]))
    pc, sigma = max_pc_isotropic(miss_km * 1000.0, hbr_m)
    return PcReport(pc, f"MAX_PC (Alfano 2005, isotropic sigma {sigma:.1f} m)", hbr_m, "circle", [])


def cdm_pc(
    cdm: Cdm,
    method: str = "foster",
    hbr_m: float | None = None,
    shape: str = "circle",
    samples: int = 200_000,
    seed: int = 0,
) -> list[PcReport]:
    """Pc of a CDM by ``foster``, ``mc``, ``max``, ``auto`` (Foster, or Monte Carlo where a usage
    check fails) or ``all``. The HBR comes from ``hbr_m`` or the ``COMMENT HBR = ...`` line."""
    hbr = hbr_m if hbr_m is not None else cdm.hbr_m()
    if hbr is None:
        raise ValueError(f"{cdm.source}: no hard-body radius: give --hbr-m (the message has no COMMENT HBR)")
    enc = encounter_from_cdm(cdm)
    if method == "foster":
        return [foster(enc, hbr, shape)]
    if method == "mc":
        return [monte_carlo(enc, hbr, samples, seed)]
    if method == "max":
        return [max_pc(enc, hbr)]
    if method == "auto":
        first = foster(enc, hbr, shape)
        if any(w.startswith(("low relative speed", "long encounter")) for w in first.warnings):
            mc = monte_carlo(enc, hbr, samples, seed)
            mc.warnings = first.warnings + ["2D assumptions violated: Monte Carlo used"]
            return [mc]
        return [first]
    if method == "all":
        return [
            foster(enc, hbr, "circle"),
            foster(enc, hbr, "square"),
            monte_carlo(enc, hbr, samples, seed),
            max_pc(enc, hbr),
        ]
    raise ValueError(f"unknown method {method!r}: foster, mc, max, auto or all")
