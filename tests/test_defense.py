"""Impact effects (Collins, Melosh & Marcus 2005) against observed events, within the spread the
model and the observations allow; Palermo scale check value (Chesley et al. 2002)."""

from __future__ import annotations

import math

import pytest

from spacecommons.defense import impact_effects
from spacecommons.neo import palermo, palermo_cumulative


def test_chelyabinsk_airburst():
    """19 m, 3,300 kg/m^3, 19.16 km/s, 18.3 deg (Popova et al. 2013): 400-500 kt, peak
    brightness at ~29.7 km. Model: 0.52 Mt (mass uncertainty ~ +-25%), burst within 10%."""
    e = impact_effects(19.0, 3300.0, 19.16, 18.3)
    assert 0.4 * 0.8 <= e.energy_mt <= 0.5 * 1.25
    assert e.airburst_altitude_m == pytest.approx(29_700.0, rel=0.10)
    assert e.final_crater_m is None and e.impact_speed_m_s == 0.0


def test_tunguska_airburst():
    """Tunguska 1908: airburst at roughly 5-10 km, 3-15 Mt: a 50 m stony body at 20 km/s, 45 deg."""
    e = impact_effects(50.0, 3000.0, 20.0, 45.0)
    assert 3.0 <= e.energy_mt <= 15.0
    assert 5_000.0 <= e.airburst_altitude_m <= 10_000.0


@pytest.mark.parametrize("speed", [12.0, 17.0])
def test_meteor_crater(speed):
    """Iron impactor ~40-50 m at 12-17 km/s made Meteor Crater, ~1.2 km across (simple crater).
    The paper's crater scaling is good to ~+-30%."""
    e = impact_effects(45.0, 7800.0, speed, 45.0, target="sediment")
    assert e.airburst_altitude_m is None and e.crater_type == "simple"
    assert e.final_crater_m == pytest.approx(1200.0, rel=0.30)


def test_energy_and_seismic_magnitude_formulas():
    e = impact_effects(100.0, 3000.0, 20.0, 90.0, target="rock")
    mass = 3000.0 * math.pi / 6.0 * 100.0**3
    assert e.energy_j == pytest.approx(0.5 * mass * 20_000.0**2, rel=1e-12)
    ground = 0.5 * mass * e.impact_speed_m_s**2
    assert e.seismic_magnitude == pytest.approx(0.67 * math.log10(ground) - 5.87, abs=1e-12)
    radii = e.overpressure_radii_m
    assert radii["1 psi (windows)"] > radii["5 psi (buildings)"] > radii["20 psi (heavy damage)"] > 0


def test_large_impactor_makes_a_complex_crater():
    e = impact_effects(1000.0, 3000.0, 20.0, 45.0)
    assert e.crater_type == "complex" and e.final_crater_m > 3200.0


def test_palermo_check_value_and_cumulative():
    """Reference: IP 1e-6, E 1e3 Mt, dT 50 yr -> -3.776."""
    assert palermo(1e-6, 1e3, 50.0) == pytest.approx(-3.776, abs=5e-4)
    assert palermo_cumulative([-3.0, -3.0]) == pytest.approx(-3.0 + math.log10(2.0), abs=1e-12)


def test_cli_json():
    import json

    from typer.testing import CliRunner

    from spacecommons.cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "defense",
            "impact-effects",
            "--diameter-m",
            "19",
            "--density",
            "3300",
            "--speed-km-s",
            "19.16",
            "--angle-deg",
            "18.3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["airburst_altitude_m"] == pytest.approx(29_700.0, rel=0.1)


def test_a_small_slow_grazing_body_stops_in_the_air_without_crater_or_magnitude():
    """Collins et al. (2005) eq. 8: a 0.5 m stone at 1 km/s and 1 deg loses its speed to drag
    (exp(-3 rho0 C_D H / (4 rho_i L0 sin theta)) ~ 1e-196), so eqs. 21-40 do not apply: no crater and
    no seismic magnitude (found by schemathesis as a math domain error)."""
    from spacecommons.defense.impact_effects import impact_effects

    fx = impact_effects(0.5, 3000.0, 1.0, 1.0)
    assert fx.impact_speed_m_s < 1e-100
    assert fx.final_crater_m is None and fx.seismic_magnitude is None
