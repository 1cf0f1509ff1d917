"""Avoidance-maneuver job: a CDM (and optionally a catalog to re-screen against) in; the plan, its
JSON, a heat map, the recommended burn as a CCSDS OPM and the post-maneuver OEM out.

Written once for the CLI and the service. The clock (for CREATION_DATE) comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..avoidance import (
    DEFAULT_MISS_FLOOR_KM,
    DEFAULT_TARGET_PC,
    DEFAULT_THRESHOLD_PC,
    AvoidancePlan,
    AvoidanceProblem,
    catalog_rescreen,
    default_lead_times,
    plan_avoidance,
)
from ..constants import SECONDS_PER_DAY
from ..errors import InputError
from ..propagation import ForceModel, Spacecraft
from ..timescales import datetime_to_jd, format_utc, jd_to_datetime

ORIGINATOR = "SPACECOMMONS"
OEM_STEP_S = 60.0


@dataclass(frozen=True)
class AvoidanceResult:
    """The plan with its products (texts; the caller writes files)."""

    plan: AvoidancePlan
    summary: dict
    opm_kvn: str | None
    oem_kvn: str | None


def problem_from_cdm(cdm, forces: ForceModel | None = None, hbr_m: float | None = None) -> AvoidanceProblem:
    """Object 1 of the CDM maneuvers; its CD_AREA_OVER_MASS / CR_AREA_OVER_MASS (m^2/kg) set drag and SRP."""
    from ..cdm.pc import encounter_from_cdm

    hbr = hbr_m if hbr_m is not None else cdm.hbr_m()
    if hbr is None:
        raise InputError(f"{cdm.source}: no hard-body radius: give --hbr-m (the message has no COMMENT HBR)")

    def area(key: str, default: float) -> float:
        text = cdm.get(key, 1)
        return float(text) if text not in (None, "") else default

    sc = Spacecraft(
        mass_kg=1.0,
        drag_area_m2=area("CD_AREA_OVER_MASS", 0.01),  # 0.01 m^2/kg: a typical satellite when the CDM is silent
        cd=1.0,
        srp_area_m2=area("CR_AREA_OVER_MASS", 0.01),
        cr=1.0,
    )
    jd, fr = datetime_to_jd(cdm.tca)
    ids = [(cdm.get("OBJECT_DESIGNATOR", k) or str(k)).lstrip("0") or "0" for k in (1, 2)]
    return AvoidanceProblem(jd, fr, encounter_from_cdm(cdm), float(hbr), sc, forces or ForceModel(), ids[0], ids[1])


def element_catalog(satrecs: list, ids: list[str], tca_jd: float, tca_fr: float):
    """GCRS states of SGP4 records (TEME -> GCRS) as a function of seconds from TCA, and the default
    TLE covariance of each (risk.default_covariance, by regime and element age at TCA)."""
    from ..catalog.elements import orbit_regime
    from ..constants import MINUTES_PER_DAY
    from ..frames import teme_to_gcrf
    from ..propagation.sgp4_batch import propagate_satrecs
    from ..risk.default_covariance import default_covariance_rtn
    from ..risk.plane import rtn_to_inertial

    sats = list(satrecs)
    ages = [(tca_jd - s.jdsatepoch) + (tca_fr - s.jdsatepochF) for s in sats]
    regimes = [str(orbit_regime(s.no_kozai * MINUTES_PER_DAY / (2 * np.pi), s.ecco)) for s in sats]

    def states(t_s: np.ndarray):
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        jd = np.full(t_s.shape, tca_jd)
        fr = tca_fr + t_s / SECONDS_PER_DAY
        err, r, v = propagate_satrecs(sats, jd, fr)
        r, v = teme_to_gcrf(r, v, jd, fr)
        return r, v, err == 0

    def covariance(index: int, x: np.ndarray) -> np.ndarray:
        n = sats[index].no_kozai / 60.0  # rad/min -> rad/s
        return rtn_to_inertial(default_covariance_rtn(ages[index], regimes[index], n) * 1e-6, x[:3], x[3:])

    return states, list(ids), covariance


def cdm_for_event(session, event_id: int, now: datetime):
    """The CDM of a stored screening event and its run's SGP4 records and ids (for the re-screening)."""
    from ..storage import screening_repo as repo
    from ..storage.tables import ConjunctionEvent
    from .cdm_export import run_event_cdms

    ev = session.get(ConjunctionEvent, event_id)
    if ev is None:
        raise InputError(f"EVENT: no screening event {event_id}")
    _run, _params, payload, _ = repo.load_run(session, ev.run_id)
    found = list(run_event_cdms(session, ev.run_id, now, event_id=event_id))
    if not found:
        raise InputError(f"EVENT: event {event_id} could not be refined to a TCA")
    from sgp4.api import Satrec

    # objects that fly an owner ephemeris (OEM) in that run are left out of the re-screening catalog
    pairs = [(s, str(i)) for s, i in zip(payload.satrecs(), payload.norad_ids, strict=True) if isinstance(s, Satrec)]
    return found[0][1], [s for s, _ in pairs], [i for _, i in pairs]


def run_avoidance(
    cdm,
    now: datetime,
    catalog: tuple[list, list[str]] | None = None,
    target_pc: float = DEFAULT_TARGET_PC,
    threshold_pc: float = DEFAULT_THRESHOLD_PC,
    miss_floor_km: float = DEFAULT_MISS_FLOOR_KM,
    method: str = "foster",
    days_after: float = 2.0,
    screen_threshold_km: float = 5.0,
    forces: ForceModel | None = None,
    lead_times_s: np.ndarray | None = None,
    dv_m_s: np.ndarray | None = None,
    max_lead_s: float | None = None,
) -> AvoidanceResult:
    """Plan an avoidance maneuver for object 1 of ``cdm``; re-screen against ``catalog`` (SGP4
    records and their ids) if given."""
    problem = problem_from_cdm(cdm, forces)
    if lead_times_s is None and max_lead_s is not None:
        lead_times_s = default_lead_times(problem.period_s, max_lead_s)
    rescreen = None
    if catalog:
        states, ids, cov = element_catalog(catalog[0], catalog[1], problem.tca_jd, problem.tca_fr)
        rescreen = catalog_rescreen(states, ids, cov, days_after, screen_threshold_km, threshold_pc, method=method)
    result = plan_avoidance(problem, rescreen, target_pc, threshold_pc, miss_floor_km, method, lead_times_s, dv_m_s)
    opm = oem = None
    if result.recommended is not None:
        opm, oem = _messages(result, now, days_after)
    return AvoidanceResult(result, summary(result, rescreened=bool(catalog)), opm, oem)


def summary(result: AvoidancePlan, rescreened: bool) -> dict:
    """The JSON document of ``spacecommons avoid --json``."""
    p = result.problem
    tca = jd_to_datetime(p.tca_jd, p.tca_fr)
    rec = None
    new = []
    if result.recommended is not None:
        v = result.recommended.verified
        rec = {
            "epoch": format_utc(jd_to_datetime(v.burn_jd, v.burn_fr)),
            "dv_m_s": [float(x) for x in v.option.dv_rtn_m_s],
            "dv_frame": "RTN",
            "lead_time_s": v.option.lead_time_s,
            "pc_after": v.pc,
            "miss_after_km": v.miss_km,
            "tca_after": format_utc(jd_to_datetime(p.tca_jd, p.tca_fr + v.tca_offset_s / SECONDS_PER_DAY)),
            "method": v.method,
        }
        new = [_conj(c) for c in result.recommended.new_conjunctions]
    return {
        "primary": p.primary_id,
        "secondary": p.secondary_id,
        "tca": format_utc(tca),
        "pc_before": result.trade.pc_before,
        "miss_before_km": result.trade.miss_before_km,
        "threshold_pc": result.threshold_pc,
        "target_pc": result.target_pc,
        "miss_floor_km": result.miss_floor_km,
        "needs_action": result.needs_action,
        "recommended": rec,
        "rescreened": rescreened,
        "new_conjunctions": new,
        "rejected": [
            {
                "epoch": format_utc(jd_to_datetime(c.verified.burn_jd, c.verified.burn_fr)),
                "dv_m_s": [float(x) for x in c.verified.option.dv_rtn_m_s],
                "lead_time_s": c.verified.option.lead_time_s,
                "pc_after": c.verified.pc,
                "new_conjunctions": [_conj(n) for n in c.new_conjunctions],
            }
            for c in result.checked
            if c is not result.recommended
        ],
        "trade_space": {
            "grid_pc_method": "foster (linearised; the recommended burn is verified numerically)",
            "directions": list(result.trade.directions),
            "lead_time_s": [float(x) for x in result.trade.lead_times_s],
            "dv_m_s": [float(x) for x in result.trade.dv_m_s],
            "pc": result.trade.pc.tolist(),
            "miss_km": result.trade.miss_km.tolist(),
        },
    }


def _conj(c) -> dict:
    return {
        "object_id": c.object_id,
        "t_from_tca_s": c.t_from_tca_s,
        "miss_km": c.miss_km,
        "pc": c.pc,
        "above_threshold": c.above_threshold,
    }


def _messages(result: AvoidancePlan, now: datetime, days_after: float) -> tuple[str, str]:
    """The recommended burn as an OPM (state at ignition + maneuver block) and the post-burn OEM."""
    from ..ephemeris import write_oem, write_opm
    from ..ephemeris.model import Maneuver, Oem, OemSegment, Opm, jd_to_epoch
    from ..propagation import propagate_numerical

    p = result.problem
    v = result.recommended.verified
    created = jd_to_epoch(*datetime_to_jd(now))
    epoch = jd_to_epoch(v.burn_jd, v.burn_fr)
    x0 = v.state_after_burn.copy()
    x0[3:] -= _rtn_to_gcrs(v) @ (v.option.dv_rtn_m_s / 1000.0)  # the state before the impulse
    man = Maneuver(
        epoch,
        0.0,
        0.0,
        "RTN",
        v.option.dv_rtn_m_s / 1000.0,
        [f"impulsive collision-avoidance burn, lead {v.option.lead_time_s:.0f} s before TCA"],
    )
    opm = Opm.build(
        object_name=p.primary_id,
        object_id=p.primary_id,
        epoch=epoch,
        r_km=x0[:3],
        v_km_s=x0[3:],
        creation_date=created,
        originator=ORIGINATOR,
        maneuvers=[man],
        comments=[f"avoidance of {p.secondary_id}: Pc {result.trade.pc_before:.3g} -> {v.pc:.3g} ({v.method})"],
    )
    end = v.option.lead_time_s + days_after * SECONDS_PER_DAY
    t = np.arange(0.0, end + OEM_STEP_S / 2, OEM_STEP_S)
    eph = propagate_numerical(
        x0[None, :3], v.state_after_burn[None, 3:], v.burn_jd, v.burn_fr, t, p.forces, p.spacecraft
    )
    seg = OemSegment.from_arrays(
        object_name=p.primary_id,
        object_id=p.primary_id,
        jd=np.full(t.shape, v.burn_jd),
        fr=v.burn_fr + t / SECONDS_PER_DAY,
        r_km=eph.r_km[0],
        v_km_s=eph.v_km_s[0],
        comments=["post-maneuver trajectory, Cowell propagation (spacecommons.propagation.numerical)"],
    )
    oem = Oem.build([seg], creation_date=created, originator=ORIGINATOR)
    return write_opm(opm), write_oem(oem)


def _rtn_to_gcrs(v) -> np.ndarray:
    from ..frames import rtn_basis

    x = v.state_after_burn
    return rtn_basis(x[:3], x[3:]).T


def heatmap_png(result: AvoidancePlan, path) -> None:
    """Pc after the burn over lead time x |Δv|, one panel per direction (log colour scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    ts = result.trade
    fig, axes = plt.subplots(
        1, len(ts.directions), figsize=(4 * len(ts.directions), 4), sharey=True, constrained_layout=True
    )
    pc = np.clip(ts.pc, 1e-12, 1.0)
    norm = LogNorm(vmin=1e-12, vmax=1.0)
    hours = ts.lead_times_s / 3600.0
    for ax, d, grid in zip(axes, ts.directions, pc, strict=True):
        mesh = ax.pcolormesh(ts.dv_m_s, hours, grid, norm=norm, shading="nearest", cmap="viridis")
        ax.contour(
            ts.dv_m_s,
            hours,
            grid,
            levels=[result.target_pc, result.threshold_pc],
            colors=["white", "red"],
            linewidths=1,
        )
        ax.set_xscale("log")
        ax.set_xlabel("|Δv| (m/s)")
        ax.set_title(f"{d} burn")
        rec = result.recommended
        if rec is not None and rec.verified.option.direction == d:
            ax.plot(rec.verified.option.dv_m_s, rec.verified.option.lead_time_s / 3600.0, "r*", markersize=12)
    axes[0].set_ylabel("lead time before TCA (h)")
    fig.colorbar(mesh, ax=list(axes), label="Pc after the burn (Foster, linearised)")
    fig.suptitle(f"{result.problem.primary_id} vs {result.problem.secondary_id}: Pc {ts.pc_before:.2e} before")
    fig.savefig(path, dpi=100)
    plt.close(fig)
