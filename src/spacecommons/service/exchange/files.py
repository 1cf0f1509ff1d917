"""Files of a product: streamed upload (stored by sha256, visible only when complete), resumable
with ``Content-Range`` on PUT, and download with HTTP Range, the data embargo decided by
``exchange.policy`` and logged.

Resumable upload: each PUT sends ``Content-Range: bytes START-END/TOTAL``; the bytes go to a
staging file of the product and name (``<data>/uploads/``), appended only at START equal to what
the server holds (else 409 with the offset to resume from); ``Content-Range: bytes */TOTAL`` with
an empty body asks for that offset. Until the last byte nothing is visible (202 with
``received``); at completion the whole file is hashed, checked against the ``Digest: sha-256=HEX``
the client states (422 and the staged bytes dropped if it differs) and stored as a plain upload."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ...exchange import media as media_types
from ...exchange import policy
from ...storage import exchange_repo as repo
from ..deps import CallerDep, ClockDep, SessionDep, route
from .common import MAX_FILE_BYTES, access, conflict_as_409, log, owned_product, visible_product

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
    # the body is read on the event loop; every database call, write and fsync runs in a worker
    # thread, so that a large upload never stalls other requests
    def check() -> int:
        p = owned_product(request, session, clock(), lid, vid, who, "upload", "adds files")
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,255}", name):
            raise HTTPException(400, "file names are letters, digits, '.', '_' and '-'")
        if repo.file(session, p.id, name) is not None:  # before reading the body
            raise HTTPException(409, conflict)
        return p.id

    conflict = f"{name} exists in {lid}::{vid}: versions are immutable"
    product_id = await run_in_threadpool(check)
    if request.headers.get("content-range"):
        return await _resumable(request, session, clock, product_id, name, conflict)
    writer = request.app.state.blobs.writer(MAX_FILE_BYTES)
    try:
        try:  # streamed to disk while hashing; not visible until committed
            async for chunk in request.stream():
                await run_in_threadpool(writer.write, chunk)
            blob = await run_in_threadpool(writer.finish)
        except ValueError as exc:
            raise HTTPException(413, str(exc)) from None
        media = media_types.normalise(request.headers.get("content-type"))

        def store() -> None:
            # the row first: if a concurrent upload of the same name won, the unique constraint refuses
            # it here and the blob is dropped unseen (no orphan); only then is the blob renamed in
            with conflict_as_409(session, conflict):
                repo.add_file(session, product_id, name, blob.sha256, blob.md5, blob.size, media, clock())
            writer.commit()
            session.commit()

        await run_in_threadpool(store)
    finally:
        writer.abort()  # nothing to do once committed
    return {"name": name, "sha256": blob.sha256, "md5": blob.md5, "size": blob.size}


_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+)")
_DIGEST = re.compile(r"sha-256=([0-9a-f]{64})")


async def _resumable(request: Request, session, clock, product_id: int, name: str, conflict: str):
    m = _RANGE.fullmatch(request.headers["content-range"].strip())
    if m is None:
        raise HTTPException(400, "Content-Range must be 'bytes START-END/TOTAL' or 'bytes */TOTAL'")
    total = int(m.group(3))
    if total > MAX_FILE_BYTES:
        raise HTTPException(413, f"file over {MAX_FILE_BYTES} bytes")
    blobs = request.app.state.blobs
    staged = Path(blobs.root) / "uploads" / f"{product_id}-{name}.part"
    staged.parent.mkdir(exist_ok=True)
    held = staged.stat().st_size if staged.exists() else 0
    if m.group(1) is None:  # where to resume
        return JSONResponse({"name": name, "received": held, "total": total}, status_code=202)
    start, end = int(m.group(1)), int(m.group(2))
    if end < start or end >= total:
        raise HTTPException(400, "Content-Range: END must be at least START and below TOTAL")
    if start != held:
        return JSONResponse({"detail": f"resume at byte {held}", "received": held, "total": total}, status_code=409)

    def append(chunk: bytes) -> None:
        with staged.open("ab") as f:
            f.write(chunk)

    async for chunk in request.stream():  # appended as it comes: an interrupted chunk keeps its prefix
        have = staged.stat().st_size if staged.exists() else 0
        if have + len(chunk) > end + 1:
            raise HTTPException(400, "more bytes than the Content-Range says")
        await run_in_threadpool(append, chunk)
    held = staged.stat().st_size if staged.exists() else 0
    if held < total:
        return JSONResponse({"name": name, "received": held, "total": total}, status_code=202)
    claimed = _DIGEST.fullmatch(request.headers.get("digest", "").strip())

    def complete() -> dict:
        h = hashlib.sha256()
        with staged.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if claimed is not None and claimed.group(1) != h.hexdigest():
            staged.unlink(missing_ok=True)
            raise HTTPException(422, f"sha256 of the {total} bytes received is {h.hexdigest()}, not the one stated")
        writer = blobs.writer(MAX_FILE_BYTES)
        try:
            with staged.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    writer.write(block)
            blob = writer.finish()
            media = media_types.normalise(request.headers.get("content-type"))
            with conflict_as_409(session, conflict):
                repo.add_file(session, product_id, name, blob.sha256, blob.md5, blob.size, media, clock())
            writer.commit()
            session.commit()
        finally:
            writer.abort()
        staged.unlink(missing_ok=True)
        return {"name": name, "sha256": blob.sha256, "md5": blob.md5, "size": blob.size}

    return JSONResponse(await run_in_threadpool(complete), status_code=201)


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
    p = visible_product(request, session, now, lid, vid, who, "data")
    granted = p.id in repo.granted(session, [p.id], who.partner_id)
    allowed = policy.can_read_data(access(p), who.partner_id, now, granted)
    log(request, session, now, p, who, "data", allowed)
    if not allowed:
        raise HTTPException(403 if who.partner_id is not None else 401, "the data are under embargo")
    f = repo.file(session, p.id, name)
    if f is None:
        raise HTTPException(404, f"no file {name}")
    path = request.app.state.blobs.path(f.sha256)
    headers = {
        "ETag": f'"{f.sha256}"',
        "Digest": f"sha-256={f.sha256}",
        "Content-MD5": f.md5,
        "X-Content-Type-Options": "nosniff",
    }
    # the uploader chose the type: served as given only when a browser cannot run it, and always
    # as an attachment (FileResponse with a filename), never displayed in the service's origin
    return FileResponse(
        path,
        media_type=media_types.served(f.media_type),
        filename=name,
        headers=headers,
        content_disposition_type="attachment",
    )
