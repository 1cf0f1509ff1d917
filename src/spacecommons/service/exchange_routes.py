"""Lunar data exchange: missions and payloads, PDS4 products, files (range downloads), embargo,
access requests, one module per resource under ``service/exchange/``; this module joins their routes
into one router (and keeps the fixity audit route)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..storage.tables import ProductFile
from .deps import db, route
from .exchange import access, files, missions, products
from .exchange.common import MAX_FILE_BYTES

router = APIRouter()
for _module in (missions, products, files, access):
    router.include_router(_module.router)
router_fixity = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])

__all__ = ["MAX_FILE_BYTES", "audit_files", "router"]


@route(
    router_fixity,
    "GET",
    "/fixity",
    ("admin",),
    summary="Fixity audit now (recompute every stored file's sha256); the server also runs it daily",
)
def fixity(request: Request, session: Session = Depends(db)) -> dict:
    return audit_files(session, request.app.state.blobs)


def audit_files(session: Session, blobs) -> dict:
    bad = []
    files = list(session.scalars(select(ProductFile)))
    for sha in sorted({f.sha256 for f in files}):
        if not blobs.verify(sha):
            bad.extend({"product_id": f.product_id, "name": f.name, "sha256": sha} for f in files if f.sha256 == sha)
    return {"checked": len(files), "corrupted": bad}


router.include_router(router_fixity)
