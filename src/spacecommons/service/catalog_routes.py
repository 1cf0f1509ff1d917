"""Catalog: objects, element-set history, element-set submission by observers (partner sets: they
become an object's latest state only for the objects their partner owns, ``catalog.trust``), and
object owners (admin)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from ..catalog import read_elements
from ..catalog.trust import Trust, vet_element_sets
from ..storage.catalog_repo import (
    element_history_with_trust,
    object_summary,
    partner_named,
    search_objects,
    set_owner,
    store_elements,
)
from .deps import MAX_ID, CallerDep, ClockDep, Id, SessionDep, route
from .timefields import TimeIn

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


class ObjectOut(BaseModel):
    norad_id: int = Field(ge=0, le=MAX_ID, examples=[25544])
    name: str = Field(examples=["ISS (ZARYA)"])
    object_id: str = Field(examples=["1998-067A"])
    hbr_m: float | None = None
    element_sets: int = 0
    latest_epoch: str | None = None


class ElementSetOut(BaseModel):
    epoch: str
    format: str
    source: str
    source_line: int
    line1: str | None = None
    line2: str | None = None
    fields: dict
    trust: Trust = Field(description="authoritative (the node's loads) or partner (an API submission)")


class SubmissionOut(BaseModel):
    added: int
    unchanged: int
    rejected: list[str] = Field(description="file:line: field: reason for each record that did not land")


class OwnerIn(BaseModel):
    partner: str | None = Field(
        description="the partner whose element sets may be the object's latest state; null: none", examples=["ESA"]
    )


@route(router, "GET", "/objects", ("public",), response_model=list[ObjectOut], summary="Search catalog objects")
def list_objects(
    session: SessionDep,
    q: str | None = Query(None, description="catalog number or part of the name", examples=["FENGYUN"]),
    regime: Literal["LEO", "MEO", "GEO", "HEO"] | None = Query(None, description="from the latest element set"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_ID),
) -> list[ObjectOut]:
    rows = search_objects(session, q, regime, limit, offset)
    return [
        ObjectOut(
            norad_id=o.norad_id, name=o.name, object_id=o.object_id, hbr_m=o.hbr_m, element_sets=n, latest_epoch=latest
        )
        for o, n, latest in rows
    ]


@route(router, "GET", "/objects/{norad_id}", ("public",), response_model=ObjectOut, summary="One object")
def get_object(norad_id: Id, session: SessionDep) -> ObjectOut:
    found = object_summary(session, norad_id)
    if found is None:
        raise HTTPException(404, f"no object {norad_id}")
    o, n, latest = found
    return ObjectOut(
        norad_id=o.norad_id, name=o.name, object_id=o.object_id, hbr_m=o.hbr_m, element_sets=n, latest_epoch=latest
    )


@route(
    router,
    "GET",
    "/objects/{norad_id}/elements",
    ("public",),
    response_model=list[ElementSetOut],
    summary="Element-set history of one object, oldest first",
)
def object_elements(norad_id: Id, session: SessionDep) -> list[ElementSetOut]:
    sets = element_history_with_trust(session, norad_id)
    if not sets:
        raise HTTPException(404, f"no element sets for {norad_id}")
    return [
        ElementSetOut(
            epoch=s.fields["EPOCH"] + "Z",
            format=s.format,
            source=s.source,
            source_line=s.line,
            line1=s.line1,
            line2=s.line2,
            fields=dict(s.fields),
            trust=trust,
        )
        for s, trust, _ in sets
    ]


@route(
    router,
    "POST",
    "/elements",
    ("observer",),
    response_model=SubmissionOut,
    status_code=201,
    summary="Submit element sets (TLE/3LE, OMM KVN/XML/JSON/CSV); provenance is the partner and member. "
    "They become an object's latest state only for objects the partner owns; epochs more than 3 days "
    "ahead and text with control characters are rejected per record",
)
async def submit_elements(
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    filename: str = Query("upload.tle", description="name whose extension tells the format", examples=["obs.xml"]),
) -> SubmissionOut:
    body = await request.body()
    suffix = Path(filename).suffix or ".tle"
    source = f"api:{who.partner}/{who.member}/{Path(filename).name}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(body)
        parsed = read_elements(path)
    now = clock()
    records, refused = vet_element_sets([replace(r, source=source) for r in parsed.records], now)
    counts = store_elements(session, records, now, partner_id=who.partner_id)
    session.commit()
    rejected = [str(i).replace(str(path), source) for i in parsed.issues] + [str(i) for i in refused]
    return SubmissionOut(added=counts.added, unchanged=counts.unchanged, rejected=rejected)


@route(
    router,
    "PUT",
    "/objects/{norad_id}/owner",
    ("admin",),
    summary="Admin: the partner whose element sets may be the object's latest state (null: only authoritative)",
)
def put_owner(norad_id: Id, body: OwnerIn, session: SessionDep) -> dict:
    partner_id = None
    if body.partner is not None:
        partner_id = partner_named(session, body.partner)
        if partner_id is None:
            raise HTTPException(404, f"no partner {body.partner!r}")
    if not set_owner(session, norad_id, partner_id):
        raise HTTPException(404, f"no object {norad_id}")
    session.commit()
    return {"norad_id": norad_id, "owner": body.partner}


@route(router, "GET", "/czml", ("public",), summary="CZML of the catalog's positions at one time (latest elements)")
def catalog_czml_route(
    session: SessionDep,
    at: TimeIn = Query(..., examples=["2021-10-02T00:00:00Z"], description="UTC with its offset"),
    limit: int = Query(5000, ge=1, le=50000),
) -> list:
    from ..conjunction.catalog_payload import CatalogPayload
    from ..storage.catalog_repo import latest_elements
    from .czml import catalog_czml

    when = at.astimezone(UTC)
    records = latest_elements(session)[:limit]
    if not records:
        return [{"id": "document", "name": "catalog", "version": "1.0"}]
    payload = CatalogPayload.from_elements(records)
    return catalog_czml(when, list(zip(payload.norad_ids, payload.names, payload.satrecs(), strict=True)))
