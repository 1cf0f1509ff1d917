"""Collision-avoidance maneuver planning: trade space of impulsive Δv over lead time, smallest Δv
that meets a target Pc, numerical verification of the chosen burn.

Method. The primary's state at TCA (GCRS) is propagated backwards by the Cowell propagator
(``propagation.numerical``) to the earliest lead time together with 12 copies displaced by
±10 m and ±1 cm/s along each axis; their central differences give the state-transition matrix
Φ(t, TCA) at the lead times, and Φ(TCA, t) = Φ(t, TCA)^-1 (taken with the symplectic identity
Φ^-1 = -J Φ^T J of Hamiltonian flows, Battin 1999 sec. 9.6) maps an impulse Δv
applied at t to a state change at TCA: Δx_TCA = Φ(TCA, t) [0, Δv]. The post-maneuver miss and Pc
of each grid point (lead time x Δv, along-track and radial, both signs) come from that linear map,
the unchanged secondary state, and the CDM covariances at TCA, projected on the encounter plane
(short-term encounter, Foster & Estes 1992: a shift of the primary along the relative velocity only
moves the TCA). The grid uses the 2D (Foster) Pc; the recommended maneuver is then propagated
numerically from the maneuver epoch (no linearisation), its new TCA with the secondary found, and
its Pc computed with the chosen method. Covariances are those of the CDM at TCA, unchanged by the
maneuver (CARA's maneuver trade-space practice; the burn's own execution error is not added).
Units: km, km/s, seconds; Δv reported in m/s in RTN (radial, along-track, cross-track) at ignition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..conjunction.refine import golden_section_min
from ..constants import SECONDS_PER_DAY
from ..errors import InputError
from ..frames import rtn_basis
from ..propagation.forces import ForceModel, Spacecraft
from ..propagation.numerical import NumericalEphemeris, propagate_numerical
from ..risk.cdm_pc import Encounter, encounter_pc
from ..risk.foster import pc_circle
from ..risk.plane import encounter_plane
from .rescreen import CatalogStates
from .rescreen import rescreen as _rescreen

#: CARA's red threshold: events at or above this Pc call for mitigation (NASA CARA handbook 2023)
DEFAULT_THRESHOLD_PC = 1e-4
#: the usual post-maneuver goal, two orders of magnitude below the red threshold
DEFAULT_TARGET_PC = 1e-6
DEFAULT_MISS_FLOOR_KM = 0.5
MAX_LEAD_S = 2 * SECONDS_PER_DAY
DIRECTIONS = {"+T": (0.0, 1.0, 0.0), "-T": (0.0, -1.0, 0.0), "+R": (1.0, 0.0, 0.0), "-R": (-1.0, 0.0, 0.0)}
_DR_KM = 1e-2  # finite-difference displacements of the STM (10 m, 1 cm/s)
_DV_KM_S = 1e-5
# the maneuvered closest approach is bracketed to 0.1 ms: its midpoint is off by at most 0.75 m of
# relative motion at 15 km/s, and far less in distance when the miss is large (flat minimum)
CLOSEST_APPROACH_TOLERANCE_S = 1e-4


@dataclass(frozen=True)
class AvoidanceProblem:
    """One event: GCRS states and covariances of both objects at TCA (object 1 maneuvers)."""

    tca_jd: float
    tca_fr: float
    encounter: Encounter
    hbr_m: float
    spacecraft: Spacecraft = field(default_factory=Spacecraft)
    forces: ForceModel = field(default_factory=ForceModel)
    primary_id: str = "1"
    secondary_id: str = "2"

    @property
    def period_s(self) -> float:
        mu = self.forces.mu_km3_s2
        r = np.linalg.norm(self.encounter.x1[:3])
        v = np.linalg.norm(self.encounter.x1[3:])
        energy = 0.5 * v * v - mu / r
        if energy >= 0:
            raise InputError("the primary is not on a closed orbit at TCA")
        a = -mu / (2 * energy)
        return float(2 * np.pi * np.sqrt(a**3 / mu))


@dataclass(frozen=True)
class Sensitivity:
    """Φ(TCA, t) for impulses at the lead times, and the nominal primary state at each."""

    lead_times_s: np.ndarray  # (L,)
    state_at_burn: np.ndarray  # (L, 6) GCRS
    phi_rv: np.ndarray  # (L, 6, 3): state change at TCA per km/s of GCRS Δv at the burn
    rtn: np.ndarray  # (L, 3, 3) rows R, T, N at the burn


@dataclass(frozen=True)
class TradeSpace:
    """Post-maneuver Pc (2D Foster) and miss over direction x lead time x |Δv| (linear map)."""

    directions: tuple[str, ...]
    lead_times_s: np.ndarray  # (L,)
    dv_m_s: np.ndarray  # (D,)
    pc: np.ndarray  # (4, L, D)
    miss_km: np.ndarray  # (4, L, D)
    pc_before: float
    miss_before_km: float

    def as_rows(self) -> list[dict]:
        """One row per grid point: direction, lead_time_s, dv_m_s, pc_after, miss_after_km."""
        rows = []
        for a, d in enumerate(self.directions):
            for i, lead in enumerate(self.lead_times_s):
                for j, dv in enumerate(self.dv_m_s):
                    rows.append(
                        {
                            "direction": d,
                            "lead_time_s": float(lead),
                            "dv_m_s": float(dv),
                            "pc_after": float(self.pc[a, i, j]),
                            "miss_after_km": float(self.miss_km[a, i, j]),
                        }
                    )
        return rows


@dataclass(frozen=True)
class Option:
    """A candidate burn: impulsive Δv (m/s, RTN at ignition) at ``lead_time_s`` before TCA."""

    direction: str
    lead_time_s: float
    dv_m_s: float
    pc_linear: float
    miss_linear_km: float

    @property
    def dv_rtn_m_s(self) -> np.ndarray:
        return self.dv_m_s * np.asarray(DIRECTIONS[self.direction])


@dataclass(frozen=True)
class Verified:
    """A burn propagated numerically: the new closest approach with the secondary and its Pc."""

    option: Option
    burn_jd: float
    burn_fr: float
    state_after_burn: np.ndarray  # (6,) GCRS just after the impulse
    tca_offset_s: float  # new TCA minus the original TCA
    miss_km: float
    pc: float
    method: str
    trajectory: NumericalEphemeris  # dense, t = seconds from the burn


def default_lead_times(period_s: float, max_lead_s: float = MAX_LEAD_S, count: int = 24) -> np.ndarray:
    """Half-revolution multiples from one revolution to ``max_lead_s`` (thinned to ~``count``)."""
    leads = period_s * np.arange(2, int(2 * max_lead_s / period_s) + 1) / 2.0
    if leads.size == 0:
        raise InputError(f"one revolution ({period_s:.0f} s) is longer than the {max_lead_s:.0f} s lead-time limit")
    step = max(1, int(np.ceil(leads.size / count)))
    return leads[::step]


def default_dv_grid() -> np.ndarray:
    """|Δv| from 1 mm/s to 1 m/s, logarithmic (m/s)."""
    return np.geomspace(1e-3, 1.0, 31)


def sensitivity(problem: AvoidanceProblem, lead_times_s: np.ndarray) -> Sensitivity:
    """Φ(TCA, t_burn) by central differences of 12 displaced copies propagated back from TCA."""
    lead = np.asarray(lead_times_s, dtype=float)
    if np.any(lead <= 0):
        raise InputError("lead times must be positive (seconds before TCA)")
    x0 = np.asarray(problem.encounter.x1, dtype=float)
    steps = np.concatenate([np.full(3, _DR_KM), np.full(3, _DV_KM_S)])
    copies = [x0]
    for k in range(6):
        for sign in (1.0, -1.0):
            x = x0.copy()
            x[k] += sign * steps[k]
            copies.append(x)
    x = np.array(copies)
    eph = propagate_numerical(
        x[:, :3], x[:, 3:], problem.tca_jd, problem.tca_fr, -lead, problem.forces, problem.spacecraft
    )
    states = np.concatenate([eph.r_km, eph.v_km_s], axis=2)  # (13, L, 6)
    # Φ(t, TCA)[:, k] = (x_k+(t) - x_k-(t)) / (2 step_k)
    phi_back = np.stack([(states[1 + 2 * k] - states[2 + 2 * k]) / (2 * steps[k]) for k in range(6)], axis=-1)
    # Φ(TCA, t) = Φ(t, TCA)^-1 by the symplectic identity Φ^-1 = -J Φ^T J: over two days Φ's
    # condition number reaches 1e11 and a numerical inverse loses the along-track response (2x
    # errors seen); drag makes Φ slightly non-symplectic, a 0.2 % effect on the response in 2 days
    j = np.block([[np.zeros((3, 3)), np.eye(3)], [-np.eye(3), np.zeros((3, 3))]])
    phi_fwd = -j @ np.swapaxes(phi_back, -1, -2) @ j  # (L, 6, 6)
    nominal = states[0]
    return Sensitivity(lead, nominal, phi_fwd[:, :, 3:], rtn_basis(nominal[:, :3], nominal[:, 3:]))


def _pc_and_miss(problem: AvoidanceProblem, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Foster Pc and miss (km) for primary state changes dx (..., 6) at TCA."""
    enc = problem.encounter
    x1 = enc.x1 + dx
    plane = encounter_plane(x1[..., :3], x1[..., 3:], enc.c1, enc.x2[:3], enc.x2[3:], enc.c2)
    pc, _err, _npd = pc_circle(plane.miss, plane.cov, problem.hbr_m / 1000.0)
    return pc, np.linalg.norm(plane.miss, axis=-1)


def trade_space(
    problem: AvoidanceProblem,
    lead_times_s: np.ndarray | None = None,
    dv_m_s: np.ndarray | None = None,
    sens: Sensitivity | None = None,
) -> tuple[TradeSpace, Sensitivity]:
    """Pc and miss after each burn of the grid (linear map), with the sensitivity used."""
    if sens is None:
        lead = default_lead_times(problem.period_s) if lead_times_s is None else np.asarray(lead_times_s, float)
        sens = sensitivity(problem, lead)
    dv = default_dv_grid() if dv_m_s is None else np.asarray(dv_m_s, dtype=float)
    dirs = tuple(DIRECTIONS)
    unit_rtn = np.array([DIRECTIONS[d] for d in dirs])  # (4, 3)
    # GCRS Δv (4, L, D, 3) in km/s = m/s / 1000 along the RTN unit at each burn
    dv_gcrs = np.einsum("ak,lkj->alj", unit_rtn, sens.rtn)[:, :, None, :] * (dv[None, None, :, None] / 1000.0)
    dx = np.einsum("lij,aldj->aldi", sens.phi_rv, dv_gcrs)
    pc, miss = _pc_and_miss(problem, dx)
    pc0, miss0 = _pc_and_miss(problem, np.zeros(6))
    return TradeSpace(dirs, sens.lead_times_s, dv, pc, miss, float(pc0), float(miss0)), sens


def options(
    ts: TradeSpace, target_pc: float = DEFAULT_TARGET_PC, miss_floor_km: float = DEFAULT_MISS_FLOOR_KM
) -> list[Option]:
    """Per direction and lead time the smallest grid Δv meeting the target, smallest Δv first
    (ties: the later burn, which leaves more time for better tracking)."""
    out = []
    for a, d in enumerate(ts.directions):
        for i, lead in enumerate(ts.lead_times_s):
            ok = np.flatnonzero((ts.pc[a, i] <= target_pc) & (ts.miss_km[a, i] >= miss_floor_km))
            if ok.size:
                j = int(ok[0])
                out.append(
                    Option(d, float(lead), float(ts.dv_m_s[j]), float(ts.pc[a, i, j]), float(ts.miss_km[a, i, j]))
                )
    out.sort(key=lambda o: (o.dv_m_s, o.lead_time_s))
    return out


def verify(
    problem: AvoidanceProblem, option: Option, sens: Sensitivity, method: str = "foster", after_tca_s: float = 0.0
) -> Verified:
    """Propagate the burn numerically from ignition to TCA (+ ``after_tca_s``); new TCA, miss, Pc."""
    i = int(np.argmin(np.abs(sens.lead_times_s - option.lead_time_s)))
    if abs(sens.lead_times_s[i] - option.lead_time_s) > 1e-6:
        raise InputError(f"lead time {option.lead_time_s} s is not on the sensitivity grid")
    x = sens.state_at_burn[i].copy()
    x[3:] += sens.rtn[i].T @ option.dv_rtn_m_s / 1000.0
    burn_fr = problem.tca_fr - option.lead_time_s / SECONDS_PER_DAY
    period = problem.period_s
    enc = problem.encounter
    speed = float(np.linalg.norm(enc.x2[3:] - enc.x1[3:]))
    # the new TCA lies within |Δr| / v_rel of the old one; search that window (at least 5 min)
    dx_lin = sens.phi_rv[i] @ (sens.rtn[i].T @ option.dv_rtn_m_s / 1000.0)
    half = min(0.5 * period, max(300.0, 2.0 * float(np.linalg.norm(dx_lin[:3])) / max(speed, 1e-3)))
    end = option.lead_time_s + max(half, after_tca_s)
    traj = propagate_numerical(
        x[None, :3], x[None, 3:], problem.tca_jd, burn_fr, [0.0, end], problem.forces, problem.spacecraft, dense=True
    )
    # the secondary near TCA: conservative forces only (its drag parameters are unknown; minutes)
    sec = propagate_numerical(
        enc.x2[None, :3],
        enc.x2[None, 3:],
        problem.tca_jd,
        problem.tca_fr,
        [-half, half],
        ForceModel(zonal_degree=problem.forces.zonal_degree, drag=False, srp=False),
        dense=True,
    )
    t_rel = _closest_approach(traj, sec, option.lead_time_s, half)
    r1, v1 = (a[0, 0] for a in traj.at([option.lead_time_s + t_rel]))
    r2, v2 = (a[0, 0] for a in sec.at([t_rel]))
    new = Encounter(
        np.concatenate([r1, v1]),
        _carry_covariance(enc.c1, enc.x1, r1, v1),
        np.concatenate([r2, v2]),
        _carry_covariance(enc.c2, enc.x2, r2, v2),
        enc.warnings,
    )
    report = encounter_pc(new, problem.hbr_m, method)[0]
    return Verified(
        option, problem.tca_jd, burn_fr, x, t_rel, float(np.linalg.norm(r2 - r1)), float(report.pc), report.method, traj
    )


def _carry_covariance(c: np.ndarray, x_old: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The same RTN covariance at a (slightly) different state: rotate inertial -> RTN_old -> RTN_new."""
    old = np.zeros((6, 6))
    new = np.zeros((6, 6))
    old[:3, :3] = old[3:, 3:] = rtn_basis(x_old[:3], x_old[3:])
    new[:3, :3] = new[3:, 3:] = rtn_basis(r, v)
    rot = new.T @ old
    return rot @ c @ rot.T


def _closest_approach(traj: NumericalEphemeris, sec: NumericalEphemeris, lead_s: float, half_s: float) -> float:
    """Time (s from the original TCA) of least distance in [-half, half]: a scan, then golden section."""
    t = np.linspace(-half_s, half_s, int(2 * half_s / 5.0) + 1)
    d = np.linalg.norm(traj.at(lead_s + t)[0][0] - sec.at(t)[0][0], axis=1)
    k = int(np.argmin(d))
    lo, hi = t[max(k - 1, 0)], t[min(k + 1, t.size - 1)]

    def dist(x: float) -> float:
        return float(np.linalg.norm(traj.at([lead_s + x])[0][0, 0] - sec.at([x])[0][0, 0]))

    return golden_section_min(dist, float(lo), float(hi), CLOSEST_APPROACH_TOLERANCE_S)


@dataclass(frozen=True)
class NewConjunction:
    """A pass the maneuvered primary makes with a catalog object, found by the re-screening."""

    object_id: str
    t_from_tca_s: float
    miss_km: float
    pc: float
    above_threshold: bool


@dataclass(frozen=True)
class Checked:
    """A verified burn with what the re-screening found for it."""

    verified: Verified
    new_conjunctions: tuple[NewConjunction, ...]

    @property
    def creates_conjunction(self) -> bool:
        return any(c.above_threshold for c in self.new_conjunctions)


@dataclass(frozen=True)
class AvoidancePlan:
    """The trade space, every burn checked in order (smallest Δv first) and the recommended one."""

    problem: AvoidanceProblem
    trade: TradeSpace
    checked: tuple[Checked, ...]
    recommended: Checked | None
    target_pc: float
    threshold_pc: float
    miss_floor_km: float
    method: str

    @property
    def needs_action(self) -> bool:
        return self.trade.pc_before >= self.threshold_pc


#: re-screening of a verified burn: the passes (other than the mitigated event) it creates
Rescreen = Callable[[AvoidanceProblem, Verified], list[NewConjunction]]


def plan_avoidance(
    problem: AvoidanceProblem,
    rescreen: Rescreen | None = None,
    target_pc: float = DEFAULT_TARGET_PC,
    threshold_pc: float = DEFAULT_THRESHOLD_PC,
    miss_floor_km: float = DEFAULT_MISS_FLOOR_KM,
    method: str = "foster",
    lead_times_s: np.ndarray | None = None,
    dv_m_s: np.ndarray | None = None,
    max_tries: int = 6,
) -> AvoidancePlan:
    """Trade space, then the burns in order of Δv, each verified numerically and re-screened, until
    one meets the target Pc and the miss floor without creating a conjunction at or above
    ``threshold_pc``; that one is recommended (None if no grid burn within ``max_tries`` does)."""
    if not 0 < target_pc < 1 or not 0 < threshold_pc < 1:
        raise InputError(f"target_pc and threshold_pc must lie in (0, 1), got {target_pc}, {threshold_pc}")
    trade, sens = trade_space(problem, lead_times_s, dv_m_s)
    checked: list[Checked] = []
    recommended = None
    for option in options(trade, target_pc, miss_floor_km)[: max(0, max_tries) * 4]:
        if len(checked) >= max_tries:
            break
        v = verify(problem, option, sens, method)
        if v.pc > target_pc or v.miss_km < miss_floor_km:
            continue  # the linear map was optimistic; the numerical check decides
        found = tuple(rescreen(problem, v)) if rescreen is not None else ()
        c = Checked(v, found)
        checked.append(c)
        if not c.creates_conjunction:
            recommended = c
            break
    return AvoidancePlan(problem, trade, tuple(checked), recommended, target_pc, threshold_pc, miss_floor_km, method)


def catalog_rescreen(
    catalog: CatalogStates,
    object_ids: list[str],
    secondary_covariance: Callable[[int, np.ndarray], np.ndarray],
    days_after: float = 2.0,
    threshold_km: float = 5.0,
    threshold_pc: float = DEFAULT_THRESHOLD_PC,
    step_s: float = 60.0,
    method: str = "foster",
) -> Rescreen:
    """A :data:`Rescreen` over a catalog whose states are a function of seconds from TCA.

    ``secondary_covariance(index, x_gcrs)`` gives a catalog object's 6x6 inertial covariance (km)
    at a state; the primary keeps the CDM's RTN covariance. The mitigated event (the secondary
    within half a revolution of the original TCA) is not a new conjunction.
    """

    def run(problem: AvoidanceProblem, v: Verified) -> list[NewConjunction]:
        lead = v.option.lead_time_s

        def primary(t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            r, vel = v.trajectory.at(np.asarray(t_s) + lead)
            return r[0], vel[0]

        end = days_after * SECONDS_PER_DAY
        # the trajectory must cover the window: extend it (dense) if the check stopped near TCA
        if v.trajectory.t_s[-1] < lead + end:
            x = v.state_after_burn
            traj = propagate_numerical(
                x[None, :3],
                x[None, 3:],
                v.burn_jd,
                v.burn_fr,
                [0.0, lead + end],
                problem.forces,
                problem.spacecraft,
                dense=True,
            )

            def primary(t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: F811
                r, vel = traj.at(np.asarray(t_s) + lead)
                return r[0], vel[0]

        passes = _rescreen(primary, catalog, -lead, end, threshold_km, step_s)
        half = 0.5 * problem.period_s
        out = []
        for p in passes:
            oid = object_ids[p.index]
            if oid == problem.secondary_id and abs(p.t_s) < half:
                continue
            c1 = _carry_covariance(problem.encounter.c1, problem.encounter.x1, p.x_primary[:3], p.x_primary[3:])
            enc = Encounter(p.x_primary, c1, p.x_secondary, secondary_covariance(p.index, p.x_secondary))
            pc = float(encounter_pc(enc, problem.hbr_m, method)[0].pc)
            out.append(NewConjunction(oid, p.t_s, p.miss_km, pc, pc >= threshold_pc))
        return out

    return run
