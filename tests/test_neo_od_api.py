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


# --- radar through the API (issue #16): the route fits the radar the caller may see ----------------

RADAR_SIGMA_S = 1e-6  # 1 microsecond, as JPL's Goldstone delays (tests/data/neo/observations/*RADAR*)


def synthetic_delays(fit, jd_utc, offset_s: float = 0.0, designation: str = "2023 DW") -> list:
    """Goldstone (253) round-trip delays of the fitted orbit at ``jd_utc``, plus ``offset_s``: what a
    radar would measure if the orbit were exact (our own measurement model, ``neo.od.radar``; a
    test of plumbing, not of physics)."""
    import numpy as np

    from spacecommons.neo.astrometry.model import RadarObservation
    from spacecommons.neo.od.radar import radar_arc, radar_model
    from spacecommons.neo.od.variational import propagate_with_partials

    def records(values):
        return [
            RadarObservation(designation, float(t), "delay", float(v), RADAR_SIGMA_S, 8560.0, "253", "253", f"r:{i}")
            for i, (t, v) in enumerate(zip(jd_utc, values, strict=True), start=1)
        ]

    arc = radar_arc(records(np.zeros(len(jd_utc))))
    tau_d = tau_u = np.zeros(len(arc))
    for _ in range(4):  # light times to convergence
        times = arc.jd_tdb - tau_d
        states = propagate_with_partials(fit.epoch_jd_tdb, fit.state, times, fit.nongrav, partials=False)[0]
        m = radar_model(arc, states, None, tau_d, tau_u)
        tau_d, tau_u = m.tau_down, m.tau_up
    return records(m.computed + offset_s)


def jpl_radar_text(records) -> str:
    """Delays in JPL's radar astrometry format (tab-separated, microseconds; as *_RADAR_*.dat)."""
    from spacecommons.timescales import jd_to_iso

    lines = []
    for o in records:
        day = int(o.epoch_utc_jd - 0.5) + 0.5
        utc = jd_to_iso(day, o.epoch_utc_jd - day, 0).replace("T", " ").rstrip("Z")
        lines.append(
            f"{o.designation}\t{utc}\t{o.value * 1e6:.4f}\t{o.sigma * 1e6:.3f}\tus\t{o.frequency_mhz:g}\t"
            f"{o.receiver}\t{o.transmitter}\t{o.bounce_point}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def radar_service(tmp_path_factory):
    """Public optical astrometry of 2023 DW; partner A's private delays (consistent with the optical
    orbit) and partner B's private delays (20 us off it: they move a fit that uses them)."""
    from spacecommons.workflows.orbit_fit import fit_observations

    folder = tmp_path_factory.mktemp("odr")
    url = f"sqlite:///{folder / 'odr.db'}"
    app = create_app(url, rate_per_second=1000.0, rate_burst=100000)
    optical, issues = read_mpc80(DW.read_text(), DW.name)
    assert not issues
    optical_fit = fit_observations(optical)
    from spacecommons.neo.astrometry.radar import read_jpl_radar

    radar = {}
    for partner, epochs, offset in (
        ("A", [2460005.25, 2460012.5, 2460020.75], 0.0),
        ("B", [2460008.125, 2460016.375], 20e-6),
    ):
        (folder / f"{partner}_RADAR.dat").write_text(jpl_radar_text(synthetic_delays(optical_fit, epochs, offset)))
        radar[partner], issues = read_jpl_radar((folder / f"{partner}_RADAR.dat").read_text(), f"{partner}_RADAR.dat")
        assert not issues and len(radar[partner]) == len(epochs)
    keys, ids = {}, {}
    with app.state.session_maker.begin() as s:
        store_observations(s, optical, file_sha256="1" * 64, submitter="node", loaded_at=T0)  # public
        for partner in ("A", "B"):
            p = partners_repo.create_partner(s, partner, T0)
            ids[partner] = p.id
            m = partners_repo.add_member(s, partner, f"{partner}-analyst", "analyst", T0)
            keys[partner] = partners_repo.issue_key(s, m.id, T0)
            store_observations(
                s, radar[partner], file_sha256=partner * 64, submitter=partner, loaded_at=T0,
                partner_id=p.id, visibility="private",
            )  # fmt: skip
    yield TestClient(app), keys, optical, radar, folder
    app.state.engine.dispose()


def test_api_fit_with_radar_equals_the_library_fit(radar_service):
    """The route fits the stored optical and the caller's radar exactly as the CLI and the library
    do (``workflows.orbit_fit.fit_observations``, one path): same state, covariance and radar O - C."""
    import numpy as np

    from spacecommons.workflows.orbit_fit import fit_observations, fit_summary

    client, keys, optical, radar, _ = radar_service
    r = client.post("/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys["A"]})
    assert r.status_code == 200, r.text
    body = r.json()
    expected = fit_summary(fit_observations(optical, radar=radar["A"]), optical)
    assert body["epoch_jd_tdb"] == expected["epoch_jd_tdb"]
    np.testing.assert_allclose(body["state_au_au_d"], expected["state_au_au_d"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(body["covariance"], expected["covariance"], rtol=1e-9, atol=0)
    assert body["radar"] == expected["radar"] and body["radar"]["n_delay"] == 3
    assert body["residuals"]["radar"] == expected["residuals"]["radar"]
    # A's delays agree with the optical orbit they were made from: each well inside its sigma
    assert all(abs(x["residual"]) < 0.5 * x["sigma"] for x in body["residuals"]["radar"])
    assert "3 delays" in body["choices"]["radar"]


def test_private_radar_of_another_partner_stays_out_of_the_fit(radar_service):
    """B's private delays (20 us off the optical orbit) are in B's fit only: A's fit holds A's three
    delays and none of B's, B's fit B's two; B's offset moves B's orbit by kilometres (20 us of
    round trip = 3 km of range) and A's not at all (A's fit is the library fit with A's radar)."""
    import numpy as np

    from spacecommons.constants import AU_KM

    client, keys, _, _, _ = radar_service
    a = client.post("/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys["A"]}).json()
    b = client.post("/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys["B"]}).json()
    assert a["radar"]["n_delay"] == 3 and b["radar"]["n_delay"] == 2
    a_times = {x["utc"] for x in a["residuals"]["radar"]}
    b_times = {x["utc"] for x in b["residuals"]["radar"]}
    assert len(a_times) == 3 and len(b_times) == 2 and not a_times & b_times
    assert all(abs(x["residual"]) < 0.5 * x["sigma"] for x in a["residuals"]["radar"])
    moved_km = np.linalg.norm(np.subtract(a["state_au_au_d"][:3], b["state_au_au_d"][:3])) * AU_KM
    assert moved_km > 1.0


def test_cli_fit_with_radar_files_equals_the_api_fit(radar_service):
    """``spacecommons neo fit OPTICAL RADAR --json`` on the files the stored rows came from gives the
    API's orbit for partner A (same state, covariance, radar block)."""
    import json

    import numpy as np
    from typer.testing import CliRunner

    from spacecommons.cli.main import app as cli

    client, keys, _, _, folder = radar_service
    api = client.post("/api/v1/neo/od/fit", json={"designation": "2023 DW"}, headers={"X-API-Key": keys["A"]}).json()
    r = CliRunner().invoke(cli, ["neo", "fit", str(DW), str(folder / "A_RADAR.dat"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{") :])
    np.testing.assert_allclose(out["state_au_au_d"], api["state_au_au_d"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(out["covariance"], api["covariance"], rtol=1e-9, atol=0)
    assert out["radar"] == api["radar"] and out["radar"]["n_delay"] == 3
