"""Synthetic future catalog (issue #18, target 3): the shell table against the filings, Walker
geometry checked on SGP4's own states, breakup debris that stays in orbit, determinism, the CLI."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from spacecommons.catalog import read_elements, read_tle
from spacecommons.constants import EARTH_RADIUS_WGS72_KM
from spacecommons.errors import InputError
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.sustainability.synthetic import (
    FIRST_SYNTHETIC_ID,
    SHELLS,
    mean_motion_rev_day,
    synthesize,
    walker_shell,
    write_3le,
)
from spacecommons.timescales import datetime_to_jd

from .conftest import SAMPLE

EPOCH = datetime(2022, 1, 22, tzinfo=UTC)
SMALL_SHELL = SHELLS[7]  # Starlink Gen2 604 km, 148 deg, 12 x 12 (FCC 22-91)


@pytest.fixture(scope="module")
def iridium():
    """CelesTrak's Iridium 33 debris group (2021-10-02): a small LEO catalog to build on."""
    name = "iridium-33-debris_celestrak_2021-10-02.txt"
    return read_tle((SAMPLE / name).read_text(), name).records


def _size(constellation: str, altitudes: tuple[float, ...] | None = None) -> int:
    return sum(
        s.size for s in SHELLS if s.constellation == constellation and (altitudes is None or s.altitude_km in altitudes)
    )


def test_shell_table_matches_the_filings():
    # FCC 22-91 (SpaceX Gen2 Order, Dec 2022) describes the amended application: 29,988 satellites,
    # 19,440 in shells at 340-360 km, 10,080 at 525-535 km (the altitudes of the 7,500 granted) and
    # 468 retrograde at 604 and 614 km
    assert _size("STARLINK-G2") == 29_988
    assert _size("STARLINK-G2", (340.0, 345.0, 350.0, 360.0)) == 19_440
    assert _size("STARLINK-G2", (525.0, 530.0, 535.0)) == 10_080
    assert _size("STARLINK-G2", (604.0, 614.0)) == 468
    # FCC 20-102 (Kuiper Order, Jul 2020): 3,236 satellites, 784 at 590 km, 1,296 at 610 km, 1,156 at 630 km
    assert _size("KUIPER") == 3_236
    assert [_size("KUIPER", (h,)) for h in (590.0, 610.0, 630.0)] == [784, 1_296, 1_156]
    # ITU filings GW-A59 (6,080) and GW-2 (6,912): 12,992 Guowang satellites
    assert _size("GUOWANG") == 12_992
    assert _size("GUOWANG", (1145.0,)) == 6_912
    assert _size("QIANFAN") == 1_296  # Qianfan phase 1 (Xinhua, 2024-08-07)
    assert all(s.source for s in SHELLS)


def test_walker_shell_geometry_from_sgp4_states():
    """SGP4's own states at the epoch: radius near R + altitude, the orbit normal at the shell's
    inclination, plane p's node 360 p / P from plane 0's (angular momentum, computed here)."""
    sats = walker_shell(SMALL_SHELL, EPOCH, 100000, raan_offset_deg=17.0)
    assert len(sats) == 144 and len({s.norad_id for s in sats}) == 144
    jd, fr = datetime_to_jd(EPOCH)
    err, r, v = propagate_satrecs([s.satrec() for s in sats], np.array([jd]), np.array([fr]))
    assert not err.any()
    r, v = r[:, 0], v[:, 0]
    radius = np.linalg.norm(r, axis=1)
    # SGP4's short-period J2 terms and mean-vs-osculating axis move a circular LEO orbit by ~10 km
    assert np.all(np.abs(radius - (EARTH_RADIUS_WGS72_KM + 604.0)) < 20.0)
    h = np.cross(r, v)
    incl = np.degrees(np.arccos(h[:, 2] / np.linalg.norm(h, axis=1)))
    assert np.allclose(incl, 148.0, atol=0.1)
    node = np.degrees(np.arctan2(h[:, 0], -h[:, 1])) % 360.0  # node vector z x h
    plane = np.arange(144) // 12
    expected = (17.0 + 30.0 * plane) % 360.0
    assert np.allclose((node - expected + 180.0) % 360.0 - 180.0, 0.0, atol=0.1)
    # Kepler's third law: 604 km circular orbit, period 96.7 min (a = 6982 km, mu = 398600.8 km^3/s^2, WGS-72)
    assert math.isclose(1440.0 / mean_motion_rev_day(604.0), 96.78, abs_tol=0.05)


def test_synthesize_reaches_the_count_with_debris_that_stays_in_orbit(iridium):
    syn = synthesize(iridium, 800, seed=3, shells=(SMALL_SHELL,))
    ids = [e.norad_id for e in syn.elements]
    assert len(ids) == 800 and len(set(ids)) == 800 and ids == sorted(ids)
    assert syn.counts["catalog"] == len(iridium) and syn.counts["STARLINK-G2"] == 144
    assert syn.counts["debris"] == 800 - len(iridium) - 144 and syn.counts["breakups"] >= 1
    assert syn.epoch == max(e.epoch for e in iridium)  # the reference epoch comes from the input
    new = [e for e in syn.elements if e.norad_id >= FIRST_SYNTHETIC_ID]
    assert not {e.norad_id for e in iridium} & {e.norad_id for e in new}
    # every debris fragment propagates without SGP4 error through the 7-day horizon, above the
    # 80 km below which the screening calls an object reentered (other instants than the filter's)
    debris = [e for e in new if "FRAG" in e.name]
    assert len(debris) == syn.counts["debris"]
    jd, fr = datetime_to_jd(syn.epoch)
    err, r, _ = propagate_satrecs([e.satrec() for e in debris], np.full(3, jd), fr + np.array([0.3, 2.2, 6.1]))
    assert not err.any()
    assert np.all(np.linalg.norm(r, axis=-1) > EARTH_RADIUS_WGS72_KM + 80.0)
    # same arguments, same catalog; another seed, other debris
    again = synthesize(iridium, 800, seed=3, shells=(SMALL_SHELL,))
    assert [e.fields for e in again.elements] == [e.fields for e in syn.elements]
    other = synthesize(iridium, 800, seed=4, shells=(SMALL_SHELL,))
    assert [e.fields for e in other.elements] != [e.fields for e in syn.elements]


def test_a_draw_keeps_the_population_mix(iridium):
    full = synthesize(iridium, len(iridium) + 144, seed=1, shells=(SMALL_SHELL,))
    assert full.counts["debris"] == 0
    half = synthesize(iridium, 300, seed=1, population=len(iridium) + 144, shells=(SMALL_SHELL,))
    assert len(half.elements) == 300 and sum(v for k, v in half.counts.items() if k != "breakups") == 300
    assert {e.norad_id for e in half.elements} <= {e.norad_id for e in full.elements}
    # a uniform draw of 300 of 476 (332 + 144): the shell's share within 5 binomial standard deviations
    share, p = half.counts["STARLINK-G2"] / 300, 144 / (len(iridium) + 144)
    assert abs(share - p) < 5 * math.sqrt(p * (1 - p) / 300)


def test_bad_requests_are_refused(iridium):
    with pytest.raises(InputError, match="objects must be positive"):
        synthesize(iridium, 0, seed=1)
    with pytest.raises(InputError, match="several element sets"):
        synthesize(iridium + iridium[:1], 10, seed=1)


def test_cli_writes_a_3le_catalog_that_reads_back(tmp_path, iridium):
    from typer.testing import CliRunner

    from spacecommons.cli.main import app

    out = tmp_path / "future.tle"
    args = ["catalog", "synthesize", "-e", str(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt")]
    opts = ["--objects", "600", "--seed", "5", "--constellations", "qianfan", "--out", str(out)]
    res = CliRunner().invoke(app, [*args, *opts])
    assert res.exit_code == 0, res.output
    back = read_elements(out)
    assert not back.issues and len(back.records) == 600
    assert len({e.norad_id for e in back.records}) == 600
    # the written TLEs are the generator's element sets (Alpha-5 numbers above 99999 included)
    syn = synthesize(iridium, 600, seed=5, shells=tuple(s for s in SHELLS if s.constellation == "QIANFAN"))
    assert write_3le(syn.elements) == out.read_text()
    bad = CliRunner().invoke(app, [*args, "--objects", "10", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--out" in bad.output
    bad = CliRunner().invoke(app, [*args, "--objects", "10", "--constellations", "oneweb", "--out", str(out)])
    assert bad.exit_code == 2 and "KUIPER" in bad.output
