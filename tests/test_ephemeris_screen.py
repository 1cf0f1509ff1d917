"""OEM interpolation against SGP4 truth, OEM primaries in screening, OEM covariance at TCA, and
co-located groups (docked vehicles sharing the ISS element set, 2022-01-22 catalog)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spacecommons.catalog import read_tle
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.ephemeris import Covariance, Oem, write_oem
from spacecommons.ephemeris.interpolate import interpolate_states
from spacecommons.ephemeris.track import EphemerisTrack, from_teme, segment_from_teme
from spacecommons.frames import rtn_basis
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE

DATA = Path(__file__).parent / "data"
ISS = DATA / "tle" / "iss_docked_2022-01-22.3le"
ONE_MM_KM = 1e-6
ONE_M_KM = 1e-3


def _oem_text(
    record, jd: float, fr: float, t_s: np.ndarray, method: str = "LAGRANGE", degree: int = 7, frame="EME2000"
):
    """An OEM (KVN) of ``record``'s SGP4 trajectory at ``t_s`` seconds after (jd, fr)."""
    sat = record.satrec()
    jds = np.full(t_s.shape, jd)
    frs = fr + t_s / 86400.0
    e, r, v = sat.sgp4_array(jds, frs)
    assert not e.any()
    seg = segment_from_teme(
        object_name=record.name,
        object_id=str(record.norad_id),
        jd=jds,
        fr=frs,
        r_teme_km=r,
        v_teme_km_s=v,
        ref_frame=frame,
        interpolation=method,
        interpolation_degree=degree,
    )
    return write_oem(Oem.build([seg], creation_date="2026-11-27T00:00:00", originator="TEST"))


@pytest.mark.parametrize(("method", "degree"), [("LAGRANGE", 3), ("LAGRANGE", 7), ("HERMITE", 3), ("HERMITE", 7)])
def test_interpolation_reproduces_polynomials_of_its_degree(method: str, degree: int) -> None:
    # Lagrange of degree d is exact for polynomials of degree d; Hermite on n = (d + 1) / 2 nodes
    # with derivatives is exact to degree 2n - 1 (>= d): an independent check of both formulas.
    rng = np.random.default_rng(1)
    coef = rng.normal(size=(degree + 1, 3))
    t_nodes = np.cumsum(rng.uniform(30, 90, size=20))
    x = np.polynomial.polynomial.polyval((t_nodes - 500) / 500, coef).T
    dx = np.polynomial.polynomial.polyval((t_nodes - 500) / 500, np.polynomial.polynomial.polyder(coef)).T / 500
    t = np.linspace(t_nodes[0], t_nodes[-1], 97)
    r, v = interpolate_states(t_nodes, x, dx, t, method, degree)
    np.testing.assert_allclose(r, np.polynomial.polynomial.polyval((t - 500) / 500, coef).T, atol=1e-9)
    deriv = np.polynomial.polynomial.polyval((t - 500) / 500, np.polynomial.polynomial.polyder(coef)).T / 500
    np.testing.assert_allclose(v, deriv, atol=1e-9)


@pytest.mark.parametrize(
    ("method", "degree", "bound_km"),
    [
        # Stated bounds (docs/ephemerides.md) for a LEO OEM at 60 s from SGP4, ISS 2022-01-22:
        # Lagrange 7 measured 0.07 mm; Lagrange 5 15 mm. Hermite honours SGP4's velocities, which
        # differ from the derivative of its positions by up to ~30 mm/s (docs/propagation.md), so
        # its error is ~0.4 m whatever the degree.
        ("LAGRANGE", 7, ONE_MM_KM),
        ("LAGRANGE", 5, 0.1 * ONE_M_KM),
        ("HERMITE", 7, ONE_M_KM),
    ],
)
def test_interpolation_error_against_sgp4_truth_at_midpoints(method: str, degree: int, bound_km: float) -> None:
    iss = read_tle(ISS.read_text(), ISS.name).records[0]
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    t = np.arange(0.0, 86400.0 + 60.0, 60.0)
    track = EphemerisTrack.from_text(_oem_text(iss, jd, fr, t, method, degree), iss.norad_id)
    mid = t[:-1] + 30.0
    e, r, _ = track.sgp4_array(np.full(mid.shape, jd), fr + mid / 86400.0)
    _, truth, _ = iss.satrec().sgp4_array(np.full(mid.shape, jd), fr + mid / 86400.0)
    assert not e.any()
    err = np.linalg.norm(r - truth, axis=1)
    assert err.max() < bound_km
    # outside the span: no state, an error code (never extrapolated)
    e_out, r_out, _ = track.sgp4_array(np.array([jd]), np.array([fr + 1.01]))
    assert e_out[0] == 8 and np.isnan(r_out).all()


@pytest.fixture(scope="module")
def fengyun() -> tuple[list, CatalogPayload]:
    recs = read_tle((SAMPLE / "fengyun-1c_1999-025_celestrak_2021-10-02.txt").read_text(), "fengyun").records
    return recs, CatalogPayload.from_elements(recs)


def test_oem_primary_finds_the_same_events_as_its_tle(fengyun) -> None:
    """Issue 14: an OEM generated from a TLE screens like the TLE (TCA within 1 ms, miss within 1 m)."""
    recs, payload = fengyun
    primary = 29760  # a Fengyun-1C fragment with three encounters below 10 km on 2021-10-02 00-06 UTC
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.25, 10.0, primaries=(primary,))
    expected = screen(payload, params, workers=1).events
    assert len(expected) >= 3
    record = next(r for r in recs if r.norad_id == primary)
    t = np.arange(-600.0, 0.25 * 86400.0 + 601.0, 60.0)
    oem_payload = payload.with_ephemerides({primary: (record.name, _oem_text(record, jd, fr, t))})
    assert oem_payload.ephemeris_ids() == (primary,)
    got = screen(oem_payload, params, workers=1).events
    assert [(e.id1, e.id2, e.kind) for e in got] == [(e.id1, e.id2, e.kind) for e in expected]
    for a, b in zip(expected, got, strict=True):
        assert abs(a.tca_s - b.tca_s) < 1e-3
        assert abs(a.miss_km - b.miss_km) < ONE_M_KM


def test_oem_covariance_is_rotated_to_rtn_at_its_epoch() -> None:
    """A covariance given in EME2000 comes back as the RTN matrix it was built from."""
    iss = read_tle(ISS.read_text(), ISS.name).records[0]
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    t = np.arange(0.0, 3600.0 + 60.0, 60.0)
    text = _oem_text(iss, jd, fr, t)
    track = EphemerisTrack.from_text(text, iss.norad_id)
    # RTN covariance (km, km/s) -> EME2000 at the epoch 1800 s in, with the state's own RTN axes
    e, r, v = track.sgp4_array(np.array([jd]), np.array([fr + 1800.0 / 86400.0]))
    r_e, v_e = from_teme(r, v, "EME2000", np.array([jd]), np.array([fr + 1800.0 / 86400.0]))
    rot = rtn_basis(r_e[0], v_e[0])
    big = np.zeros((6, 6))
    big[:3, :3] = big[3:, 3:] = rot
    rtn = np.diag([0.01, 0.25, 0.0004, 1e-8, 4e-9, 1e-10])
    rtn[0, 4] = rtn[4, 0] = -1.5e-6
    eme = big.T @ rtn @ big
    from spacecommons.ephemeris import read_oem

    oem = read_oem(text)
    oem.segments[0].covariances = [Covariance(eme, epoch="2022-01-22T00:30:00.000000", ref_frame="EME2000")]
    track = EphemerisTrack(read_oem(write_oem(oem)), iss.norad_id)
    cov, note = track.covariance_rtn_m(jd, fr + 1810.0 / 86400.0)
    np.testing.assert_allclose(cov, rtn * 1e6, rtol=1e-9, atol=1e-8)  # m**2: rounding of 1e4
    assert "EME2000" in note and "2022-01-22T00:30:00" in note and "+0.2 min" not in note
    assert "-0.2 min" in note  # the block is 10 s before the asked time


def _iss_catalog() -> list:
    return read_tle(ISS.read_text(), ISS.name).records


def test_docked_vehicles_are_one_colocated_group_not_encounters() -> None:
    """NAUKA (49044), SOYUZ MS-19 (49269) and DRAGON CRS-24 (50318) share one element set in the
    2022-01-22 catalog (Space-Track 3LE snapshot, tests/data/tle/iss_docked_2022-01-22.3le): distance
    0 all day. Before issue 14 they were absent from the results."""
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    events = screen(_iss_catalog(), ScreeningParams(jd, fr, 1.0, 5.0), workers=1).events
    rows = [(e.id1, e.id2, e.kind) for e in events]
    assert rows == [(49044, 49269, "co-located"), (49044, 50318, "co-located")]
    assert all(e.miss_km == 0.0 and e.span_start == "2022-01-22T00:00:00.000Z" for e in events)
    assert events[0].span_end == "2022-01-23T00:00:00.000Z"


def test_iss_joins_its_docked_vehicles_at_100_km() -> None:
    """The ISS's own element set (epoch 2022-01-22.91) is 16-66 km from the docked vehicles' older
    one over the day (SGP4 sampled every minute); with a 100 km co-location distance the group is
    the four objects, reported once with id1 = 25544."""
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    params = ScreeningParams(jd, fr, 1.0, 5.0, colocated_km=100.0)
    events = screen(_iss_catalog(), params, workers=1).events
    assert sorted((e.id1, e.id2, e.kind) for e in events) == [
        (25544, 49044, "co-located"),
        (25544, 49269, "co-located"),
        (25544, 50318, "co-located"),
    ]
    assert all(16.0 < e.miss_km < 17.0 for e in events)


def test_cdm_of_an_oem_primary_uses_the_oem_covariance(fengyun, tmp_path) -> None:
    """The CDM (and its Pc) of an event with an OEM primary carries the OEM's covariance
    (COVARIANCE_METHOD CALCULATED, a comment naming the block); the catalog object keeps DEFAULT."""
    from datetime import UTC, datetime

    from spacecommons.ephemeris import read_oem
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.workflows.cdm_export import run_event_cdms
    from spacecommons.workflows.screening import create_run, finish_run

    recs, payload = fengyun
    primary = 29760
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.25, 10.0, primaries=(primary,))
    record = next(r for r in recs if r.norad_id == primary)
    t = np.arange(-600.0, 0.25 * 86400.0 + 601.0, 60.0)
    oem = read_oem(_oem_text(record, jd, fr, t))
    sigma_km = np.array([0.05, 0.2, 0.05, 5e-5, 5e-5, 5e-5])  # 50 m radial, 200 m along-track
    oem.segments[0].covariances = [
        Covariance(np.diag(sigma_km**2), epoch=f"2021-10-02T{h:02d}:00:00.000000", ref_frame="RTN") for h in range(7)
    ]
    oem_payload = payload.with_ephemerides({primary: (record.name, write_oem(oem))})
    result = screen(oem_payload, params, workers=1)
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    maker = session_factory(engine)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    with maker.begin() as s:
        run_id = create_run(s, oem_payload, params, now)
        finish_run(s, run_id, result, now)
    with maker() as s:
        cdms = [cdm for _, cdm in run_event_cdms(s, run_id, now)]
    engine.dispose()
    assert len(cdms) == len(result.events) >= 3
    for cdm in cdms:
        assert cdm.get("COVARIANCE_METHOD", 1) == "CALCULATED" and cdm.get("COVARIANCE_METHOD", 2) == "DEFAULT"
        assert "owner/operator OEM covariance" in cdm.comments(1)[0] and "given in RTN" in cdm.comments(1)[0]
        # the OEM's RTN sigmas in the CDM's units (m**2)
        assert cdm.number("CR_R", 1) == pytest.approx(50.0**2) and cdm.number("CT_T", 1) == pytest.approx(200.0**2)
