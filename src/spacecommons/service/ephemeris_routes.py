"""Ephemerides: an operator uploads OEMs of its own objects; everyone lists and reads what
``policy.can_see_ephemeris`` lets them see (private, partners, public)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from ..ephemeris import read_oem
from ..policy import may_upload_ephemeris
from ..storage import ephemeris_repo
from ..storage.tables import EphemerisRow, SpaceObject
from .budget import gc_paused_dependency
from .catalog_routes import raw_body
from .deps import MAX_ID, CallerDep, ClockDep, Id, SessionDep, route

router = APIRouter(prefix="/api/v1/ephemerides", tags=["ephemerides"])


class EphemerisOut(BaseModel):
    id: int
    norad_id: int = Field(ge=0, le=MAX_ID, examples=[25544])
    object_name: str
    object_id: str
    visibility: Literal["private", "partners", "public"]
    time_system: str = Field(examples=["UTC"])
    ref_frame: str = Field(examples=["EME2000"])
    start_time: datetime = Field(description="first epoch (calendar, in time_system)")
    stop_time: datetime
    n_states: int
    n_covariances: int
    digest: str = Field(description="sha256 of the uploaded text")
    mine: bool = Field(description="uploaded by the caller's partner")


def _out(row: EphemerisRow, caller_partner_id: int | None) -> EphemerisOut:
    return EphemerisOut(
        id=row.id,
        norad_id=row.norad_id,
        object_name=row.object_name,
        object_id=row.object_id,
        visibility=row.visibility,
        time_system=row.time_system,
        ref_frame=row.ref_frame,
        start_time=row.start_time,
        stop_time=row.stop_time,
        n_states=row.n_states,
        n_covariances=row.n_covariances,
        digest=row.digest,
        mine=caller_partner_id is not None and row.owner_partner_id == caller_partner_id,
    )


@route(
    router,
    "POST",
    "",
    ("operator",),
    response_model=list[EphemerisOut],
    status_code=201,
    summary="Upload a CCSDS OEM (KVN or XML) of the partner's own objects (objects an admin made the "
    "partner's, catalog owner); one entry per object",
)
def upload_ephemeris(
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    body: bytes = Depends(raw_body),
    _no_gc_pauses: None = Depends(gc_paused_dependency),
    visibility: Literal["private", "partners", "public"] = Query("private"),
    filename: str = Query("upload.oem", max_length=200, description="name kept as the source"),
) -> list[EphemerisOut]:
    source = Path(filename).name
    oem = read_oem(body, source)  # an OdmError (file, line, keyword) is a 400
    if body.lstrip()[:1] == b"<" and oem.version == "2.0":
        from ..ephemeris.schema import schema_errors

        problems = schema_errors(body.decode("utf-8", "replace"), limit=5)
        if problems:
            raise HTTPException(400, f"{source}: not valid against the NDM/XML OEM 2.0 schema: {'; '.join(problems)}")
    numbers = {ephemeris_repo.object_number(session, s.object_id, source) for s in oem.segments}
    for nid in sorted(numbers):
        obj = session.get(SpaceObject, nid)
        if obj is None or not may_upload_ephemeris(obj.owner_partner_id, who.partner_id):
            raise HTTPException(403, f"object {nid} is not an object of your partner")
    try:
        rows = ephemeris_repo.store(session, body, oem, who.partner_id, visibility, clock(), source=source)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    session.commit()
    return [_out(r, who.partner_id) for r in rows]


@route(router, "GET", "", ("public",), response_model=list[EphemerisOut], summary="Ephemerides the caller may see")
def list_ephemerides(session: SessionDep, who: CallerDep) -> list[EphemerisOut]:
    return [_out(r, who.partner_id) for r in ephemeris_repo.list_ephemerides(session, who.partner_id)]


@route(router, "GET", "/{ephemeris_id}", ("public",), response_model=EphemerisOut, summary="One ephemeris")
def get_ephemeris(ephemeris_id: Id, session: SessionDep, who: CallerDep) -> EphemerisOut:
    found = ephemeris_repo.get_ephemeris(session, ephemeris_id, who.partner_id)
    if found is None:
        raise HTTPException(404, f"no ephemeris {ephemeris_id}")
    return _out(found[0], who.partner_id)


@route(
    router,
    "GET",
    "/{ephemeris_id}/oem",
    ("public",),
    response_class=PlainTextResponse,
    summary="The uploaded OEM text, byte for byte",
)
def get_ephemeris_text(ephemeris_id: Id, session: SessionDep, who: CallerDep) -> PlainTextResponse:
    found = ephemeris_repo.get_ephemeris(session, ephemeris_id, who.partner_id)
    if found is None:
        raise HTTPException(404, f"no ephemeris {ephemeris_id}")
    row, text = found
    kind = "application/xml" if text.lstrip().startswith("<") else "text/plain"
    return PlainTextResponse(text, media_type=kind)
