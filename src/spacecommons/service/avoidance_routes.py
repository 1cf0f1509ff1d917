"""Collision-avoidance planning for a screening event (analysts and operators; through the job queue)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from ..storage.tables import ConjunctionEvent
from ..timescales import as_utc
from .budget import run_now
from .deps import CallerDep, ClockDep, Id, SessionDep, route
from .screening_routes import _visible_run

router = APIRouter(prefix="/api/v1/screening", tags=["avoidance"])


class AvoidRequest(BaseModel):
    target_pc: float = Field(1e-6, gt=0, lt=1, description="Pc the burn must reach")
    threshold_pc: float = Field(1e-4, gt=0, lt=1, description="act at or above this Pc (CARA red: 1e-4)")
    miss_floor_km: float = Field(0.5, ge=0, le=100)
    method: str = Field("foster", pattern="^(foster|3d|mc|max|auto)$")
    max_lead_h: float = Field(48.0, gt=0, le=48, description="earliest burn, hours before TCA")
    rescreen: bool = Field(True, description="re-screen the maneuvered orbit against the run's catalog")
    days_after: float = Field(1.0, ge=0, le=3, description="re-screening window after TCA (days)")


@route(
    router,
    "POST",
    "/runs/{run_id}/events/{event_id}/avoidance",
    ("analyst", "operator"),
    summary="Avoidance-maneuver trade space and the recommended burn for an event of a visible run "
    "(the spacecommons avoid --json document; runs in the job queue)",
)
def plan_event_avoidance(
    run_id: Id, event_id: Id, body: AvoidRequest, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> dict:
    from ..workflows.avoidance import cdm_for_event, run_avoidance

    _visible_run(session, run_id, who)  # policy.can_see_run: another partner's private run is a 404
    ev = session.get(ConjunctionEvent, event_id)
    if ev is None or ev.run_id != run_id:
        raise HTTPException(404, f"no event {event_id} in run {run_id}")
    now = as_utc(clock())
    cdm, sats, ids = cdm_for_event(session, event_id, now)
    session.close()  # no connection held while the job waits or runs
    catalog = (sats, ids) if body.rescreen else None

    def work(_token):
        return run_avoidance(
            cdm,
            now,
            catalog,
            body.target_pc,
            body.threshold_pc,
            body.miss_floor_km,
            body.method,
            days_after=body.days_after,
            max_lead_s=body.max_lead_h * 3600.0,
        ).summary

    return run_now(request, who, "avoidance", work)
