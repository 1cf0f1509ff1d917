"""Sustainability: space weather, NASA breakup model, compliance rules, orbit-averaged drag lifetime."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

from spacecommons.catalog.reader import read_elements
from spacecommons.errors import InputError
from spacecommons.propagation.atmosphere import ConstantSpaceWeather
from spacecommons.propagation.space_weather import bundled_space_weather
from spacecommons.sustainability import breakup as sbm
from spacecommons.sustainability.compliance import (
    Compliance,
    geo_disposal_compliance,
    geo_graveyard_min_perigee_km,
    leo_lifetime_compliance,
)
from spacecommons.sustainability.lifetime import OrbitState, decay, decay_rates

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "spacecommons" / "data" / "sample"
MU = 398_600.8  # WGS-72, km^3/s^2 (Vallado et al. 2006)
RE = 6_378.135


def jd(y: int, m: int, d: int) -> float:
    return 2440587.5 + datetime(y, m, d, tzinfo=UTC).timestamp() / 86400.0


# --- space weather --------------------------------------------------------------------------------


def test_space_weather_matches_celestrak_rows():
    # CelesTrak SW-All.csv rows (https://celestrak.org/SpaceData/SW-All.csv):
    # 2021-12-31 F10.7_OBS 101.5; 2022-01-01 F10.7_OBS_CENTER81 104.5, AP_AVG 12;
    # 2003-10-29 (the Halloween storm) AP_AVG 204
    sw = bundled_space_weather("observed")
    f107, f107a, ap = sw.indices(np.array([jd(2022, 1, 1) + 0.5]))
    assert (float(f107[0]), float(f107a[0]), float(ap[0])) == (101.5, 104.5, 12.0)
    _, _, ap_storm = sw.indices(np.array([jd(2003, 10, 29) + 0.25]))
    assert float(ap_storm[0]) == 204.0


def test_space_weather_refuses_dates_outside_the_data():
    with pytest.raises(InputError, match="before the table"):
        bundled_space_weather().indices(np.array([jd(1950, 1, 1)]))
    with pytest.raises(InputError, match="after the last observed day"):
        bundled_space_weather("observed").indices(np.array([jd(2030, 1, 1)]))
    with pytest.raises(InputError, match="scenario"):
        bundled_space_weather("extreme")


def test_forecast_scenarios_are_ordered_and_cycle_shaped():
    t = np.array([jd(2030, 6, 1), jd(2036, 6, 1), jd(2050, 6, 1), jd(2060, 6, 1)])
    low, nom, high = (bundled_space_weather(s).indices(t)[1] for s in ("low", "nominal", "high"))
    assert np.all(low < nom) and np.all(nom < high)
    assert np.all(low > 65.0)  # never below the ECSS quiet-Sun floor
    # the 2041+ extension repeats the forecast one 11-year cycle earlier (module docstring)
    back = bundled_space_weather().indices(np.array([jd(2050, 6, 1) - 11 * 365.25]))[1]
    assert float(nom[2]) == pytest.approx(float(back[0]))


# --- NASA standard breakup model ------------------------------------------------------------------


def test_catastrophic_threshold_40_j_per_g():
    # JKLA01: catastrophic when m_p v^2 / (2 m_t) >= 40 J/g. 1 kg at 10 km/s: 5e7 J.
    assert sbm.is_catastrophic(1000.0, 1.0, 10.0)  # 50 J/g
    assert not sbm.is_catastrophic(2000.0, 1.0, 10.0)  # 25 J/g
    assert sbm.collision_mass_kg(2000.0, 1.0, 10.0) == pytest.approx(1.0 * 10.0**2)  # M = m_p v^2
    assert sbm.collision_mass_kg(1000.0, 1.0, 10.0) == 1001.0


def test_fragment_counts_follow_the_published_size_laws():
    # JKLA01 eq. 2 (collision) for Iridium 33 (560 kg) + Cosmos 2251 (900 kg), catastrophic at 11.7 km/s
    expected_10cm = 0.1 * 1460.0**0.75 * 0.1**-1.71
    assert float(sbm.cumulative_count(0.1, "collision", mass_kg=1460.0)) == pytest.approx(expected_10cm)
    rng = np.random.default_rng(2001)
    fr = sbm.sample_fragments(rng, "collision", mass_kg=560.0, projectile_mass_kg=900.0, v_impact_km_s=11.7)
    n_between = expected_10cm - 0.1 * 1460.0**0.75 * 10.0**-1.71
    assert len(fr) == round(n_between)
    # the sampled sizes follow the law: fragments >= 1 m are N(1 m)/N(10 cm) = 10^-1.71 of the cloud
    assert np.mean(fr.lc_m >= 1.0) == pytest.approx(10**-1.71, abs=3 * math.sqrt(10**-1.71 / len(fr)))
    # JKLA01 eq. 1 (explosion, S = 1): 6 * 0.1^-1.6 = 238.9 fragments >= 10 cm
    ex = sbm.sample_fragments(rng, "explosion", mass_kg=1000.0, lc_min_m=0.1, lc_max_m=1e6)
    assert len(ex) == round(6 * 0.1**-1.6)


def _published_sc(lam: float) -> tuple[float, float, float, float, float]:
    """JKLA01 eq. 6, spacecraft fragments > 11 cm, written out piecewise as published."""
    alpha = 0.0 if lam <= -1.95 else (0.3 + 0.4 * (lam + 1.2) if lam < 0.55 else 1.0)
    mu1 = -0.6 if lam <= -1.1 else (-0.6 - 0.318 * (lam + 1.1) if lam < 0 else -0.95)
    s1 = 0.1 if lam <= -1.3 else (0.1 + 0.2 * (lam + 1.3) if lam < -0.3 else 0.3)
    mu2 = -1.2 if lam <= -0.7 else (-1.2 - 1.333 * (lam + 0.7) if lam < -0.1 else -2.0)
    s2 = 0.5 if lam <= -0.5 else (0.5 - (lam + 0.5) if lam < -0.3 else 0.3)
    return alpha, mu1, s1, mu2, s2


def _published_rb(lam: float) -> tuple[float, float, float, float, float]:
    """JKLA01 eq. 7, rocket-body fragments > 11 cm."""
    alpha = 1.0 if lam <= -1.4 else (1.0 - 0.3571 * (lam + 1.4) if lam < 0 else 0.5)
    mu1 = -0.45 if lam <= -0.5 else (-0.45 - 0.9 * (lam + 0.5) if lam < 0 else -0.9)
    s2 = 0.28 if lam <= -1.0 else (0.28 - 0.1636 * (lam + 1.0) if lam < 0.1 else 0.1)
    return alpha, mu1, 0.55, -0.9, s2


@pytest.mark.parametrize("lam", [-2.5, -1.6, -1.2, -0.8, -0.6, -0.4, -0.2, 0.0, 0.3, 0.8])
def test_area_to_mass_parameters_match_the_published_piecewise_laws(lam):
    for cls, pub in (("spacecraft", _published_sc), ("rocket_body", _published_rb)):
        p = sbm.am_parameters(np.array([10**lam]), cls)
        got = tuple(float(p[k][0]) for k in ("alpha", "mu1", "s1", "mu2", "s2"))
        assert got == pytest.approx(pub(lam), abs=2e-3), cls  # 1.333 and 0.3571 are rounded slopes


def test_sampled_area_to_mass_and_dv_statistics():
    rng = np.random.default_rng(7)
    n = 200_000
    # Lc = 1 m spacecraft fragment: alpha = 0.78, means -0.95 and -2.0 -> mixture mean -1.181 (JKLA01 eq. 6)
    chi = sbm.sample_log_am(rng, np.full(n, 1.0), "spacecraft")
    assert chi.mean() == pytest.approx(0.78 * -0.95 + 0.22 * -2.0, abs=0.01)
    # Lc = 1 cm (lambda_c = -2 <= -1.75): one normal, mu = -0.3, sigma = 0.2 + 0.1333 * 1.5 (JKLA01 eq. 8)
    chi_small = sbm.sample_log_am(rng, np.full(n, 0.01), "spacecraft")
    assert chi_small.mean() == pytest.approx(-0.3, abs=0.005)
    assert chi_small.std() == pytest.approx(0.2 + 0.1333 * 1.5, abs=0.005)
    # dv: log10 normal, mean 0.9 chi + 2.9 (collision), 0.2 chi + 1.85 (explosion), sigma 0.4 (JKLA01 eqs. 11-12)
    x = np.full(n, -1.0)
    nu = np.log10(sbm.sample_dv_m_s(rng, x, "collision"))
    assert (nu.mean(), nu.std()) == pytest.approx((2.0, 0.4), abs=0.005)
    nu = np.log10(sbm.sample_dv_m_s(rng, x, "explosion"))
    assert nu.mean() == pytest.approx(1.65, abs=0.005)


def _parent_state(alt_km: float, incl_deg: float) -> tuple[np.ndarray, np.ndarray]:
    a = RE + alt_km
    v = math.sqrt(MU / a)
    i = math.radians(incl_deg)
    return np.array([a, 0.0, 0.0]), np.array([0.0, v * math.cos(i), v * math.sin(i)])


def test_fragment_elements_reproduce_the_parent_orbit_for_zero_dv():
    fr = sbm.Fragments("collision", *(np.ones(2) for _ in range(5)), np.zeros((2, 3)))
    r, v = _parent_state(800.0, 86.4)
    cloud = sbm.fragment_elements(fr, r, v, datetime(2009, 2, 10, 16, 56, tzinfo=UTC))
    g = sbm.gabbard(cloud.elements)
    assert g["perigee_km"] == pytest.approx([800.0, 800.0], abs=0.01)
    assert float(cloud.elements[0].fields["INCLINATION"]) == pytest.approx(86.4)
    sat = cloud.elements[0].satrec()  # the OMM fields initialise SGP4
    assert sat.error == 0


@pytest.mark.parametrize(
    ("group", "alt_km", "incl", "m1", "m2", "v"),
    [
        # Fengyun-1C (880 kg, ~863 km, 98.8 deg) and the SC-19 kill vehicle (~20 kg, ~9 km/s), 2007-01-11
        ("fengyun-1c_1999-025_celestrak_2021-10-02.txt", 863.0, 98.8, 880.0, 20.0, 9.0),
        # Iridium 33 (560 kg, 789 km, 86.4 deg) hit by Cosmos 2251 (900 kg) at 11.7 km/s, 2009-02-10
        ("iridium-33-debris_celestrak_2021-10-02.txt", 789.0, 86.4, 560.0, 900.0, 11.7),
        ("cosmos-2251-debris_celestrak_2021-10-02.txt", 789.0, 74.0, 900.0, 560.0, 11.7),
    ],
)
def test_gabbard_statistics_of_a_model_cloud_resemble_the_real_debris(group, alt_km, incl, m1, m2, v):
    """The model cloud at the event vs the real catalogued cloud (CelesTrak, 2021-10-02) 12-14 years on.

    Drag has since removed the low-perigee, high-A/m part of the real clouds and pulled the rest
    down, so the comparison is loose and one-sided where physics says so: the median period agrees
    within 2 minutes, the interquartile range of the period within a factor of 2, and the real
    median apogee lies below the model's (decay only lowers orbits).
    """
    rng = np.random.default_rng(2007)
    fr = sbm.sample_fragments(rng, "collision", mass_kg=m1, projectile_mass_kg=m2, v_impact_km_s=v)
    r, vel = _parent_state(alt_km, incl)
    cloud = sbm.fragment_elements(fr, r, vel, datetime(2009, 2, 10, tzinfo=UTC))
    model = sbm.gabbard(cloud.elements)
    real = sbm.gabbard(read_elements(SAMPLE / group).records)
    assert abs(np.median(model["period_min"]) - np.median(real["period_min"])) < 2.0
    iqr = lambda x: np.subtract(*np.percentile(x, [75, 25]))  # noqa: E731
    assert 0.5 < iqr(model["period_min"]) / iqr(real["period_min"]) < 2.0
    assert np.median(real["apogee_km"]) < np.median(model["apogee_km"])


# --- compliance -----------------------------------------------------------------------------------


def test_geo_graveyard_rule():
    # IADC-02-01 §5.3.1: dH = 235 km + (1 + C_R A/m) 1000 km; C_R = 1.2, A/m = 0.01 -> 1247 km above 35,786 km
    assert geo_graveyard_min_perigee_km(1.2, 0.01) == pytest.approx(35_786.0 + 1_247.0)
    ok = geo_disposal_compliance(35_786.0 + 1_300.0, 0.001, 1.2, 0.01)
    assert ok.verdict is Compliance.COMPLIANT and ok.margin_km == pytest.approx(53.0)
    assert geo_disposal_compliance(35_786.0 + 1_300.0, 0.005, 1.2, 0.01).verdict is Compliance.NON_COMPLIANT
    assert geo_disposal_compliance(35_786.0 + 300.0, 0.0, 1.2, 0.01).verdict is Compliance.NON_COMPLIANT


def test_leo_rules_25_and_5_years():
    perigee = np.array([500.0, 500.0, 500.0, 2500.0])
    life = np.array([4.9, 24.0, 30.0, 1.0])
    assert list(leo_lifetime_compliance(perigee, life, "iadc25")) == ["compliant"] * 2 + ["non_compliant"] + [
        "not_applicable"
    ]
    assert list(leo_lifetime_compliance(perigee, life, "fcc5")) == ["compliant"] + ["non_compliant"] * 2 + [
        "not_applicable"
    ]


# --- lifetime -------------------------------------------------------------------------------------

H_SCALE_KM = 50.0
RHO0 = 1e-12  # kg/m^3 at 400 km (an exponential test atmosphere, not a physical claim)


def exponential(jd, r_ecef_km):
    alt = np.linalg.norm(r_ecef_km, axis=-1) - RE
    return RHO0 * np.exp(-(alt - 400.0) / H_SCALE_KM)


def test_orbit_averaged_rate_equals_the_circular_closed_form():
    # circular orbit, polar (no co-rotation factor): da/dt = -B rho sqrt(mu a) (King-Hele 1987, eq. 3.7)
    a = np.array([RE + 400.0])
    da, de = decay_rates(
        a,
        np.zeros(1),
        np.array([math.pi / 2]),
        np.zeros(1),
        np.zeros(1),
        np.zeros(1) + 2.46e6,
        np.array([0.02]),
        exponential,
    )
    expected = -0.02 * RHO0 * math.sqrt(MU * a[0]) * 1e3 * 86400.0  # km/day
    assert float(da[0]) == pytest.approx(expected, rel=1e-9)
    assert float(de[0]) == pytest.approx(0.0, abs=1e-15)


def test_lifetime_matches_the_quadrature_of_the_decay_law():
    # time from 400 km to 100 km perigee: t = integral da / (B rho(a) sqrt(mu a)) for a circular polar orbit,
    # computed independently with scipy.integrate.quad
    b = 0.02

    def dt_da(a):
        return 1.0 / (b * RHO0 * math.exp(-(a - RE - 400.0) / H_SCALE_KM) * math.sqrt(MU * a) * 1e3 * 86400.0)

    expected_days, _ = quad(dt_da, RE + 100.0, RE + 400.0)
    state = OrbitState(
        np.array([RE + 400.0]), np.zeros(1), np.array([math.pi / 2]), np.zeros(1), np.zeros(1), np.array([2.46e6])
    )
    got = decay(state, np.array([b]), exponential, max_days=1e5)
    assert float(got.days[0]) == pytest.approx(expected_days, rel=0.01)


def test_lifetime_with_nrlmsis_is_monotonic_in_altitude_and_solar_flux():
    pytest.importorskip("pymsis")
    from spacecommons.sustainability.lifetime import msis_density

    state = OrbitState(
        np.array([RE + 300.0, RE + 350.0]),
        np.zeros(2),
        np.radians([51.6, 51.6]),
        np.zeros(2),
        np.zeros(2),
        np.full(2, jd(2022, 1, 1)),
    )
    quiet = decay(state, np.full(2, 0.02), msis_density(ConstantSpaceWeather(70.0, 70.0, 4.0)), max_days=3000.0)
    active = decay(state, np.full(2, 0.02), msis_density(ConstantSpaceWeather(200.0, 200.0, 15.0)), max_days=3000.0)
    assert quiet.days[0] < quiet.days[1] and active.days[0] < active.days[1]
    assert np.all(active.days < quiet.days)


# --- what-if ----------------------------------------------------------------------------------------


def test_whatif_counts_fragment_vs_catalog_pairs_and_leaves_the_parent_out():
    """At the breakup instant every fragment sits on the parent: if the parent were kept in the
    catalog, each fragment would meet it then (a window centred on the breakup, 20 km to allow the
    J2 short-period offset of osculating-as-mean elements); left out (it no longer exists), none does."""
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.sustainability.whatif import conjunction_rate_increase

    catalog = read_elements(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt").records
    parent = catalog[0]
    jd0, fr0 = parent.epoch_jd, parent.epoch_fr
    cloud = sbm.breakup_cloud(parent, jd0, fr0, np.random.default_rng(3), "explosion", mass_kg=100.0, lc_min_m=0.3)
    params = ScreeningParams(jd0, fr0 - 0.01, 0.02, 20.0)
    kept = conjunction_rate_increase(catalog, cloud.elements, params, workers=1)
    gone = conjunction_rate_increase(catalog, cloud.elements, params, parent_ids=(parent.norad_id,), workers=1)
    assert kept.added_events >= len(cloud.elements) // 2
    assert gone.added_events < kept.added_events
    assert gone.objects_in_band == kept.objects_in_band - 1
    assert gone.baseline_events <= kept.baseline_events
    assert np.all((kept.added_tca_s >= 0) & (kept.added_tca_s <= 0.02 * 86400 + 1))


def test_mitigation_report_counts_by_regime_owner_type():
    from spacecommons.sustainability.report import mitigation_report

    # 1 year, 10 years (beyond 5 only), 54.8 years (beyond both), GEO (never down by drag)
    rep = mitigation_report(
        ["LEO", "LEO", "LEO", "GEO"], ["A"] * 4, ["PAY", "PAY", "DEB", "PAY"],
        np.array([365.25, 3652.5, 20000.0, np.inf]), "test", 26.0,
    )  # fmt: skip
    got = {(r.regime, r.object_type): (r.objects, r.beyond_5_years, r.beyond_25_years) for r in rep.rows}
    assert got == {("GEO", "PAY"): (1, 1, 1), ("LEO", "DEB"): (1, 1, 1), ("LEO", "PAY"): (2, 1, 0)}
    assert rep.totals == {"objects": 4, "beyond_5_years": 3, "beyond_25_years": 2}
