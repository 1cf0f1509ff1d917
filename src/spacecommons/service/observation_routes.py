"""Astrometry: partners submit observations in ADES (observer role); anyone lists an object's
observations, each row shown only to callers ``policy.can_see_observation`` admits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from ..storage.observations_repo import observation_from_row, visible_observations
from ..timescales import jd_to_iso
from ..workflows.observations import ingest_observations
from .catalog_routes import raw_body
from .deps import CallerDep, ClockDep, SessionDep, route

router = APIRouter(prefix="/api/v1", tags=["neo"])
MAX_LIST = 20_000


class ObservationSubmissionOut(BaseModel):
    format: str = Field(examples=["ades-psv"])
    file_sha256: str
    added: int
    unchanged: int
    rejected: list[str] = Field(description="file:line: field: reason for each record that did not land")


class ObservationOut(BaseModel):
    kind: Literal["optical", "delay", "doppler"]
    epoch_utc: str = Field(examples=["2008-10-06T06:39:50.688Z"])
    station: str = Field(description="MPC code of the observatory (radar: the receiver)")
    ra_deg: float | None = None
    dec_deg: float | None = None
    sigma_ra_arcsec: float | None = Field(None, description="uncertainty of RA·cos(Dec), when the record gives one")
    sigma_dec_arcsec: float | None = None
    catalog: str | None = None
    mode: str | None = None
    value: float | None = Field(None, description="radar: delay (s) or Doppler (Hz)")
    sigma: float | None = None
    transmitter: str | None = None
    source: str = Field(description="file:line the observation was read from")
    file_sha256: str
    submitter: str


@route(
    router,
    "POST",
    "/neo/observations",
    ("observer",),
    response_model=ObservationSubmissionOut,
    status_code=201,
    responses={422: {"description": "the body is not ADES (PSV or XML), or a query value is invalid"}},
    summary="Submit optical astrometry in ADES (PSV or XML); provenance is the file digest, partner and member. "
    "Good records land, bad ones are listed by line and field",
)
def submit_observations(
    session: SessionDep,
    who: CallerDep,
    clock: ClockDep,
    body: bytes = Depends(raw_body),
    filename: str = Query("upload.psv", max_length=200, examples=["obs.psv"]),
    visibility: Literal["public", "partners", "private"] = Query(
        "partners", description="who sees these observations: everyone, every partner, or your partner only"
    ),
) -> ObservationSubmissionOut:
    source = f"api:{who.partner}/{who.member}/{Path(filename).name}"
    result = ingest_observations(
        session,
        body,
        source,
        submitter=f"partner:{who.partner}/{who.member}",
        loaded_at=clock(),
        partner_id=who.partner_id,
        visibility=visibility,
        formats=("ades-psv", "ades-xml"),
    )
    if result.format not in ("ades-psv", "ades-xml"):
        raise HTTPException(422, "; ".join(str(i) for i in result.issues[:5]) or "not ADES")
    session.commit()
    return ObservationSubmissionOut(
        format=result.format,
        file_sha256=result.file_sha256,
        added=result.counts.added,
        unchanged=result.counts.unchanged,
        rejected=[str(i) for i in result.issues],
    )


@route(
    router,
    "GET",
    "/neo/observations/{designation}",
    ("public",),
    response_model=list[ObservationOut],
    summary="Observations of one object you may see, oldest first (an empty list when there are none)",
)
def list_observations(
    designation: str,
    session: SessionDep,
    who: CallerDep,
    limit: int = Query(2000, ge=1, le=MAX_LIST),
) -> list[ObservationOut]:
    out = []
    for row in visible_observations(session, designation, who.partner_id, limit):
        obs = observation_from_row(row)
        jd = int(row.epoch_utc_jd - 0.5) + 0.5
        common = {
            "kind": row.kind,
            "epoch_utc": jd_to_iso(jd, row.epoch_utc_jd - jd, 3),
            "station": row.station,
            "source": obs.source,
            "file_sha256": row.file_digest,
            "submitter": row.submitter,
        }
        if row.kind == "optical":
            extra = {
                "ra_deg": obs.ra_deg,
                "dec_deg": obs.dec_deg,
                "sigma_ra_arcsec": obs.sigma_ra_arcsec,
                "sigma_dec_arcsec": obs.sigma_dec_arcsec,
                "catalog": obs.catalog,
                "mode": obs.mode,
            }
        else:
            extra = {"value": obs.value, "sigma": obs.sigma, "transmitter": obs.transmitter}
        out.append(ObservationOut(**common, **extra))
    return out
