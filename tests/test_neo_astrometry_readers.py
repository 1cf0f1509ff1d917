"""Astrometry readers: MPC 80-column, ADES (PSV, XML) with the PSV writer, JPL radar astrometry.

Fixtures: tests/data/neo/observations/ (NEOs.jl test and data files, MIT; provenance in
tests/data/SOURCES.md). Expected counts are those published with the files (2008 TC3 883
observations on 29 stations, 2023 DW 123; the whole files, Apophis 7,819 and Bennu 580 among
them, are read by benchmarks/astrometry_read.py); expected values are the records' own fields converted by hand below
(h m s -> degrees, calendar date -> Julian date by the Fliegel & Van Flandern 1968 formula).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacecommons.constants import AU_KM
from spacecommons.errors import RecordIssue
from spacecommons.neo.astrometry import (
    OpticalObservation,
    observation_format,
    read_ades,
    read_jpl_radar,
    read_mpc80,
    read_observations_text,
    write_ades_psv,
)

OBS = Path(__file__).parent / "data" / "neo" / "observations"


def jd_fliegel(y: int, m: int, d: int) -> float:
    """Julian date at 0h of a Gregorian date (Fliegel & Van Flandern 1968, Comm. ACM 11, 657)."""
    jdn = (1461 * (y + 4800 + (m - 14) // 12)) // 4 + (367 * (m - 2 - 12 * ((m - 14) // 12))) // 12
    jdn += -(3 * ((y + 4900 + (m - 14) // 12) // 100)) // 4 + d - 32075
    return jdn - 0.5


def read(name: str):
    return read_observations_text((OBS / name).read_text(), name)


# --- MPC 80-column -----------------------------------------------------------------------------


def test_2008tc3_all_883_records_and_the_first_one_field_by_field():
    batch = read("2008TC3.txt")
    assert batch.format == "mpc80" and batch.issues == []
    assert len(batch.optical) == 883  # NEOs.jl / SOURCES.md: 883 observations, 29 stations
    assert len({o.station for o in batch.optical}) == 29
    first = batch.optical[0]
    # "     K08T03C* C2008 10 06.27767 23 17 00.78 +07 49 22.7          18.9 Vrz9516G96"
    assert first.designation == "2008 TC3" and first.discovery and first.mode == "C"
    assert first.epoch_utc_jd == pytest.approx(jd_fliegel(2008, 10, 6) + 0.27767, abs=1e-9)
    assert first.ra_deg == pytest.approx((23 + 17 / 60 + 0.78 / 3600) * 15, abs=1e-12)
    assert first.dec_deg == pytest.approx(7 + 49 / 60 + 22.7 / 3600, abs=1e-12)
    assert (first.mag, first.band, first.catalog, first.station) == (18.9, "V", "UCAC2", "G96")  # 'r' = UCAC-2
    assert (first.ra_digits, first.dec_digits) == (2, 1)
    assert first.source == "2008TC3.txt:1"
    # the arc: 2008-10-06.28 to 10-07.07 UTC (SOURCES.md)
    epochs = [o.epoch_utc_jd for o in batch.optical]
    assert min(epochs) == pytest.approx(jd_fliegel(2008, 10, 6) + 0.27767, abs=1e-9)
    assert max(epochs) < jd_fliegel(2008, 10, 7) + 0.08


def test_other_real_files_read_completely():
    assert len(read("2023DW.txt").optical) == 123
    bennu = read("101955_OPTICAL_1999_2006.dat")
    assert len(bennu.optical) == 293 and not bennu.issues
    apophis = read("99942_first300.dat")
    assert len(apophis.optical) == 300 and not apophis.issues
    # line 7 is the replaced discovery observation, note 2 'X', numbered 99942 with provisional K04M04N
    x = apophis.optical[6]
    assert (x.designation, x.mode, x.discovery, x.station, x.catalog) == ("99942", "X", True, "695", "USNOB1")
    video = read("2024MK_video.dat")
    assert {o.mode for o in video.optical} == {"n"} and len(video.optical) == 18


def _line(note2: str, tail: str = "", station: str = "C51") -> str:
    """An 80-column line in MPC's columns: designation 6-12, note 2 in 15, date 16-32, RA 33-44, Dec 45-56."""
    head = "     K10A00A  " + note2 + "2010 01 14.70234"
    body = tail if tail else " 09 31 09.28 -19 31 33.9                L~0dNN"
    return (head + body).ljust(77)[:77] + station


def test_satellite_two_line_record_km_and_au():
    km = _line("s", " 1 - 5634.1734 - 2466.2112 + 3038.3867")
    obs, issues = read_mpc80(_line("S") + "\n" + km + "\n", "sat")
    assert issues == []
    assert obs[0].mode == "S" and obs[0].observer_gcrs_km == (-5634.1734, -2466.2112, 3038.3867)
    assert obs[0].dec_deg == pytest.approx(-(19 + 31 / 60 + 33.9 / 3600))
    au = _line("s", " 2 +0.0000376600 -0.0000164900 +0.0000203100")
    obs, issues = read_mpc80(_line("S") + "\n" + au, "sat")
    assert issues == [] and obs[0].observer_gcrs_km[0] == pytest.approx(0.00003766 * AU_KM)


def test_roving_two_line_record_is_a_wgs84_position():
    first = _line("V", station="247")
    second = _line("v", "  204.527800 +19.826100  4205", station="247")
    obs, issues = read_mpc80(first + "\n" + second, "rov")
    assert issues == []
    x, y, z = obs[0].observer_itrf_km
    # WGS-84 (NIMA TR8350.2): N = a / sqrt(1 - e^2 sin^2 lat); x = (N + h) cos lat cos lon
    a, f = 6378.137, 1 / 298.257223563
    e2 = f * (2 - f)
    lat, lon, h = math.radians(19.8261), math.radians(204.5278), 4.205
    n = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    assert x == pytest.approx((n + h) * math.cos(lat) * math.cos(lon), abs=1e-6)
    assert y == pytest.approx((n + h) * math.cos(lat) * math.sin(lon), abs=1e-6)
    assert z == pytest.approx((n * (1 - e2) + h) * math.sin(lat), abs=1e-6)


def test_bad_records_name_line_and_field_and_the_rest_lands():
    good = (OBS / "2023DW.txt").read_text().splitlines()[:3]
    bad_ra = good[1][:32] + "25 00 00.00 " + good[1][44:]
    bad_date = good[1][:20] + "13" + good[1][22:]
    lonely = _line("S")  # no 's' line follows
    orphan = _line("s", " 1 1 2 3")
    text = "\n".join([good[0], bad_ra, bad_date, "short line", lonely, good[2], orphan])
    obs, issues = read_mpc80(text, "f.txt")
    assert len(obs) == 2
    assert [(i.line, i.field) for i in issues] == [
        (2, "ra"),
        (3, "date"),
        (4, "line"),
        (5, "second line"),
        (7, "note2"),
    ]
    assert all(str(i).startswith(f"f.txt:{i.line}: ") for i in issues)
    _, issues = read_mpc80(_line("S") + "\n" + _line("s", " 3 1 2 3"), "f.txt")
    assert [(i.line, i.field) for i in issues] == [(2, "observer position")]


# --- ADES --------------------------------------------------------------------------------------

PSV = """# version=2017
# observatory
! mpcCode F51
permID|provID  |trkSub|mode|stn|obsTime                 |ra         |dec       |rmsRA|rmsDec|rmsCorr|astCat|mag  |band
      |2008 TC3|      |CCD |F51|2008-10-06T06:39:50.688Z|349.2532500|+7.8229722|0.150|0.120 |-0.12  |Gaia2 |18.90|w
99942 |        |      |CMO |Z99|2021-03-08T02:50:00Z    |12.5       |100.0     |     |      |       |UCAC4 |     |
"""


def test_ades_psv_fields_and_a_bad_record():
    obs, issues = read_ades(PSV, "s.psv")
    assert len(obs) == 1 and [(i.line, i.field) for i in issues] == [(6, "dec")]
    o = obs[0]
    assert (o.designation, o.station, o.mode, o.catalog, o.band) == ("2008 TC3", "F51", "C", "Gaia2", "w")
    assert (o.sigma_ra_arcsec, o.sigma_dec_arcsec, o.sigma_corr) == (0.15, 0.12, -0.12)
    seconds = 6 * 3600 + 39 * 60 + 50.688
    assert o.epoch_utc_jd == pytest.approx(jd_fliegel(2008, 10, 6) + seconds / 86400, abs=1e-10)
    assert o.source == "s.psv:5"
    assert observation_format(PSV) == "ades-psv"


XML = """<?xml version="1.0" encoding="UTF-8"?>
<ades version="2017">
  <obsBlock>
    <obsContext><observatory><mpcCode>C51</mpcCode></observatory></obsContext>
    <obsData>
      <optical>
        <provID>2010 AB</provID><trkSub>ab12</trkSub><mode>CCD</mode><stn>C51</stn>
        <sys>ICRF_AU</sys><ctr>399</ctr><pos1>0.0000376600</pos1><pos2>-0.0000164900</pos2><pos3>0.0000203100</pos3>
        <obsTime>2010-01-14T16:51:22.176Z</obsTime><ra>142.7886667</ra><dec>-19.5260833</dec>
        <rmsRA>0.5</rmsRA><rmsDec>0.4</rmsDec><astCat>UCAC3</astCat><disc>*</disc>
      </optical>
      <optical>
        <provID>2010 AB</provID><stn>C51</stn><obsTime>not a time</obsTime><ra>1</ra><dec>2</dec>
      </optical>
    </obsData>
  </obsBlock>
</ades>
"""


def test_ades_xml_spacecraft_observer_and_bad_record_line():
    batch = read_observations_text(XML, "a.xml")
    assert batch.format == "ades-xml"
    assert [(i.line, i.field) for i in batch.issues] == [(12, "obsTime")]
    o = batch.optical[0]
    assert o.mode == "S" and o.discovery and o.source == "a.xml:6"
    assert o.observer_gcrs_km == pytest.approx((0.00003766 * AU_KM, -0.00001649 * AU_KM, 0.00002031 * AU_KM))


def test_ades_xml_refuses_entity_expansion():
    bomb = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><ades><optical>&x;</optical></ades>'
    obs, issues = read_ades(bomb, "bomb.xml")
    assert obs == [] and issues and issues[0].field == "xml"


def _same(a: OpticalObservation, b: OpticalObservation) -> None:
    assert a.designation == b.designation and a.station == b.station
    assert a.epoch_utc_jd == pytest.approx(b.epoch_utc_jd, abs=2e-11)  # 1 us = 1.2e-11 day
    assert abs((a.ra_deg - b.ra_deg + 180) % 360 - 180) < 1e-9 and a.dec_deg == pytest.approx(b.dec_deg, abs=1e-9)
    for name in ("sigma_ra_arcsec", "sigma_dec_arcsec", "sigma_corr", "catalog", "mode", "mag", "band", "discovery"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("observer_gcrs_km", "observer_itrf_km"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None) and (va is None or va == pytest.approx(vb, abs=1e-6)), name


def test_mpc80_to_ades_psv_round_trip_real_files():
    for name in ("2008TC3.txt", "99942_first300.dat", "2024MK_video.dat"):
        original = read(name).optical
        back, issues = read_ades(write_ades_psv(original), "w.psv")
        assert issues == [] and len(back) == len(original)
        for a, b in zip(original, back, strict=True):
            _same(a, b)


def test_round_trip_keeps_spacecraft_and_roving_observers():
    sat = read_mpc80(_line("S") + "\n" + _line("s", " 1 - 5634.1734 - 2466.2112 + 3038.3867"), "s")[0]
    rov = read_mpc80(_line("V", station="247") + "\n" + _line("v", "  204.527800 -19.826100  4205", "247"), "v")[0]
    back, issues = read_ades(write_ades_psv(sat + rov), "w")
    assert issues == []
    _same(sat[0], back[0])
    _same(rov[0], back[1])


observations = st.builds(
    OpticalObservation,
    designation=st.sampled_from(["99942", "2008 TC3", "ab12X"]),
    epoch_utc_jd=st.floats(2415020.5, 2488069.5),
    ra_deg=st.floats(0, 360, exclude_max=True),
    dec_deg=st.floats(-90, 90),
    station=st.sampled_from(["568", "G96", "C51"]),
    sigma_ra_arcsec=st.none() | st.floats(0.001, 100),
    sigma_dec_arcsec=st.none() | st.floats(0.001, 100),
    catalog=st.none() | st.sampled_from(["Gaia2", "UCAC4"]),
    mode=st.sampled_from(["C", "B", "n", "e"]),
    observer_gcrs_km=st.none(),
    source=st.just("h"),
    sigma_corr=st.none() | st.floats(-1, 1),
    discovery=st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(observations, max_size=5))
def test_ades_psv_round_trip_property(obs):
    back, issues = read_ades(write_ades_psv(obs), "w")
    assert issues == [] and len(back) == len(obs)
    for a, b in zip(obs, back, strict=True):
        # the writer keeps 6 significant digits of the uncertainties (more than any record states)
        rounded = {k: _g6(getattr(a, k)) for k in ("sigma_ra_arcsec", "sigma_dec_arcsec", "sigma_corr")}
        _same(replace(a, **rounded), b)


def _g6(x):
    return None if x is None else float(format(x, ".6g"))


# --- JPL radar ---------------------------------------------------------------------------------


def test_radar_files_read_completely_with_units():
    counts = {"99942_RADAR_2005_2013.dat": 46, "99942_RADAR_2021.dat": 4, "101955_RADAR_1999_2005.dat": 23}
    for name, n in counts.items():
        batch = read(name)
        assert batch.format == "jpl-radar" and len(batch.radar) == n and batch.issues == [], name
    first = read("99942_RADAR_2005_2013.dat").radar[:2]
    # "99942 Apophis (2004 MN4)  2005-01-27 23:31:00  -100849.1434  0.250  Hz  2380  251  251  C"
    assert (first[0].designation, first[0].kind, first[0].value, first[0].sigma) == (
        "99942",
        "doppler",
        -100849.1434,
        0.25,
    )
    assert first[0].epoch_utc_jd == pytest.approx(jd_fliegel(2005, 1, 27) + (23 * 3600 + 31 * 60) / 86400, abs=1e-9)
    assert (first[0].frequency_mhz, first[0].transmitter, first[0].receiver) == (2380.0, "251", "251")
    # "... 2005-01-29 00:00:00  192028507.13  4.000  us ..." -> seconds
    assert first[1].kind == "delay" and first[1].value == pytest.approx(192.02850713, abs=1e-12)
    assert first[1].sigma == pytest.approx(4e-6)


def test_radar_bad_record_fields():
    good = "2005 YU55\t2011-11-09 12:00:00\t1000.5\t0.5\tHz\t8560\t253\t253\tC"
    text = "\n".join([good, good.replace("Hz", "km"), good.replace("\t0.5\tHz", "\t-1\tHz"), "garbage", good])
    obs, issues = read_jpl_radar(text, "r.dat")
    assert len(obs) == 2 and obs[0].designation == "2005 YU55"
    assert [(i.line, i.field) for i in issues] == [(2, "units"), (3, "sigma"), (4, "record")]


# --- fuzz: nothing but the typed issue ----------------------------------------------------------

REAL_LINES = (OBS / "2008TC3.txt").read_text().splitlines()[:40] + (
    OBS / "99942_RADAR_2021.dat"
).read_text().splitlines()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_any_text_gives_observations_or_issues(text):
    batch = read_observations_text(text, "fuzz")
    assert all(isinstance(i, RecordIssue) for i in batch.issues)
    for reader in (read_mpc80, read_ades, read_jpl_radar):
        _, issues = reader(text, "fuzz")
        assert all(isinstance(i, RecordIssue) for i in issues)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(REAL_LINES), st.integers(0, 79), st.characters(codec="ascii"))
def test_fuzz_one_character_changed_in_a_real_record(line, at, char):
    mutated = line[:at] + char + line[at + 1 :]
    for reader in (read_mpc80, read_jpl_radar):
        obs, issues = reader(mutated, "m")
        skipped = not mutated.strip() or (reader is read_jpl_radar and mutated.lstrip().startswith("#"))
        assert len(obs) + len(issues) >= 1 or skipped  # only blank lines and radar '#' comments are skipped
        for o in obs:
            assert o.epoch_utc_jd >= 0 and math.isfinite(o.epoch_utc_jd)
