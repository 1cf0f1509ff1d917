"""Archive export through the job queue: a caller asks for a bundle as a PDS4 archive (a tar of
the bundle directory), polls the job, and downloads the file. What goes in is decided by
``workflows.archive.plan_bundle`` for the caller (``exchange.policy``): the whole bundle when the
caller may read every primary member, else nothing (403/404); it is asked again at submission, when
the job runs, and at download (an embargo set or a product withdrawn meanwhile closes the archive).
A job and its archive are seen only by the partner (or anonymous address) that submitted it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from ...workflows import archive as archive_flow
from ...workflows.jobs import JobState
from ..budget import job_owner, submit
from ..deps import CallerDep, ClockDep, SessionDep, route

router = APIRouter(prefix="/api/v1/exchange", tags=["lunar data exchange"])
KIND = "archive-export"


class ExportJobOut(BaseModel):
    job_id: str
    state: str
    error: str | None = None
    files: int | None = None
    bytes: int | None = None
    archive_bytes: int | None = None
    sha256: str | None = None
    archive_url: str | None = None


def _dir(request: Request) -> Path:
    d = Path(request.app.state.blobs.root) / "exports"
    d.mkdir(exist_ok=True)
    return d


def _archive(request: Request, job_id: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", job_id):
        raise HTTPException(404, "no such export job")
    return _dir(request) / f"{job_id}.tar"


def _out(view) -> ExportJobOut:
    out = ExportJobOut(job_id=view.id, state=view.state.value, error=view.error)
    if view.state is JobState.DONE:
        r = view.result
        out.files, out.bytes, out.archive_bytes, out.sha256 = r["files"], r["bytes"], r["archive_bytes"], r["sha256"]
        out.archive_url = f"/api/v1/exchange/exports/{view.id}/archive"
    return out


def _plan(request: Request, session, lid: str, vid: str | None, partner_id: int | None, now) -> None:
    try:
        archive_flow.plan_bundle(session, request.app.state.blobs, lid, vid, partner_id, now)
    except archive_flow.Refused as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _forget_old(request: Request) -> None:
    """Remove archives whose job the queue no longer knows (forgotten, or a previous server's)."""
    queue = request.app.state.job_queue
    for path in _dir(request).iterdir():
        job_id = path.name.split(".", 1)[0]
        if queue.get(job_id, None) is None:
            if path.is_dir():  # a working directory left by a killed server
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


@route(
    router,
    "POST",
    "/bundles/{lid}/export",
    ("public",),
    response_model=ExportJobOut,
    status_code=202,
    summary="Export a bundle as a PDS4 archive (tar) through the job queue: poll the job, then download",
)
def export(
    lid: str,
    request: Request,
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    vid: str | None = Query(None, max_length=32, description="the bundle's version (default: its latest)"),
) -> ExportJobOut:
    _plan(request, session, lid, vid, who.partner_id, clock())  # refused now rather than in the job
    _forget_old(request)
    maker, blobs, partner_id, exports = (
        request.app.state.session_maker,
        request.app.state.blobs,
        who.partner_id,
        _dir(request),
    )
    holder: dict = {}

    def job(token) -> dict:
        return archive_flow.export_archive(
            maker, blobs, lid, vid, partner_id, clock(), exports / f"{holder['id']}.tar", token.raise_if_cancelled
        )

    holder["id"] = job_id = submit(request, who, KIND, job)
    return ExportJobOut(job_id=job_id, state=JobState.QUEUED.value)


@route(router, "GET", "/exports/{job_id}", ("public",), response_model=ExportJobOut, summary="An export job's state")
def export_job(job_id: str, request: Request, who: CallerDep) -> ExportJobOut:
    view = request.app.state.job_queue.get(job_id, job_owner(request, who))
    if view is None or view.kind != KIND:
        raise HTTPException(404, "no such export job")
    return _out(view)


@route(
    router,
    "GET",
    "/exports/{job_id}/archive",
    ("public",),
    summary="Download a finished export (tar)",
    responses={200: {"content": {"application/x-tar": {}}}},
)
def export_archive(job_id: str, request: Request, session: SessionDep, who: CallerDep, clock: ClockDep) -> FileResponse:
    view = request.app.state.job_queue.get(job_id, job_owner(request, who))
    if view is None or view.kind != KIND:
        raise HTTPException(404, "no such export job")
    if view.state is not JobState.DONE:
        raise HTTPException(409, f"the export is {view.state.value}")
    r = view.result
    _plan(request, session, r["lid"], r["vid"], who.partner_id, clock())  # still readable by the caller now
    path = _archive(request, job_id)
    if not path.exists():
        raise HTTPException(404, "the archive is gone (server restarted): export again")
    name = f"{r['lid'].rsplit(':', 1)[-1]}_v{r['vid']}.tar"
    return FileResponse(
        path, media_type="application/x-tar", filename=name, headers={"Digest": f"sha-256={r['sha256']}"}
    )
