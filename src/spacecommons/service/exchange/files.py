"""Files of a product: streamed upload (stored by sha256, visible only when complete) and download
with HTTP Range, the data embargo decided by ``exchange.policy`` and logged."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from ...exchange import policy
from ...storage import exchange_repo as repo
from ..deps import CallerDep, ClockDep, SessionDep, route
from .common import MAX_FILE_BYTES, access, log, visible_product

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])


@route(
    router,
    "PUT",
    "/products/{lid}/{vid}/files/{name}",
    ("observer", "operator"),
    status_code=201,
    summary="Upload a file of a product (streamed; stored by sha256; visible only when complete)",
)
async def upload(
    lid: str, vid: str, name: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep
) -> dict:
    p = visible_product(session, clock(), lid, vid, who, "upload")
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, "only the owner partner adds files")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,255}", name):
        raise HTTPException(400, "file names are letters, digits, '.', '_' and '-'")
    try:  # streamed to disk while hashing; visible only after the atomic rename
        blob = await request.app.state.blobs.put_async(request.stream(), MAX_FILE_BYTES)
    except ValueError as exc:
        raise HTTPException(413, str(exc)) from None
    media = request.headers.get("content-type", "application/octet-stream")[:128]
    if repo.file(session, p.id, name) is not None:
        raise HTTPException(409, f"{name} exists in {lid}::{vid}: versions are immutable")
    repo.add_file(session, p.id, name, blob.sha256, blob.md5, blob.size, media, clock())
    session.commit()
    return {"name": name, "sha256": blob.sha256, "md5": blob.md5, "size": blob.size}


@route(
    router,
    "GET",
    "/products/{lid}/{vid}/files/{name}",
    ("public",),
    summary="Download a file (HTTP Range supported for resumable downloads)",
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "partial content"}},
)
def download(lid: str, vid: str, name: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep):
    now = clock()
    p = visible_product(session, now, lid, vid, who, "data")
    granted = p.id in repo.granted(session, [p.id], who.partner_id)
    allowed = policy.can_read_data(access(p), who.partner_id, now, granted)
    log(session, now, p, who, "data", allowed)
    if not allowed:
        raise HTTPException(403 if who.partner_id is not None else 401, "the data are under embargo")
    f = repo.file(session, p.id, name)
    if f is None:
        raise HTTPException(404, f"no file {name}")
    path = request.app.state.blobs.path(f.sha256)
    headers = {"ETag": f'"{f.sha256}"', "Digest": f"sha-256={f.sha256}", "Content-MD5": f.md5}
    return FileResponse(path, media_type=f.media_type, filename=name, headers=headers)
