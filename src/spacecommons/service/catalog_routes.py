"""Catalog: objects, element-set history, element-set submission by observers (partner sets: they
become an object's latest state only for the objects their partner owns, ``catalog.trust``), and
object owners (admin)."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
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
from .budget import gc_paused_dependency
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
    update_jobs: list[str] = Field(
        default_factory=list,
        description="re-screening jobs queued for the partner's runs that contain objects whose latest state "
        "this submission changed (GET /api/v1/screening/jobs/{job_id})",
    )
    updates_refused: int = Field(0, description="runs not queued for re-screening: queue full or quota used")


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


def _owned_objects(session, norad_ids: set[int], partner_id: int) -> set[int]:
    """Of ``norad_ids``, the objects ``partner_id`` owns: the only ones whose latest state a
    partner's submission can change (``catalog.trust``)."""
    from sqlalchemy import select

    from ..storage.tables import SpaceObject

    ids = sorted(norad_ids)
    owned: set[int] = set()
    for start in range(0, len(ids), 500):  # bounded IN lists
        q = select(SpaceObject.norad_id).where(
            SpaceObject.owner_partner_id == partner_id, SpaceObject.norad_id.in_(ids[start : start + 500])
        )
        owned.update(session.scalars(q))
    return owned


async def raw_body(request: Request) -> bytes:
    """The request body, read on the event loop (BodyLimit counts it as it streams); the route
    itself is a plain ``def``, so parsing and storing run in a worker thread, not on the loop."""
    return await request.body()


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
def submit_elements(
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    body: bytes = Depends(raw_body),
    _no_gc_pauses: None = Depends(gc_paused_dependency),
    filename: str = Query("upload.tle", description="name whose extension tells the format", examples=["obs.xml"]),
) -> SubmissionOut:
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
    jobs, jobs_refused = [], 0
    if counts.added and who.partner_id is not None:
        from .screening_routes import enqueue_updates

        owned = _owned_objects(session, {r.norad_id for r in records}, who.partner_id)
        jobs, jobs_refused = enqueue_updates(request, session, who, owned)
    return SubmissionOut(
        added=counts.added,
        unchanged=counts.unchanged,
        rejected=rejected,
        update_jobs=jobs,
        updates_refused=jobs_refused,
    )


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


ANONYMOUS_CZML_LIMIT = 2000  # objects per catalog CZML for callers without a key
KEYED_CZML_LIMIT = 50000
CZML_BUCKET_S = 60  # anonymous CZML is computed for `at` floored to this, and cached
CZML_CACHE_ENTRIES = 32


class CzmlCache:
    """Anonymous catalog CZML by (time bucket, limit, catalog watermark); oldest entries go first."""

    def __init__(self, entries: int = CZML_CACHE_ENTRIES) -> None:
        self.entries, self._items, self._lock = entries, {}, threading.Lock()

    def get(self, key: tuple) -> list | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple, doc: list) -> None:
        with self._lock:
            while len(self._items) >= self.entries:
                self._items.pop(next(iter(self._items)))
            self._items[key] = doc


def _czml(records, when) -> list:
    from ..conjunction.catalog_payload import CatalogPayload
    from .czml import catalog_czml

    if not records:
        return [{"id": "document", "name": "catalog", "version": "1.0"}]
    payload = CatalogPayload.from_elements(records)
    return catalog_czml(when, list(zip(payload.norad_ids, payload.names, payload.satrecs(), strict=True)))


@route(
    router,
    "GET",
    "/czml",
    ("public",),
    summary="CZML of the catalog's positions at one time (latest elements); anonymous callers get at most "
    f"{ANONYMOUS_CZML_LIMIT} objects at `at` floored to {CZML_BUCKET_S} s (header X-Positions-At), cached",
)
def catalog_czml_route(
    request: Request,
    response: Response,
    session: SessionDep,
    who: CallerDep,
    at: TimeIn = Query(..., examples=["2021-10-02T00:00:00Z"], description="UTC with its offset"),
    limit: int | None = Query(
        None,
        ge=1,
        le=KEYED_CZML_LIMIT,
        description=f"objects; default and maximum {ANONYMOUS_CZML_LIMIT} without a key, default 5000 with one",
    ),
) -> list:
    from ..storage.catalog_repo import catalog_mark, latest_elements
    from .budget import run_now

    when = at.astimezone(UTC)
    if who.is_anonymous:
        if limit is not None and limit > ANONYMOUS_CZML_LIMIT:
            raise HTTPException(
                422, f"limit {limit} is over {ANONYMOUS_CZML_LIMIT}, the most objects served without an API key"
            )
        limit = limit or ANONYMOUS_CZML_LIMIT
        when = datetime.fromtimestamp(when.timestamp() // CZML_BUCKET_S * CZML_BUCKET_S, UTC)
        key = (when, limit, catalog_mark(session))
        response.headers["X-Positions-At"] = when.isoformat().replace("+00:00", "Z")
        hit = request.app.state.czml_cache.get(key)
        if hit is not None:
            return hit
    else:
        limit, key = limit or 5000, None
    records = latest_elements(session)[:limit]
    session.close()  # no connection held while the job waits or runs
    doc = run_now(request, who, "catalog-czml", lambda _token: _czml(records, when))
    if key is not None:
        request.app.state.czml_cache.put(key, doc)
    return doc
