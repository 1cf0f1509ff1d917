"""Missions of the lunar station and the payloads they carry (the payload registry)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from ...storage import exchange_repo as repo
from ..deps import CallerDep, SessionDep, route
from .common import conflict_as_409

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])


class MissionIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["ILRS lander 1"])
    kind: str = Field(pattern="^(module|lander|rover|orbiter)$", examples=["lander"])
    proprietary_days: float = Field(180, ge=0, le=3650)
    public_after_days: float = Field(180, ge=0, le=3650, description="after the partners' release")
    label_policy: str = Field(
        "warn",
        pattern="^(strict|warn)$",
        description="strict: a label failing PDS4 validation is refused; warn: accepted with its findings",
    )


class PayloadIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["LPR"])
    instrument: str = Field(min_length=1, max_length=128, examples=["Lunar Penetrating Radar"])
    mass_kg: float | None = Field(None, ge=0)
    power_w: float | None = Field(None, ge=0)
    data_rate_kbps: float | None = Field(None, ge=0)
    status: str = Field("operating", pattern="^(planned|operating|safe-mode|ended)$")
    proprietary_days: float | None = Field(None, ge=0, le=3650, description="overrides the mission's")


class PayloadOut(PayloadIn):
    id: int
    mission: str
    owner_partner_id: int


@route(
    router,
    "POST",
    "/missions",
    ("operator",),
    status_code=201,
    summary="Register a mission (owned by the caller's partner)",
)
def create_mission(body: MissionIn, session: SessionDep, who: CallerDep) -> dict:
    conflict = f"mission {body.name!r} exists"
    if repo.mission(session, body.name) is not None:
        raise HTTPException(409, conflict)
    with conflict_as_409(session, conflict):  # a concurrent create of the same name won
        m = repo.create_mission(session, who.partner_id, **body.model_dump())
        session.commit()
    return {"id": m.id, "name": m.name}


@route(
    router,
    "POST",
    "/missions/{mission}/payloads",
    ("operator",),
    response_model=PayloadOut,
    status_code=201,
    summary="Register a payload on a mission (the mission's owner partner, or an admin)",
)
def create_payload(mission: str, body: PayloadIn, session: SessionDep, who: CallerDep) -> PayloadOut:
    m = repo.mission(session, mission)
    if m is None:
        raise HTTPException(404, f"no mission {mission!r}")
    if m.owner_partner_id != who.partner_id and who.role != "admin":
        raise HTTPException(403, f"only the partner that owns {mission!r} registers payloads on it")
    conflict = f"payload {body.name!r} exists on {mission!r}"
    if repo.payload_exists(session, m.id, body.name):
        raise HTTPException(409, conflict)
    # the payload (and so its products) belongs to the mission's owner, also when an admin registers it
    with conflict_as_409(session, conflict):
        p = repo.create_payload(session, m.id, m.owner_partner_id, **body.model_dump())
        session.commit()
    return PayloadOut(id=p.id, mission=m.name, owner_partner_id=p.owner_partner_id, **body.model_dump())


@route(router, "GET", "/payloads", ("public",), response_model=list[PayloadOut], summary="The payload registry")
def payloads(session: SessionDep) -> list[PayloadOut]:
    return [
        PayloadOut(
            id=p.id,
            mission=name,
            owner_partner_id=p.owner_partner_id,
            name=p.name,
            instrument=p.instrument,
            mass_kg=p.mass_kg,
            power_w=p.power_w,
            data_rate_kbps=p.data_rate_kbps,
            status=p.status,
            proprietary_days=p.proprietary_days,
        )
        for p, name in repo.payloads(session)
    ]
