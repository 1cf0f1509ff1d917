"""Lunar data exchange: missions and payloads, PDS4 products, files (range downloads), embargo,
access requests, one module per resource under ``service/exchange/``; this module joins their routes
into one router (and adds the fixity audit route)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..workflows.fixity import audit_files
from .deps import SessionDep, route
from .exchange import access, exports, files, missions, products
from .exchange.common import MAX_FILE_BYTES

router = APIRouter()
for _module in (missions, products, files, access, exports):
    router.include_router(_module.router)
router_fixity = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])

__all__ = ["MAX_FILE_BYTES", "router"]


@route(
    router_fixity,
    "GET",
    "/fixity",
    ("admin",),
    summary="Fixity audit now (recompute every stored file's sha256); the server also runs it daily",
)
def fixity(request: Request, session: SessionDep) -> dict:
    return audit_files(session, request.app.state.blobs)


router.include_router(router_fixity)
