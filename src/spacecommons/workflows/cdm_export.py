"""CDMs for the events of a stored screening run (workflow: database in, messages out), for
``spacecommons cdm export``, ``spacecommons pc --run`` and the API's event CDM."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from ..catalog.tle import tle_object_id
from ..cdm.generate import event_cdm
from ..cdm.model import Cdm
from ..conjunction.catalog_payload import EPHEMERIS_PREFIX
from ..conjunction.colocated import KIND as COLOCATED
from ..conjunction.refine import refine_tca
from ..constants import SECONDS_PER_DAY
from ..storage import screening_repo as repo
from ..storage.catalog_repo import hard_body_radii
from ..storage.tables import ConjunctionEvent
from ..timescales import as_utc, datetime_to_jd, jd_to_iso

DEFAULT_HBR_M = 5.0  # per object, when NASA CARA's table has no value for it


def _object_id(text: tuple[str, str] | str) -> str:
    """The international designator of a run's stored object: TLE line 1 columns 10-17, the OMM's
    or the OEM's OBJECT_ID; empty when unknown (the CDM then says UNKNOWN)."""
    if isinstance(text, tuple | list):
        return tle_object_id(text[0])
    if text.startswith(EPHEMERIS_PREFIX):  # OEM KVN: the first OBJECT_ID line
        found = re.search(r"^\s*OBJECT_ID\s*=\s*(\S+)", text, re.M)
        return found.group(1) if found else ""
    return str(json.loads(text).get("OBJECT_ID") or "")


def run_event_cdms(
    session: Session,
    run_id: int,
    created: datetime,
    limit: int | None = None,
    max_miss_km: float | None = None,
    event_id: int | None = None,
) -> Iterator[tuple[ConjunctionEvent, Cdm]]:
    """Yield (event row, CDM) for a run's events (or the one ``event_id``), closest first;
    ``created`` (aware UTC) is each message's CREATION_DATE."""
    created = as_utc(created)
    run, params, payload, _ = repo.load_run(session, run_id)
    sats = payload.satrecs()
    index = {nid: i for i, nid in enumerate(payload.norad_ids)}
    events = repo.run_events(session, run_id, limit, event_id)
    ids = {e.id1 for e in events} | {e.id2 for e in events}
    sizes = hard_body_radii(session, ids)
    window = (jd_to_iso(params.start_jd, params.start_fr), jd_to_iso(params.start_jd, params.start_fr + params.days))
    for ev in events:
        if max_miss_km is not None and ev.miss_km > max_miss_km:
            continue
        if ev.kind == COLOCATED:  # a co-located group is not an encounter: no CDM
            continue
        i, j = index[ev.id1], index[ev.id2]
        jd, fr = datetime_to_jd(ev.tca)
        # the stored TCA has milliseconds: refine again so states match the event to the metre
        out = refine_tca(sats[i], sats[j], jd, fr, 0.0, 1.0)
        if out is None:
            continue
        t, _miss, r1, v1, r2, v2 = out
        fr_t = fr + t / SECONDS_PER_DAY
        objects = []
        for nid, k, r, v in ((ev.id1, i, r1, v1), (ev.id2, j, r2, v2)):
            sat = sats[k]
            age = (jd + fr_t) - (sat.jdsatepoch + sat.jdsatepochF)
            # an object flying an uploaded ephemeris brings its own covariance (nearest block, RTN)
            own = sat.covariance_rtn_m(jd, fr_t) if hasattr(sat, "covariance_rtn_m") else None
            objects.append(
                {
                    "covariance_rtn_m": own[0] if own else None,
                    "covariance_note": own[1] if own else None,
                    "norad_id": nid,
                    "name": ev.name1 if nid == ev.id1 else ev.name2,
                    "object_id": _object_id(payload.texts[k]),
                    "r_teme": r,
                    "v_teme": v,
                    "epoch_age_days": age,
                    "satrec": sat,
                }
            )
        h1, h2 = sizes.get(ev.id1), sizes.get(ev.id2)
        hbr = (h1 or DEFAULT_HBR_M) + (h2 or DEFAULT_HBR_M)
        note = (
            "HBR: sum of NASA CARA hard-body radii"
            if h1 and h2
            else f"HBR: NASA CARA value where known, {DEFAULT_HBR_M:g} m per object otherwise"
        )
        stamp = jd_to_iso(jd, fr_t, 0).replace("-", "").replace(":", "").replace("T", "_").rstrip("Z")
        message_id = f"{ev.id1:09d}_conj_{ev.id2:09d}_{stamp}_run{run_id}"
        yield (
            ev,
            event_cdm(
                message_id=message_id,
                creation=created,
                originator="SPACECOMMONS",
                tca_jd=jd,
                tca_fr=fr_t,
                objects=objects,
                window=window,
                threshold_km=params.threshold_km,
                hbr_m=hbr,
                hbr_note=note,
            ),
        )
