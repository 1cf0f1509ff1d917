"""Astrometric weights (neo/astrometry/weights.py): Vereš, Farnocchia, Chesley & Chamberlin (2017),
Icarus 296, 139, Tables 2-4 and eq. 5 (relaxation sqrt(N/4) for N > 4 per station and night); the
values asserted below are those tables' entries."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from spacecommons.neo.astrometry import OpticalObservation
from spacecommons.neo.astrometry.weights import astrometric_weights, veres2017_sigma

JD_2010 = 2455197.5  # 2010-01-01
JD_2015 = 2457023.5  # 2015-01-01


def obs(station: str, jd: float, catalog: str | None = "UCAC4", **kw) -> OpticalObservation:
    return OpticalObservation("99942", jd, 10.0, 20.0, station, None, None, catalog, "C", None, "t:1", **kw)


@pytest.mark.parametrize(
    ("station", "jd", "catalog", "sigma"),
    [
        ("703", JD_2010, "UCAC4", 1.0),  # Table 2: Catalina before 2014
        ("703", JD_2015, "UCAC4", 0.8),  # ... and from 2014
        ("691", 2452000.5, "USNOA2", 0.6),  # Spacewatch before 2003
        ("691", JD_2010, "UCAC4", 0.5),
        ("644", 2452800.5, "USNOA2", 0.6),  # NEAT before 2003-09
        ("644", 2452900.5, "USNOA2", 0.4),
        ("F51", JD_2015, "Gaia2", 0.2),  # Table 3: Pan-STARRS 1
        ("G96", JD_2015, "Gaia2", 0.5),  # Mt. Lemmon
        ("D29", JD_2015, "UCAC4", 0.75),
        ("645", JD_2010, "SDSS8", 0.3),  # Table 4
        ("568", JD_2015, "Gaia2", 0.1),  # Mauna Kea with Gaia
        ("568", JD_2015, "USNOB1", 0.5),
        ("568", JD_2015, "UCAC4", 1.0),
        ("Z99", JD_2015, "UCAC4", 1.0),  # any other station
        ("Z99", JD_2015, None, 1.5),  # no catalog named
    ],
)
def test_veres2017_tables(station, jd, catalog, sigma):
    assert veres2017_sigma(station, jd, catalog)[0] == sigma


def test_relaxation_per_station_and_night_and_record_uncertainties():
    # nine G96 observations in one night, three in another; Mt. Lemmon is at 249.2 deg E, so
    # 2015-01-01 03:00-07:00 UTC is one local night
    night = [obs("G96", JD_2015 + 0.125 + k * 0.02) for k in range(9)]
    other = [obs("G96", JD_2015 + 1.125 + k * 0.02) for k in range(3)]
    ades = replace(obs("F51", JD_2015), sigma_ra_arcsec=0.08, sigma_dec_arcsec=0.07)
    w = astrometric_weights(night + other + [ades])
    assert w.relax[:9] == pytest.approx([math.sqrt(9 / 4)] * 9)  # eq. 5: N = 9 > 4
    assert w.sigma_ra_arcsec[0] == pytest.approx(0.5 * 1.5)
    assert list(w.relax[9:12]) == [1.0, 1.0, 1.0]  # N = 3: not relaxed
    assert (w.sigma_ra_arcsec[12], w.sigma_dec_arcsec[12], w.rule[12]) == (0.08, 0.07, "record (ADES rmsRA/rmsDec)")
    wra, wdec = w.weights()
    assert wdec[12] == pytest.approx(1 / 0.07**2)
    # without the record's own values the F51 observation gets Table 3's 0.2"
    assert astrometric_weights([ades], use_record_uncertainties=False).sigma_ra_arcsec[0] == 0.2
