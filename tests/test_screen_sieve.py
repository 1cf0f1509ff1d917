"""The orbit-geometry sieve of incremental re-screening (``conjunction/sieve.py``, issue #18).

Independent computations:
- the stated margins of the element-set model (distance from the model path, slip along it) against
  SGP4 itself (python-sgp4, Vallado et al. 2006) sampled every 30 s over the bundled CelesTrak debris
  clouds (about 3,900 LEO objects);
- the mean elements and secular rates replicated from ``sgp4init`` against the ones python-sgp4's
  own ``Satrec`` computes;
- the sieved incremental screening against the changed objects screened over the whole catalog
  without the sieve (the engine's own k x n path): the same events;
- a property test (hypothesis): two orbits built to pass through the same point at the same time,
  with SGP4 confirming they come within the distance, are never separated by the sieve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spacecommons.catalog import read_tle
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction import sieve as sv
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.incremental import screen_segments
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE

GROUPS = (
    "cosmos-2251-debris_celestrak_2021-10-02.txt",
    "iridium-33-debris_celestrak_2021-10-02.txt",
    "fengyun-1c_1999-025_celestrak_2021-10-02.txt",
)
START = "2021-10-02T00:00:00Z"


@pytest.fixture(scope="module")
def debris() -> CatalogPayload:
    records = {}
    for name in GROUPS:
        for r in read_tle((SAMPLE / name).read_text(), name).records:
            records[r.norad_id] = r
    return CatalogPayload.from_elements(list(records.values()))


def _subset(payload: CatalogPayload, index) -> CatalogPayload:
    return CatalogPayload(
        tuple(payload.norad_ids[i] for i in index),
        tuple(payload.names[i] for i in index),
        tuple(payload.texts[i] for i in index),
    )


def test_mean_elements_match_python_sgp4(debris):
    """The vectorised sgp4init (epoch, a, node and perigee rates, drag coefficient) gives python-sgp4's
    own numbers, and the secular update gives its mean elements after a propagation."""
    el = sv.mean_elements(debris.texts)
    sats = debris.satrecs()
    assert el.valid.all()
    epoch = np.array([s.jdsatepoch + s.jdsatepochF for s in sats])
    np.testing.assert_allclose(el.epoch_jd, epoch, rtol=0, atol=1e-9)
    np.testing.assert_allclose(el.a0, [s.a for s in sats], rtol=1e-12)
    np.testing.assert_allclose(el.nodedot, [s.nodedot for s in sats], rtol=1e-10)
    np.testing.assert_allclose(el.argpdot, [s.argpdot for s in sats], rtol=1e-10)
    np.testing.assert_allclose(el.mdot, [s.mdot for s in sats], rtol=1e-12)
    np.testing.assert_allclose(el.bstar, [s.bstar for s in sats], rtol=1e-12, atol=1e-15)
    jd, fr = iso_to_jd(START)
    a, e, node, _argp, _m, _rate, _ = el.at(jd + fr + 0.25)
    for k in range(0, len(sats), 97):
        s = sats[k]
        s.sgp4(jd, fr + 0.25)
        assert a[k] == pytest.approx(s.am, rel=1e-9)
        assert node[k] == pytest.approx(s.Om, abs=1e-9)
        # sgp4's em also holds the periodic drag term, which the margin covers
        assert e[k] == pytest.approx(s.em, abs=2.0 * abs(s.bstar * el.cc5[k]) + 1e-12)


@pytest.mark.parametrize("days", [0.25, 1.0])
def test_stated_margins_hold_against_sgp4(debris, days):
    """Debris objects (every 2nd over 6 h, every 5th over a day) stay within their stated margin of
    their model path and within their stated slip of their model point, SGP4 sampled every 30 s (the
    margins carry a 1.5 safety factor; benchmarks/sieve_margins.py checks the whole 2022 catalog)."""
    jd, fr = iso_to_jd(START)
    el = sv.mean_elements(debris.texts)
    geom = sv.path_geometry(el, jd, fr, days)
    path = np.flatnonzero(~geom.shell_only)
    assert path.size > 3000
    path = path[:: 2 if days < 0.5 else 5]
    t = np.append(np.arange(0.0, days * 86400.0, 30.0), days * 86400.0)
    sats = debris.satrecs()
    mids, half = sv.sub_windows(jd, fr, days)
    for chunk in np.array_split(path, 2):
        err, r, _ = propagate_satrecs([sats[i] for i in chunk], np.full(t.shape, jd), fr + t / 86400.0)
        good = (err == 0).all(axis=1)
        sub = geom.replace(
            pq=geom.pq[:, chunk],
            m_w=geom.m_w[:, chunk],
            n_w=geom.n_w[:, chunk],
            **{
                f: getattr(geom, f)[chunk]
                for f in ("p_km", "ecc", "rp_km", "ra_km", "margin_km", "slip", "node_rate", "argp_rate", "shell_only")
            },
        )
        dev, slip = sv.path_deviation(sub, r, t, mids, half)
        assert good.mean() > 0.99
        assert np.all(dev[good] <= geom.margin_km[chunk][good])
        assert np.all(slip[good] <= geom.slip[chunk][good])
        # and the margins are not uselessly wide: the median deviation is a sizeable part of it
        assert np.median(dev[good] / geom.margin_km[chunk][good]) > 0.1


def test_sieved_update_finds_the_events_of_the_unsieved_one(debris):
    """The changed objects (every 25th debris object) screened against only the objects and segments
    the sieve keeps give the events of screening them against the whole catalog."""
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    changed = np.arange(0, len(debris), 25)
    updated = tuple(debris.norad_ids[i] for i in changed)
    found = sv.sieve(
        debris.texts, _subset(debris, changed).satrecs(), changed, jd, fr, params.days, 10.0, params.step_s
    )
    keep = np.flatnonzero(found.keep)
    assert keep.size < 0.9 * len(debris)  # the sieve drops objects
    assert found.segments[keep].mean() < 0.7  # and segments of those it keeps
    sieved = screen_segments(_subset(debris, keep), replace(params, primaries=updated), found.segments[keep], workers=1)
    whole = screen(debris, replace(params, primaries=updated), workers=1)

    def rows(events):  # the unsieved run puts the primary first; the update orients as all-vs-all
        return sorted((min(e.id1, e.id2), max(e.id1, e.id2), e.tca, round(e.miss_km, 9), e.kind) for e in events)

    assert len(whole.events) > 5
    assert rows(sieved.events) == rows(whole.events)
    assert all(e.id1 < e.id2 for e in sieved.events if e.kind != "co-located")


def _tle(norad: int, epoch_day: float, incl, node, ecc, argp, mean_anomaly, rev_per_day) -> tuple[str, str]:
    def checksum(line: str) -> str:
        return str(sum(int(c) if c.isdigit() else c == "-" for c in line) % 10)

    l1 = f"1 {norad:05d}U 21001A   21{epoch_day:012.8f}  .00000000  00000-0  00000-0 0  999"
    l2 = (
        f"2 {norad:05d} {np.degrees(incl) % 360:8.4f} {np.degrees(node) % 360:8.4f} {round(ecc * 1e7):07d} "
        f"{np.degrees(argp) % 360:8.4f} {np.degrees(mean_anomaly) % 360:8.4f} {rev_per_day:11.8f}    1"
    )
    return l1 + checksum(l1), l2 + checksum(l2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(
    incl=st.floats(0.05, 3.09),
    node=st.floats(0.0, 6.28),
    ecc=st.floats(0.0, 0.05),
    argp=st.floats(0.0, 6.28),
    anomaly=st.floats(0.0, 6.28),
    rev_per_day=st.floats(12.0, 15.8),
    tilt=st.one_of(st.floats(-0.02, 0.02), st.floats(-3.1, 3.1)),
    lead_s=st.floats(600.0, 20000.0),
)
def test_orbits_built_to_meet_are_never_separated(incl, node, ecc, argp, anomaly, rev_per_day, tilt, lead_s):
    """Object B is put on a circular orbit through object A's SGP4 position at A's epoch, its plane
    tilted by ``tilt`` about that position (near-coplanar included); when SGP4 confirms they come within
    the distance, the sieve keeps B for A, in the segment of that instant, and A for B."""
    day = 275.0  # 2021-10-02 0h is day 275.0 of 2021
    a_text = _tle(1, day, incl, node, ecc, argp, anomaly, rev_per_day)
    sat_a = CatalogPayload((1,), ("A",), (a_text,)).satrecs()[0]
    jd0, fr0 = iso_to_jd(START)
    err, r, v = sat_a.sgp4(jd0, fr0)
    assume(err == 0)
    r = np.asarray(r)
    h = np.cross(r, v)
    # B's normal: A's normal turned by `tilt` about A's position
    u = r / np.linalg.norm(r)
    n_a = h / np.linalg.norm(h)
    n_b = n_a * np.cos(tilt) + np.cross(u, n_a) * np.sin(tilt)
    incl_b = np.arccos(np.clip(n_b[2], -1.0, 1.0))
    node_b = np.arctan2(n_b[0], -n_b[1])
    line = np.array([np.cos(node_b), np.sin(node_b), 0.0])
    lat_arg = np.arctan2(np.dot(np.cross(line, u), n_b), np.dot(line, u))
    radius = np.linalg.norm(r)
    rev_b = np.sqrt(398600.8 / radius**3) * 86400.0 / (2.0 * np.pi)
    assume(radius > 6378.135 + 200.0 and 8.0 < rev_b < 16.4)
    b_text = _tle(2, day, incl_b, node_b, 0.0, 0.0, lat_arg, rev_b)
    pair = CatalogPayload((1, 2), ("A", "B"), (a_text, b_text))
    sats = pair.satrecs()
    # the window starts lead_s before the meeting (A's epoch)
    start_fr = fr0 - lead_s / 86400.0
    t = lead_s + np.arange(-120.0, 120.5, 0.5)
    e, rr, _ = propagate_satrecs(sats, np.full(t.shape, jd0), start_fr + t / 86400.0)
    assume((e == 0).all())
    dist = np.linalg.norm(rr[0] - rr[1], axis=-1)
    d_km = 30.0
    assume(dist.min() < d_km)
    t_meet = t[int(np.argmin(dist))]
    step = 300.0
    for changed in (0, 1):
        found = sv.sieve(pair.texts, [sats[changed]], np.array([changed]), jd0, start_fr, 0.3, d_km, step)
        other = 1 - changed
        assert found.keep[other]
        assert found.segments[other, int(t_meet // step)]


def test_anomaly_conversions_invert_keplers_equation():
    """The compiled Kepler solver (true anomaly from mean anomaly, per element) and the one-arctangent
    mean anomaly of the time filter against Kepler's equation itself, M = E - e sin E, and the
    half-angle relation tan(f/2) = sqrt((1 + e) / (1 - e)) tan(E/2) (Vallado 2013, eqs. 2-4, 2-14),
    over eccentricities from circular to 0.99 (the branch that starts from E = +-pi above 0.8)."""
    rng = np.random.default_rng(7)
    e = np.concatenate([[0.0, 1e-6, 0.5, 0.81, 0.95, 0.99], rng.uniform(0.0, 0.99, 994)])
    m = rng.uniform(-4 * np.pi, 4 * np.pi, (3, e.size))
    f = sv._true_anomaly(m, e)
    ea = 2.0 * np.arctan2(np.sqrt(1.0 - e) * np.sin(f / 2), np.sqrt(1.0 + e) * np.cos(f / 2))
    residual = np.angle(np.exp(1j * (ea - e * np.sin(ea) - m)))
    assert np.abs(residual).max() < 1e-9
    for k in range(e.size):  # the time filter's M(f) from an unnormalised (cos f, sin f)
        scale = 0.5 + k % 3
        got = sv._mean_anomaly(scale * np.cos(f[0, k]), scale * np.sin(f[0, k]), e[k])
        assert abs(np.angle(np.exp(1j * (got - m[0, k])))) < 1e-9
