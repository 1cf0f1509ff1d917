"""Orbit determination routes: fit the stored astrometry a caller may see (optical and radar),
predict an imminent impactor's entry. Thin: the work is ``workflows.orbit_fit``, run through the job queue."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from ..storage.observations_repo import observation_from_row, visible_observations
from ..workflows.orbit_fit import fit_observations, fit_summary, impact_site_summary, predict_impact
from .budget import run_now
from .deps import CallerDep, SessionDep, route

router = APIRouter(prefix="/api/v1", tags=["neo"])
MAX_FIT_OBSERVATIONS = 20_000  # about twice Apophis's optical astrometry (7,819 + 432)
MAX_SITE_SAMPLES = 1_000
MAX_SITE_HORIZON_DAYS = 60.0


class FitRequest(BaseModel):
    designation: str = Field(examples=["2023 DW"], min_length=1, max_length=40)
    nongrav: bool = Field(False, description="fit the Yarkovsky parameter A2 too")


class ImpactSiteRequest(BaseModel):
    designation: str = Field(examples=["2008 TC3"], min_length=1, max_length=40)
    horizon_days: float = Field(30.0, gt=0, le=MAX_SITE_HORIZON_DAYS)
    samples: int = Field(300, ge=10, le=MAX_SITE_SAMPLES)
    seed: int = Field(1, ge=0, le=2**31 - 1)


def _observations(session, designation: str, who) -> tuple[list, list]:
    """The optical and radar (delay, Doppler) observations of ``designation`` the caller may see
    (the policy decides per row: another partner's private radar stays out like their optical)."""
    rows = visible_observations(session, designation, who.partner_id, limit=MAX_FIT_OBSERVATIONS + 1)
    optical = [observation_from_row(r) for r in rows if r.kind == "optical"]
    radar = [observation_from_row(r) for r in rows if r.kind in ("delay", "doppler")]
    if not optical:
        raise HTTPException(404, f"no optical observations of {designation!r} visible to you")
    if len(rows) > MAX_FIT_OBSERVATIONS:
        raise HTTPException(422, f"more than {MAX_FIT_OBSERVATIONS} observations: over this server's budget")
    session.close()
    return optical, radar


@route(
    router,
    "POST",
    "/neo/od/fit",
    ("analyst",),
    summary="Fit an orbit to the visible optical and radar astrometry of an object",
)
def fit(body: FitRequest, request: Request, session: SessionDep, who: CallerDep) -> dict:
    optical, radar = _observations(session, body.designation, who)
    return run_now(
        request,
        who,
        "neo-od-fit",
        lambda token: fit_summary(
            fit_observations(optical, nongrav=body.nongrav, check=token.raise_if_cancelled, radar=radar), optical
        ),
    )


@route(
    router,
    "POST",
    "/neo/od/impact-site",
    ("analyst",),
    summary="Impact probability and atmospheric entry of an object from its visible astrometry",
)
def impact_site(body: ImpactSiteRequest, request: Request, session: SessionDep, who: CallerDep) -> dict:
    optical, radar = _observations(session, body.designation, who)

    def work(token) -> dict:
        fitted = fit_observations(optical, check=token.raise_if_cancelled, radar=radar)
        token.raise_if_cancelled()
        return {
            "designation": fitted.designation,
            **impact_site_summary(predict_impact(fitted, body.horizon_days, body.samples, body.seed)),
        }

    return run_now(request, who, "neo-od-impact-site", work)
