"""Entry region of an imminent impactor (``neo.od.impact_site.entry_region``) and the JSON the CLI
and the API give (``workflows.orbit_fit.impact_site_summary``): ``ground_track``,
``ground_track_end`` and ``entry_region``.

Reference for the ellipses: a 2-D normal's n-sigma ellipse {x : x' C^-1 x = n^2} holds the
probability 1 - exp(-n^2 / 2) (the chi-square distribution with 2 degrees of freedom), and its
semi-axes are n times the square roots of C's eigenvalues; the outline is checked against C^-1
directly, an independent computation from the eigen-decomposition the code uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from spacecommons.frames import WGS84_A_KM
from spacecommons.neo.od.impact_site import EntryPoint, GroundTrack, ImpactSite, entry_region
from spacecommons.workflows.orbit_fit import impact_site_summary


def _covariance(sigma_major_km: float, sigma_minor_km: float, azimuth_deg: float) -> np.ndarray:
    """East/north covariance whose major axis points ``azimuth_deg`` east of north."""
    a = np.radians(azimuth_deg)
    major = np.array([np.sin(a), np.cos(a)])  # (east, north)
    minor = np.array([np.cos(a), -np.sin(a)])
    return sigma_major_km**2 * np.outer(major, major) + sigma_minor_km**2 * np.outer(minor, minor)


@pytest.mark.parametrize("azimuth", [0.0, 30.0, 90.0, 150.0])
def test_ellipses_axes_azimuth_probability_and_outline(azimuth):
    lat0, lon0 = 20.9, 31.4
    cov = _covariance(3.0, 1.0, azimuth)
    region = entry_region(lat0, lon0, cov)
    assert [e.n_sigma for e in region.ellipses] == [1, 2, 3]
    inv = np.linalg.inv(cov)
    for e in region.ellipses:
        n = e.n_sigma
        assert e.probability == pytest.approx(1 - np.exp(-(n**2) / 2))  # 0.393, 0.865, 0.989
        assert (e.semi_major_km, e.semi_minor_km) == pytest.approx((3.0 * n, 1.0 * n))
        assert e.azimuth_deg == pytest.approx(azimuth % 180.0, abs=1e-9)
        # back from degrees to km on the same sphere: every vertex at Mahalanobis distance n
        north = np.radians(e.outline_lat_deg - lat0) * WGS84_A_KM
        east = np.radians(e.outline_lon_deg - lon0) * WGS84_A_KM * np.cos(np.radians(lat0))
        x = np.stack([east, north], axis=1)
        np.testing.assert_allclose(np.einsum("ki,ij,kj->k", x, inv, x), n**2, rtol=1e-9)
        assert e.outline_lat_deg[0] == e.outline_lat_deg[-1]  # closed


def _site(n_samples: int) -> ImpactSite:
    t0 = datetime(2008, 10, 7, 2, 45, 30, tzinfo=UTC)
    nominal = EntryPoint(2454746.6156853, t0, 21.089, 30.532)
    samples = tuple(
        EntryPoint(2454746.6156853 + k * 1e-6, t0 + timedelta(seconds=k * 0.0864), 21.089 + 1e-3 * k, 30.532)
        for k in range(n_samples)
    )
    track = GroundTrack(
        np.array([2454746.6087, 2454746.6160]),
        (t0 - timedelta(minutes=10), t0 + timedelta(seconds=23.5)),
        np.array([22.66, 20.59]),
        np.array([-11.32, 33.10]),
        np.array([4097.7, -0.05]),
        "surface",
    )
    region = entry_region(21.09, 30.53, np.diag([0.25, 0.01])) if n_samples >= 3 else None
    return ImpactSite(1.0, 0.96, 1.0, 100, 100, nominal, 0.5, 0.1, samples, track, region)


def test_summary_carries_the_track_and_the_region_as_json():
    out = json.loads(json.dumps(impact_site_summary(_site(5))))
    assert out["ground_track"][0] == {
        "utc": "2008-10-07T02:35:30.000Z",
        "lat_deg": 22.66,
        "lon_deg": -11.32,
        "alt_km": 4097.7,
    }
    assert out["ground_track_end"] == "surface" and len(out["ground_track"]) == 2
    region = out["entry_region"]
    assert [e["n_sigma"] for e in region["ellipses"]] == [1, 2, 3]
    assert region["ellipses"][0]["semi_major_km"] == pytest.approx(0.5)
    assert len(region["ellipses"][2]["outline_lat_deg"]) == len(region["ellipses"][2]["outline_lon_deg"]) == 73
    assert len(region["points"]) == 5 and region["points"][1]["lat_deg"] == pytest.approx(21.090)


def test_summary_with_too_few_entering_samples_has_points_and_no_ellipse():
    region = impact_site_summary(_site(2))["entry_region"]
    assert region["ellipses"] == [] and region["center_lat_deg"] is None and len(region["points"]) == 2


def test_no_likely_impact_no_track():
    site = ImpactSite(0.0, 0.0, 0.007, 500, 0, None, None, None)
    assert impact_site_summary(site) == {
        "impact_probability": 0.0,
        "impact_probability_ci95": [0.0, 0.007],
        "samples": 500,
    }


def test_the_api_answers_the_track_and_the_region(tmp_path, monkeypatch):
    """POST /neo/od/impact-site spreads the same summary: the fit and the prediction (tens of
    seconds on real data, tests/test_neo_od_tc3.py) are replaced by the synthetic site above, so this
    checks the route's plumbing only, against ``impact_site_summary`` itself."""
    from pathlib import Path
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from spacecommons.neo.astrometry.mpc80 import read_mpc80
    from spacecommons.service import create_app, od_routes
    from spacecommons.storage import partners_repo
    from spacecommons.storage.observations_repo import store_observations

    t0 = datetime(2026, 11, 25, tzinfo=UTC)
    path = Path(__file__).parent / "data" / "neo" / "observations" / "2008TC3.txt"
    obs, _ = read_mpc80(path.read_text(), path.name)
    app = create_app(f"sqlite:///{tmp_path / 'site.db'}")
    with app.state.session_maker.begin() as s:
        p = partners_repo.create_partner(s, "A", t0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "A", "a", "analyst", t0).id, t0)
        store_observations(s, obs[:20], file_sha256="0" * 64, submitter="A", loaded_at=t0, partner_id=p.id)
    site = _site(5)
    monkeypatch.setattr(od_routes, "fit_observations", lambda optical, **kw: SimpleNamespace(designation="2008 TC3"))
    monkeypatch.setattr(od_routes, "predict_impact", lambda *args: site)
    with TestClient(app) as client:
        r = client.post("/api/v1/neo/od/impact-site", json={"designation": "2008 TC3"}, headers={"X-API-Key": key})
    app.state.engine.dispose()
    assert r.status_code == 200, r.text
    assert r.json() == {"designation": "2008 TC3", **json.loads(json.dumps(impact_site_summary(site)))}
