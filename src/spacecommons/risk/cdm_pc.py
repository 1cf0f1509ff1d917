"""Pc of one encounter by each method, CARA's usage checks, and the method that holds.

Takes an :class:`Encounter` (inertial states and covariances at TCA, arrays only); reading one
from a CDM is the ``cdm`` package's job (``cdm.pc``), so ``risk`` does not import ``cdm``.

Method choice follows NASA CARA's multi-step tool (PcMultiStep, CARA_Analysis_Tools): the 2D Pc
is used unless one of its usage-violation indicators passes its cutoff (NPD covariances, an
extended conjunction, a conjunction offset from TCA); then the 3D Pc (Hall 2021) over the
encounter segment, unless it fails to converge or its own indicators (extended or offset within
the segment, too few quadrature nodes carrying the rate) pass theirs; then Monte Carlo.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..constants import GM_EARTH_EGM96_KM3_S2
from .foster import pc_circle, pc_square
from .maxpc import max_pc_isotropic
from .pc3d import pc3d
from .plane import encounter_plane
from .sdmc import pc_sdmc

# CARA PcMultiStep default cutoffs (CARA_Analysis_Tools, DistributedMatlab/ProbabilityOfCollision/
# PcMultiStep.m: Pc2DExtendedCutoff, Pc2DOffsetCutoff, Nc3DExtendedCutoff, Nc3DOffsetCutoff,
# Nc3DInaccurateCutoff)
EXTENDED_2D_CUTOFF = 0.02
OFFSET_2D_CUTOFF = 0.01
INACCURATE_2D_CUTOFF = 0.02  # Pc2DInaccurateCutoff
EXTENDED_3D_CUTOFF = 0.5
OFFSET_3D_CUTOFF = 0.75
INACCURATE_3D_CUTOFF = 0.01
INACCURATE_3D_PC_FLOOR = 1e-15  # below this 3D Pc the quadrature check is waived (CARA likewise)
CONJ_DURATION_GAMMA = 1e-16  # CARA's ConjDurationGamma
SLOW_KM_S = 0.01  # below 10 m/s relative speed the straight-line encounter model is doubtful
LONG_FRACTION = 0.1  # encounter longer than a tenth of an orbit: not short-term


class PcMethod(enum.StrEnum):
    """The Pc methods, by the names the CLI and API accept."""

    FOSTER = "foster"
    PC3D = "3d"
    MONTE_CARLO = "mc"
    MAX = "max"


@dataclass(frozen=True)
class UsageFlags:
    """CARA's usage-violation indicators of the 2D method and, once computed, of the 3D method.

    Indicators are numbers in [0, 1] compared with the cutoffs above; ``violations_2d`` and
    ``violations_3d`` name the checks that fail."""

    npd_primary: bool  # primary position covariance not positive definite
    npd_secondary: bool
    npd_relative: bool  # combined (relative) position covariance not positive definite
    zero_relative_velocity: bool
    extended_2d: float  # rectilinear conjunction duration / shorter orbital period (capped at 1)
    offset_2d: float  # largest |bound| of the conjunction duration from TCA / shorter period
    # 1 - exp(-|ln(Pc3D / Pc2D)|): CARA estimates this log ratio from a three-point curvilinear
    # analysis; we compute the 3D Pc itself (None where only the 2D Pc was asked for)
    inaccurate_2d: float | None = None
    converged_3d: bool | None = None
    extended_3d: float | None = None  # 3D effective duration / encounter segment length
    offset_3d: float | None = None  # max(Ta / TA, Tb / TB): how near the rate reaches the segment ends
    inaccurate_3d: float | None = None  # shortfall of sphere nodes carrying the rate (quadrature check)

    @property
    def violations_2d(self) -> tuple[str, ...]:
        out = []
        if self.npd_primary or self.npd_secondary or self.npd_relative:
            out.append("npd_covariance")
        if self.zero_relative_velocity:
            out.append("zero_relative_velocity")
        if self.extended_2d > EXTENDED_2D_CUTOFF:
            out.append("extended_2d")
        if self.offset_2d > OFFSET_2D_CUTOFF:
            out.append("offset_2d")
        if self.inaccurate_2d is not None and self.inaccurate_2d > INACCURATE_2D_CUTOFF:
            out.append("inaccurate_2d")
        return tuple(out)

    @property
    def violations_3d(self) -> tuple[str, ...]:
        if self.converged_3d is None:
            return ()
        out = [] if self.converged_3d else ["not_converged_3d"]
        if self.extended_3d is not None and self.extended_3d > EXTENDED_3D_CUTOFF:
            out.append("extended_3d")
        if self.offset_3d is not None and self.offset_3d > OFFSET_3D_CUTOFF:
            out.append("offset_3d")
        if self.inaccurate_3d is not None and self.inaccurate_3d > INACCURATE_3D_CUTOFF:
            out.append("inaccurate_3d")
        return tuple(out)

    def as_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        out["violations_2d"] = list(self.violations_2d)
        out["violations_3d"] = list(self.violations_3d)
        return out


@dataclass
class PcReport:
    """One method's answer. ``pc`` with its method and hard-body convention, and any warnings;
    ``method_id`` the method as an enum, ``flags`` the usage checks, ``reason`` (auto) why."""

    pc: float
    method: str
    hbr_m: float
    hbr_shape: str = "circle"
    warnings: list[str] = field(default_factory=list)
    ci_low: float | None = None
    ci_high: float | None = None
    samples: int | None = None
    error_estimate: float | None = None
    method_id: PcMethod | None = None
    flags: UsageFlags | None = None
    reason: dict | None = None

    def as_dict(self) -> dict:
        out = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            if v is None:
                continue
            if isinstance(v, UsageFlags):
                v = v.as_dict()
            elif isinstance(v, PcMethod):
                v = v.value
            out[k] = v
        return out


@dataclass(frozen=True)
class Encounter:
    """Inertial states (km, km/s) and 6x6 inertial covariances (km, km/s) of both objects at TCA."""

    x1: np.ndarray
    c1: np.ndarray
    x2: np.ndarray
    c2: np.ndarray
    warnings: tuple[str, ...] = ()


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


def _period_s(x: np.ndarray) -> float:
    r, v = np.linalg.norm(x[:3]), np.linalg.norm(x[3:])
    energy = v * v / 2 - GM_EARTH_EGM96_KM3_S2 / r
    return (
        2 * math.pi * math.sqrt((-GM_EARTH_EGM96_KM3_S2 / (2 * energy)) ** 3 / GM_EARTH_EGM96_KM3_S2)
        if energy < 0
        else math.inf
    )


def _npd(c: np.ndarray) -> bool:
    return bool(np.linalg.eigvalsh(0.5 * (c + c.T))[0] <= 0.0)


def usage_flags_2d(enc: Encounter, hbr_km: float) -> UsageFlags:
    """CARA's 2D usage-violation indicators from the rectilinear encounter (CARA refines extended
    and offset with a curvilinear analysis; we use the rectilinear values and let the 3D result,
    when computed, speak for curvature)."""
    from scipy.special import erfcinv

    a = enc.c1[:3, :3] + enc.c2[:3, :3]
    r, v = enc.x2[:3] - enc.x1[:3], enc.x2[3:] - enc.x1[3:]
    w, V = np.linalg.eigh(0.5 * (a + a.T))
    npd_rel = bool(w[0] <= 0.0)
    w = np.maximum(w, (1e-4 * hbr_km) ** 2)  # CARA's Fclip 1e-4 eigenvalue clip
    ainv = (V / w) @ V.T
    vav = float(v @ ainv @ v)
    period = min(_period_s(enc.x1), _period_s(enc.x2))
    zero = not vav > 0.0
    if zero:
        extended = offset = 1.0
    else:
        t_min = -float(r @ ainv @ v) / vav  # time of least Mahalanobis distance along the line
        dtau = math.sqrt(2.0) * float(erfcinv(CONJ_DURATION_GAMMA)) / math.sqrt(vav)
        extended = min(1.0, 2.0 * dtau / period)
        offset = min(1.0, max(abs(t_min - dtau), abs(t_min + dtau)) / period)
    return UsageFlags(_npd(enc.c1[:3, :3]), _npd(enc.c2[:3, :3]), npd_rel, zero, extended, offset)


def foster(enc: Encounter, hbr_m: float, shape: str = "circle") -> PcReport:
    plane = encounter_plane(enc.x1[:3], enc.x1[3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    hbr_km = hbr_m / 1000.0
    warnings = list(enc.warnings) + usage_checks(enc, hbr_km)
    flags = usage_flags_2d(enc, hbr_km)
    if shape == "circle":
        pc, err, npd = pc_circle(plane.miss, plane.cov, hbr_km)
        report = PcReport(float(pc), "FOSTER-1992", hbr_m, "circle", warnings, error_estimate=float(err))
    else:
        pc, npd = pc_square(plane.miss, plane.cov, hbr_km)
        report = PcReport(float(pc), "FOSTER-1992", hbr_m, "square (side 2 HBR, principal axes)", warnings)
    report.method_id = PcMethod.FOSTER
    report.flags = flags
    if bool(npd):
        report.warnings.append("encounter-plane covariance not positive definite: eigenvalues clipped")
    return report


def _inaccuracy(pc2d: float, pc3d_: float) -> float:
    if not (math.isfinite(pc2d) and math.isfinite(pc3d_)):
        return 1.0
    if pc2d == pc3d_:
        return 0.0
    if pc2d <= 0.0 or pc3d_ <= 0.0:
        return 1.0
    return 1.0 - math.exp(-abs(math.log(pc3d_ / pc2d)))


def pc_3d(enc: Encounter, hbr_m: float, full_segment: bool | None = None, pc_2d: float | None = None) -> PcReport:
    """3D Pc (Hall 2021) with the 2D and 3D usage flags. ``full_segment`` (default: when the 2D
    extended or offset check fails) integrates the whole encounter segment; ``pc_2d`` (the 2D Pc
    of the same encounter) sets the 2D inaccuracy indicator."""
    hbr_km = hbr_m / 1000.0
    flags = usage_flags_2d(enc, hbr_km)
    if full_segment is None:
        full_segment = bool({"extended_2d", "offset_2d"} & set(flags.violations_2d))
    warnings = list(enc.warnings)
    try:
        with np.errstate(invalid="ignore"):  # a non-positive-definite input gives NaN: reported below
            res = pc3d(enc.x1, enc.c1, enc.x2, enc.c2, hbr_km, full_segment=full_segment)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        flags = UsageFlags(**{**asdict(flags), "converged_3d": False})
        warnings.append(f"3D Pc failed: {exc}")
        return PcReport(math.nan, "PC3D-HALL-2021", hbr_m, "sphere", warnings, method_id=PcMethod.PC3D, flags=flags)
    seg = res.t_max_limit - res.t_min_limit
    extended = (res.t_b - res.t_a) / seg if seg > 0 else 1.0
    offset = max(
        res.t_a / res.t_min_limit if res.t_min_limit < 0 else 0.0,
        res.t_b / res.t_max_limit if res.t_max_limit > 0 else 0.0,
    )
    inaccurate = max(0.0, (INACCURATE_3D_CUTOFF - res.lebedev_fraction) / INACCURATE_3D_CUTOFF)
    if res.pc < INACCURATE_3D_PC_FLOOR:
        inaccurate = 0.0
    three = {"extended_3d": float(extended), "offset_3d": float(offset), "inaccurate_3d": float(inaccurate)}
    if pc_2d is not None:
        three["inaccurate_2d"] = _inaccuracy(pc_2d, res.pc)
    flags = UsageFlags(**{**asdict(flags), "converged_3d": res.converged, **three})
    if not res.converged:
        warnings.append(
            f"3D Pc not converged ({res.pop_failures} overlap-point failures, error {res.error_estimate:.2g})"
        )
    return PcReport(
        res.pc,
        "PC3D-HALL-2021" + (" (full encounter segment)" if full_segment else ""),
        hbr_m,
        "sphere",
        warnings,
        error_estimate=res.error_estimate,
        method_id=PcMethod.PC3D,
        flags=flags,
    )


def monte_carlo(enc: Encounter, hbr_m: float, samples: int | None = None, seed: int = 0) -> PcReport:
    """SDMC-like Monte Carlo (``risk/sdmc.py``) over the whole encounter window: trials are added
    until the 95% interval is within +/-10% of the estimate, at most ``samples`` (default 1e7)."""
    guess = float(pc_circle(*_plane_args(enc), hbr_m / 1000.0)[0])
    cap = 10_000_000 if samples is None else samples
    mc = pc_sdmc(
        enc.x1,
        enc.c1,
        enc.x2,
        enc.c2,
        hbr_m / 1000.0,
        seed=seed,
        max_samples=cap,
        min_samples=min(10_000, cap),
        pc_guess=min(guess, 1.0) if guess > 1e-6 else None,
    )
    warnings = list(enc.warnings)
    warnings += [
        f"OBJECT{k + 1} covariance clipped to positive semi-definite for sampling"
        for k, f in enumerate(mc.npd_remediated)
        if f
    ]
    if not mc.converged:
        warnings.append(
            f"Monte Carlo stopped at {mc.samples} samples ({mc.hits} hits) before its 95% interval reached +/-10%"
        )
    label = f"MONTE_CARLO (SDMC two-body, window {mc.window[0]:.0f}..{mc.window[1]:.0f} s)"
    return PcReport(
        mc.pc, label, hbr_m, "circle", warnings, mc.ci_low, mc.ci_high, mc.samples, method_id=PcMethod.MONTE_CARLO
    )


def _plane_args(enc: Encounter):
    plane = encounter_plane(enc.x1[:3], enc.x1[3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    return plane.miss, plane.cov


def max_pc(enc: Encounter, hbr_m: float) -> PcReport:
    miss_km = float(np.linalg.norm(enc.x2[:3] - enc.x1[:3]))
    pc, sigma = max_pc_isotropic(miss_km * 1000.0, hbr_m)
    return PcReport(
        pc, f"MAX_PC (Alfano 2005, isotropic sigma {sigma:.1f} m)", hbr_m, "circle", [], method_id=PcMethod.MAX
    )


def pc_circle_report(report: PcReport, enc: Encounter, hbr_m: float) -> float:
    """The circle 2D Pc of a Foster report (the square convention is recomputed as a circle: the
    3D Pc is for a sphere, whose cross-section is the circle)."""
    return report.pc if report.hbr_shape == "circle" else foster(enc, hbr_m, "circle").pc


def auto(enc: Encounter, hbr_m: float, shape: str = "circle", samples: int | None = None, seed: int = 0) -> PcReport:
    """CARA's multi-step choice: 2D unless its usage checks fail, then 3D unless its checks
    fail, then Monte Carlo. ``reason`` says which checks decided, as names, not prose."""
    first = foster(enc, hbr_m, shape)
    # the 2D inaccuracy check needs the 3D Pc: it is computed in every case (about a second)
    third = pc_3d(enc, hbr_m, pc_2d=pc_circle_report(first, enc, hbr_m))
    third.warnings = list(dict.fromkeys(first.warnings + third.warnings))
    v2 = third.flags.violations_2d
    v3 = third.flags.violations_3d
    if not v2:
        first.flags = third.flags
        first.reason = {
            "chosen": "foster",
            "violations_2d": [],
            "violations_3d": list(v3),
            "text": "2D usage checks pass (the 3D Pc agrees within 2%)",
        }
        return first
    if not v3 and math.isfinite(third.pc):
        third.reason = {
            "chosen": "3d",
            "violations_2d": list(v2),
            "violations_3d": [],
            "text": f"2D usage checks fail ({', '.join(v2)}); 3D checks pass",
        }
        return third
    mc = monte_carlo(enc, hbr_m, samples, seed)
    mc.flags = third.flags
    mc.warnings = list(dict.fromkeys(third.warnings + mc.warnings))
    mc.reason = {
        "chosen": "mc",
        "violations_2d": list(v2),
        "violations_3d": list(v3),
        "text": f"2D usage checks fail ({', '.join(v2)}); 3D checks fail ({', '.join(v3) or 'no finite result'})",
    }
    return mc


METHODS = ("foster", "3d", "mc", "max", "auto", "all")


def encounter_pc(
    enc: Encounter,
    hbr_m: float,
    method: str = "foster",
    shape: str = "circle",
    samples: int | None = None,
    seed: int = 0,
) -> list[PcReport]:
    """Pc of an encounter by ``foster``, ``3d``, ``mc``, ``max``, ``auto`` (CARA's multi-step
    choice) or ``all`` (every method side by side, each with its flags)."""
    if method == "foster":
        return [foster(enc, hbr_m, shape)]
    if method == "3d":
        return [pc_3d(enc, hbr_m)]
    if method == "mc":
        return [monte_carlo(enc, hbr_m, samples, seed)]
    if method == "max":
        return [max_pc(enc, hbr_m)]
    if method == "auto":
        return [auto(enc, hbr_m, shape, samples, seed)]
    if method == "all":
        two = foster(enc, hbr_m, "circle")
        three = pc_3d(enc, hbr_m, pc_2d=two.pc)
        two.flags = three.flags
        square = foster(enc, hbr_m, "square")
        square.flags = three.flags
        mc = monte_carlo(enc, hbr_m, samples, seed)
        mc.flags = three.flags
        return [two, square, three, mc, max_pc(enc, hbr_m)]
    raise ValueError(f"unknown method {method!r}: {', '.join(METHODS)}")
