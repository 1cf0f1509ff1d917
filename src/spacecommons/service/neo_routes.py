"""NEO watch and planetary defense: thin wrappers over spacecommons.neo and spacecommons.defense."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from ..defense import impact_effects
from ..errors import TimeError
from ..neo.approaches import BODIES, close_approaches
from ..neo.scales import palermo
from ..neo.torino import torino
from ..storage.neo_repo import latest_orbits
from ..timescales import tdb_to_jd
from ..workflows.neo_risk import risk_rows
from .deps import SessionDep, route

router = APIRouter(prefix="/api/v1", tags=["neo", "defense"])
MAX_OBJECTS_SYNC = 50


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
def approaches(body: ApproachRequest, session: SessionDep) -> dict:
    if body.body not in BODIES:
        raise HTTPException(400, f"body must be one of {', '.join(BODIES)}")
    try:
        t0, t1 = tdb_to_jd(body.start), tdb_to_jd(body.end)
    except TimeError as exc:
        raise HTTPException(400, str(exc)) from None
    if not 0 < t1 - t0 <= 3660:
        raise HTTPException(400, "the window must be positive and at most 10 years")
    found = latest_orbits(session, body.designations)
    missing = sorted(set(body.designations) - {o.designation for o in found})
    if missing:
        raise HTTPException(404, f"no stored orbit for {', '.join(missing)}")
    rows = [a.row() for a in close_approaches(found, t0, t1, body.body, body.max_dist_au)]
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
    diameter_m: float = Query(..., ge=0.1, le=1e5, examples=[50]),
    density: float = Query(3000.0, ge=100, le=20000),
    speed_km_s: float = Query(..., ge=1, le=80, examples=[20]),
    angle_deg: float = Query(45.0, ge=1, le=90),
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
def risk(body: RiskRequest, session: SessionDep) -> list[dict]:
    found = {o.designation: o for o in latest_orbits(session, body.designations)}
    missing = sorted(set(body.designations) - set(found))
    if missing:
        raise HTTPException(404, f"no stored orbit for {', '.join(missing)}")
    no_cov = sorted(d for d, o in found.items() if o.covariance is None)
    if no_cov:
        raise HTTPException(400, f"no covariance for {', '.join(no_cov)}: impact monitoring needs one")
    return risk_rows(found.values(), body.horizon_years, body.samples, body.method, body.seed)
