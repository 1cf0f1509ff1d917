"""Orbit-determination API: an analyst fits the astrometry they may see; a partner's private
astrometry stays out of another partner's fit; roles are enforced. Expected values: the 2023 DW
fit of tests/test_neo_od.py (123 MPC observations, RMS a few tenths of an arcsecond)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.observations_repo import store_observations

T0 = datetime(2026, 11, 25, tzinfo=UTC)
DW = Path(__file__).parent / "data" / "neo" / "observations" / "2023DW.txt"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('od') / 'od.db'}"
    app = create_app(url, rate_per_second=1000.0, rate_burst=100000)
    keys = {}
    obs, issues = read_mpc80(DW.read_text(), DW.name)
    assert not issues
    with app.state.session_maker.begin() as s:
        for partner in ("A", "B"):
            p = partners_repo.create_partner(s, partner, T0)
            for role in ("analyst", "observer"):
                m = partners_repo.add_member(s, partner, f"{partner}-{role}", role, T0)
                keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
            if partner == "A":
                store_observations(
                    s, obs, file_sha256="0" * 64, submitter="A", loaded_at=T0, partner_id=p.id, visibility="private"
                )
    yield app, TestClient(app), keys
    app.state.engine.dispose()


def test_analyst_fits_their_own_astrometry(service):
    _, client, keys = service
    r = client.post(
        "/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys[("A", "analyst")]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["designation"] == "2023 DW"
    assert body["n_used"] + body["n_rejected"] == 123
    assert body["rms_arcsec"] < 0.5
    assert len(body["state_au_au_d"]) == 6 and len(body["covariance"]) == 6
    assert "Carpino" in body["choices"]["outliers"]
    # residuals (issue #19): one per observation, in time order, stations from the MPC 80-column
    # file (columns 78-80); the RMS of the used ones recomputed here equals the summary's rms_arcsec
    res = body["residuals"]["optical"]
    assert len(res) == 123 and body["residuals"]["radar"] == []
    assert [r["utc"] for r in res] == sorted(r["utc"] for r in res)
    lines = [ln for ln in DW.read_text().splitlines() if ln.strip()]
    assert sorted(r["station"] for r in res) == sorted(ln[77:80] for ln in lines)
    # the earliest date in columns 16-32 ("2023 02 26.12762": 0.12762 d = 03:03:46.368 UTC)
    first = min(ln[15:32] for ln in lines)
    t0 = datetime.strptime(first[:10], "%Y %m %d") + timedelta(days=float(first[10:]))
    assert res[0]["utc"] == t0.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"
    used = [r for r in res if r["used"]]
    assert len(used) == body["n_used"]
    rms = math.sqrt(sum(r["dra_arcsec"] ** 2 + r["ddec_arcsec"] ** 2 for r in used) / (2 * len(used)))
    assert rms == pytest.approx(body["rms_arcsec"], rel=1e-12)


def test_private_astrometry_is_not_fitted_for_another_partner(service):
    _, client, keys = service
    r = client.post(
        "/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys[("B", "analyst")]}
    )
    assert r.status_code == 404
    assert "RA" not in r.text and "state_au_au_d" not in r.text


def test_roles(service):
    _, client, keys = service
    body = {"designation": "2023 DW"}
    assert (
        client.post("/api/v1/neo/od/fit", json=body, headers={"X-API-Key": keys[("A", "observer")]}).status_code == 403
    )
    assert client.post("/api/v1/neo/od/impact-site", json=body).status_code in (401, 403)


def test_radar_residuals_and_a_record_count_that_does_not_match():
    """Radar O - C rows carry their kind and unit (us for delay, Hz for Doppler, as ``OrbitFit``
    documents them); records that are not the fitted ones are refused, not paired wrongly."""
    import numpy as np

    from spacecommons.errors import InputError
    from spacecommons.neo.od.fit import OrbitFit
    from spacecommons.workflows.orbit_fit import fit_summary

    fit = OrbitFit(
        designation="X",
        epoch_jd_tdb=2460000.5,
        state=np.zeros(6),
        nongrav=np.zeros(3),
        nongrav_free=(),
        covariance=np.eye(6),
        residual_ra_arcsec=np.array([0.3, -0.4]),
        residual_dec_arcsec=np.array([0.1, 2.0]),
        chi2=np.array([1.0, 9.0]),
        used=np.array([True, False]),
        iterations=1,
        converged=True,
        radar_kind=("delay", "doppler"),
        radar_residual=np.array([0.5, -0.02]),
        radar_sigma=np.array([1.0, 0.1]),
        radar_jd_utc=np.array([2460000.5, 2460001.25]),
    )
    out = fit_summary(fit)["residuals"]
    assert [r["used"] for r in out["optical"]] == [True, False] and out["optical"][0]["utc"] is None
    assert [(r["kind"], r["unit"], r["utc"]) for r in out["radar"]] == [
        # JD 2451545.0 = 2000-01-01 12h; + 8455.5 d = 2023-02-25 0h (8401 d to 2023-01-02, + 54 d)
        ("delay", "us", "2023-02-25T00:00:00.000Z"),
        ("doppler", "Hz", "2023-02-25T18:00:00.000Z"),
    ]
    obs, _ = read_mpc80(DW.read_text(), DW.name)
    with pytest.raises(InputError, match="123 observations for a fit of 2"):
        fit_summary(fit, obs)
