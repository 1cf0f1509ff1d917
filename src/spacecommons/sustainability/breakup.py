"""NASA Standard Breakup Model: the fragment cloud of an explosion or a collision, as element sets.

Method (Johnson, Krisko, Liou & Anz-Meador 2001, "NASA's new breakup model of EVOLVE 4.0",
Adv. Space Res. 28(9):1377-1384, "JKLA01" below; the same equations in Krisko 2011,
"Proper implementation of the 1998 NASA breakup model", Orbital Debris Quarterly News 15(4)):

- **size** (characteristic length Lc, m): the cumulative number of fragments at least Lc long is
  ``N = 6 S Lc^-1.6`` for an explosion (S = 1, a rocket body's reference) and
  ``N = 0.1 M^0.75 Lc^-1.71`` for a collision, with M (kg) the sum of both masses when the
  collision is *catastrophic* (the projectile's specific energy ``m_p v^2 / (2 m_t)`` >= 40 J/g)
  and ``M = m_p v^2`` (v in km/s) when it is not. Lc is sampled from that power law (a Pareto
  law) between ``lc_min_m`` and ``lc_max_m``.
- **area-to-mass** ``chi = log10(A/m)``: for Lc > 11 cm a two-component normal mixture whose
  weights, means and sigmas are piecewise-linear in ``lambda_c = log10(Lc)`` (JKLA01 eqs. 6-7,
  spacecraft and rocket-body sets); for Lc < 8 cm one normal (eq. 8); between 8 and 11 cm a
  fragment follows the large-object law with probability ``(Lc - 0.08) / 0.03`` (a linear bridge,
  as in Krisko 2011). Area ``A = 0.556945 Lc^2.0047077`` (``0.540424 Lc^2`` below 1.67 mm), mass A/(A/m).
- **ejection speed** ``nu = log10(dv, m/s)`` is normal with mean ``0.2 chi + 1.85`` (explosion)
  or ``0.9 chi + 2.9`` (collision) and sigma 0.4 (JKLA01 eqs. 11-12); directions are isotropic.

Element sets: each fragment leaves the parent's SGP4 (TEME) state at the event epoch with its
dv; the osculating Keplerian elements of that state (WGS-72 mu) are written as SGP4 mean elements
and B* = Cd (A/m) / 12.741621 with Cd = 2.2 (the conversion ``B = 12.741621 B*`` of Vallado et
al. 2006, AIAA 2006-6753, with B = Cd A/m in m^2/kg). The osculating-as-mean shortcut displaces
a fragment by the J2 short-period terms (about 10 km in semi-major axis in LEO), small beside
the cloud's spread for dv of 10-500 m/s. Mass is not conserved exactly (JKLA01 does not
either; Krisko 2011 redraws to conserve it — not done here). Units: m, kg, m/s unless named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from ..catalog.elements import ElementSet, format_epoch
from ..constants import GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY
from ..errors import InputError

CATASTROPHIC_J_PER_G = 40.0  # JKLA01: specific energy threshold of a catastrophic collision
BSTAR_B_PER_BSTAR = 12.741621  # B [m^2/kg] = 12.741621 B* [1/earth radii] (Vallado et al. 2006)
CD_FRAGMENT = 2.2  # drag coefficient of a tumbling fragment (the usual free-molecular value)
ObjectClass = Literal["spacecraft", "rocket_body"]


def is_catastrophic(m_target_kg: float, m_projectile_kg: float, v_impact_km_s: float) -> bool:
    """True when ``m_p v^2 / (2 m_t)`` reaches 40 J/g (JKLA01); the target is the heavier object."""
    m_t, m_p = max(m_target_kg, m_projectile_kg), min(m_target_kg, m_projectile_kg)
    e_j_per_g = 0.5 * m_p * (v_impact_km_s * 1e3) ** 2 / (m_t * 1e3)
    return e_j_per_g >= CATASTROPHIC_J_PER_G


def collision_mass_kg(m1_kg: float, m2_kg: float, v_impact_km_s: float) -> float:
    """The M of the collision size law: both masses if catastrophic, else ``m_p v^2`` (v in km/s)."""
    if is_catastrophic(m1_kg, m2_kg, v_impact_km_s):
        return m1_kg + m2_kg
    return min(m1_kg, m2_kg) * v_impact_km_s**2


def cumulative_count(lc_m: np.ndarray | float, kind: str, *, mass_kg: float = 0.0, s: float = 1.0) -> np.ndarray:
    """N(>= Lc) of JKLA01: ``6 S Lc^-1.6`` (explosion) or ``0.1 M^0.75 Lc^-1.71`` (collision).

    >>> round(float(cumulative_count(0.1, "collision", mass_kg=1460.0)))  # Iridium 33 + Cosmos 2251 masses
    1211
    """
    lc = np.asarray(lc_m, dtype=float)
    if kind == "explosion":
        return 6.0 * s * lc**-1.6
    if kind == "collision":
        return 0.1 * mass_kg**0.75 * lc**-1.71
    raise InputError(f"breakup kind {kind!r}: expected explosion or collision")


def _ramp(x: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """y0 below x0, y1 above x1, linear between (JKLA01's piecewise-linear parameters)."""
    return np.interp(x, [x0, x1], [y0, y1])


def am_parameters(lc_m: np.ndarray, object_class: ObjectClass) -> dict[str, np.ndarray]:
    """The log10(A/m) mixture parameters for Lc > 11 cm (JKLA01 eqs. 6-7) and < 8 cm (eq. 8)."""
    lam = np.log10(np.asarray(lc_m, dtype=float))
    if object_class == "rocket_body":
        alpha = _ramp(lam, -1.4, 0.0, 1.0, 0.5)
        mu1 = _ramp(lam, -0.5, 0.0, -0.45, -0.9)
        s1 = np.full_like(lam, 0.55)
        mu2 = np.full_like(lam, -0.9)
        s2 = _ramp(lam, -1.0, 0.1, 0.28, 0.1)
    elif object_class == "spacecraft":
        alpha = _ramp(lam, -1.95, 0.55, 0.0, 1.0)
        mu1 = _ramp(lam, -1.1, 0.0, -0.6, -0.95)
        s1 = _ramp(lam, -1.3, -0.3, 0.1, 0.3)
        mu2 = _ramp(lam, -0.7, -0.1, -1.2, -2.0)
        s2 = _ramp(lam, -0.5, -0.3, 0.5, 0.3)
    else:
        raise InputError(f"object class {object_class!r}: expected spacecraft or rocket_body")
    mu_small = _ramp(lam, -1.75, -1.25, -0.3, -1.0)
    s_small = np.where(lam <= -3.5, 0.2, 0.2 + 0.1333 * (lam + 3.5))
    return {"alpha": alpha, "mu1": mu1, "s1": s1, "mu2": mu2, "s2": s2, "mu_small": mu_small, "s_small": s_small}


def area_m2(lc_m: np.ndarray) -> np.ndarray:
    """Average cross-section of a fragment of characteristic length Lc (JKLA01 eq. 9)."""
    lc = np.asarray(lc_m, dtype=float)
    return np.where(lc < 0.00167, 0.540424 * lc**2, 0.556945 * lc**2.0047077)


def sample_lc(rng: np.random.Generator, n: int, lc_min_m: float, lc_max_m: float, exponent: float) -> np.ndarray:
    """n lengths from the power law N(>=Lc) ~ Lc^-exponent truncated to [lc_min, lc_max]."""
    u = rng.random(n)
    a, b = lc_min_m**-exponent, lc_max_m**-exponent
    return (a - u * (a - b)) ** (-1.0 / exponent)


def sample_log_am(rng: np.random.Generator, lc_m: np.ndarray, object_class: ObjectClass) -> np.ndarray:
    """log10(A/m [m^2/kg]) of each fragment."""
    p = am_parameters(lc_m, object_class)
    n = lc_m.size
    first = rng.random(n) < p["alpha"]
    large = np.where(first, rng.normal(p["mu1"], p["s1"]), rng.normal(p["mu2"], p["s2"]))
    small = rng.normal(p["mu_small"], p["s_small"])
    use_large = rng.random(n) < np.clip((lc_m - 0.08) / 0.03, 0.0, 1.0)
    return np.where(use_large, large, small)


def sample_dv_m_s(rng: np.random.Generator, log_am: np.ndarray, kind: str) -> np.ndarray:
    """Ejection speed (m/s) of each fragment, log-normal about a mean set by its A/m."""
    mean = 0.2 * log_am + 1.85 if kind == "explosion" else 0.9 * log_am + 2.9
    return 10.0 ** rng.normal(mean, 0.4)


@dataclass(frozen=True)
class Fragments:
    """A sampled cloud: arrays of shape (n,) and the isotropic dv vectors (n, 3) in TEME, m/s."""

    kind: str
    lc_m: np.ndarray
    am_m2_kg: np.ndarray
    area_m2: np.ndarray
    mass_kg: np.ndarray
    dv_m_s: np.ndarray
    dv_vec_m_s: np.ndarray

    def __len__(self) -> int:
        return int(self.lc_m.size)


def sample_fragments(
    rng: np.random.Generator,
    kind: str,
    *,
    mass_kg: float,
    projectile_mass_kg: float = 0.0,
    v_impact_km_s: float = 10.0,
    object_class: ObjectClass = "spacecraft",
    lc_min_m: float = 0.1,
    lc_max_m: float = 10.0,
    s: float = 1.0,
) -> Fragments:
    """Sample the fragments >= ``lc_min_m`` of an explosion of ``mass_kg`` or a collision with a projectile.

    The count is ``N(lc_min) - N(lc_max)`` of the size law, rounded to the nearest integer.
    """
    if lc_min_m <= 0 or lc_max_m <= lc_min_m:
        raise InputError(f"lc range [{lc_min_m}, {lc_max_m}] m: need 0 < lc_min < lc_max")
    if kind == "explosion":
        exponent, big_m = 1.6, 0.0
    elif kind == "collision":
        if projectile_mass_kg <= 0:
            raise InputError("a collision needs projectile_mass_kg > 0")
        exponent, big_m = 1.71, collision_mass_kg(mass_kg, projectile_mass_kg, v_impact_km_s)
    else:
        raise InputError(f"breakup kind {kind!r}: expected explosion or collision")
    counts = cumulative_count(np.array([lc_min_m, lc_max_m]), kind, mass_kg=big_m, s=s)
    n = int(round(float(counts[0] - counts[1])))
    lc = sample_lc(rng, n, lc_min_m, lc_max_m, exponent)
    log_am = sample_log_am(rng, lc, object_class)
    am = 10.0**log_am
    area = area_m2(lc)
    dv = sample_dv_m_s(rng, log_am, kind)
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return Fragments(kind, lc, am, area, area / am, dv, direction * dv[:, None])


def rv_to_elements(r_km: np.ndarray, v_km_s: np.ndarray, mu: float = GM_EARTH_WGS72_KM3_S2) -> dict[str, np.ndarray]:
    """Osculating Keplerian elements of states (n, 3): a_km, ecc, incl, raan, argp, mean anomaly (deg)."""
    r = np.linalg.norm(r_km, axis=1)
    h = np.cross(r_km, v_km_s)
    hn = np.linalg.norm(h, axis=1)
    node = np.cross(np.array([0.0, 0.0, 1.0]), h)
    nn = np.linalg.norm(node, axis=1)
    v2 = np.einsum("ij,ij->i", v_km_s, v_km_s)
    rv = np.einsum("ij,ij->i", r_km, v_km_s)
    e_vec = ((v2 - mu / r)[:, None] * r_km - rv[:, None] * v_km_s) / mu
    ecc = np.linalg.norm(e_vec, axis=1)
    a = 1.0 / (2.0 / r - v2 / mu)
    incl = np.degrees(np.arccos(np.clip(h[:, 2] / hn, -1, 1)))
    safe_nn = np.where(nn > 1e-12, nn, 1.0)
    raan = np.degrees(np.arctan2(node[:, 1], node[:, 0])) % 360.0
    safe_e = np.where(ecc > 1e-12, ecc, 1.0)
    cos_w = np.einsum("ij,ij->i", node, e_vec) / (safe_nn * safe_e)
    argp = np.degrees(np.arccos(np.clip(cos_w, -1, 1)))
    argp = np.where(e_vec[:, 2] < 0, 360.0 - argp, argp)
    cos_nu = np.einsum("ij,ij->i", e_vec, r_km) / (safe_e * r)
    nu = np.arccos(np.clip(cos_nu, -1, 1))
    nu = np.where(rv < 0, 2 * np.pi - nu, nu)
    ea = 2.0 * np.arctan2(np.sqrt(np.clip(1 - ecc, 0, None)) * np.sin(nu / 2), np.sqrt(1 + ecc) * np.cos(nu / 2))
    m = np.degrees(ea - ecc * np.sin(ea)) % 360.0
    return {"a_km": a, "ecc": ecc, "incl_deg": incl, "raan_deg": raan, "argp_deg": argp, "mean_anomaly_deg": m}


@dataclass(frozen=True)
class FragmentCloud:
    """Fragments with element sets; ``bound`` marks the fragments whose orbit stays above the Earth."""

    fragments: Fragments
    elements: list[ElementSet]
    bound: np.ndarray


def fragment_elements(
    fragments: Fragments,
    r_km: np.ndarray,
    v_km_s: np.ndarray,
    epoch: datetime,
    *,
    first_norad_id: int = 800000,
    name: str = "FRAGMENT",
    object_id: str = "",
) -> FragmentCloud:
    """Element sets of the fragments leaving a parent at TEME state (r_km, v_km_s) (3,) at ``epoch``.

    Fragments on hyperbolic orbits, or with a perigee below 100 km altitude, get no element set
    (they re-enter or escape at once); ``bound`` says which fragments got one, in order.
    """
    n = len(fragments)
    r = np.broadcast_to(np.asarray(r_km, dtype=float), (n, 3))
    v = np.asarray(v_km_s, dtype=float)[None, :] + fragments.dv_vec_m_s / 1e3
    el = rv_to_elements(r, v)
    perigee_km = el["a_km"] * (1 - el["ecc"])
    bound = (el["a_km"] > 0) & (el["ecc"] < 1) & (perigee_km > 6378.135 + 100.0)
    mean_motion = np.sqrt(GM_EARTH_WGS72_KM3_S2 / np.abs(el["a_km"]) ** 3) * SECONDS_PER_DAY / (2 * np.pi)
    bstar = CD_FRAGMENT * fragments.am_m2_kg / BSTAR_B_PER_BSTAR
    out: list[ElementSet] = []
    ep = format_epoch(epoch)
    for k in np.flatnonzero(bound):
        nid = first_norad_id + len(out)
        fields = {
            "OBJECT_NAME": f"{name} {len(out) + 1}",
            "OBJECT_ID": object_id,
            "EPOCH": ep,
            "MEAN_MOTION": f"{mean_motion[k]:.8f}",
            "ECCENTRICITY": f"{el['ecc'][k]:.7f}",
            "INCLINATION": f"{el['incl_deg'][k]:.4f}",
            "RA_OF_ASC_NODE": f"{el['raan_deg'][k]:.4f}",
            "ARG_OF_PERICENTER": f"{el['argp_deg'][k]:.4f}",
            "MEAN_ANOMALY": f"{el['mean_anomaly_deg'][k]:.4f}",
            "BSTAR": f"{bstar[k]:.5e}",
            "MEAN_MOTION_DOT": "0",
            "MEAN_MOTION_DDOT": "0",
            "NORAD_CAT_ID": str(nid),
            "CLASSIFICATION_TYPE": "U",
            "EPHEMERIS_TYPE": "0",
            "ELEMENT_SET_NO": "999",
            "REV_AT_EPOCH": "0",
        }
        out.append(ElementSet(norad_id=nid, name=fields["OBJECT_NAME"], fields=fields, source="breakup", format="omm"))
    return FragmentCloud(fragments, out, bound)


def gabbard(elements: list[ElementSet]) -> dict[str, np.ndarray]:
    """Gabbard-diagram coordinates of element sets: period (min), apogee and perigee altitude (km).

    Altitudes above a spherical Earth of the WGS-72 radius, from the mean motion and eccentricity.
    """
    from ..constants import EARTH_RADIUS_WGS72_KM, MINUTES_PER_DAY

    n = np.array([e.mean_motion_rev_day for e in elements], dtype=float)
    ecc = np.array([e.eccentricity for e in elements], dtype=float)
    a = (GM_EARTH_WGS72_KM3_S2 / (n * 2 * np.pi / SECONDS_PER_DAY) ** 2) ** (1 / 3)
    return {
        "period_min": MINUTES_PER_DAY / n,
        "apogee_km": a * (1 + ecc) - EARTH_RADIUS_WGS72_KM,
        "perigee_km": a * (1 - ecc) - EARTH_RADIUS_WGS72_KM,
    }


def breakup_cloud(
    parent: ElementSet,
    jd: float,
    fr: float,
    rng: np.random.Generator,
    kind: str,
    *,
    mass_kg: float,
    projectile_mass_kg: float = 0.0,
    v_impact_km_s: float = 10.0,
    object_class: ObjectClass = "spacecraft",
    lc_min_m: float = 0.1,
    first_norad_id: int = 270000,
) -> FragmentCloud:
    """The fragment cloud of ``parent`` breaking up at UTC ``jd + fr`` (its SGP4 state then).

    For a collision all fragments (of both objects, as the size law counts them) leave the
    parent's state: the projectile's own orbit is not modelled. Catalog numbers start at
    ``first_norad_id`` (270000 = Alpha-5 ``T0000``, a range no real object has yet).
    """
    from ..propagation.sgp4_batch import propagate
    from ..timescales import jd_to_datetime

    eph = propagate([parent], np.array([jd]), np.array([fr]))
    if eph.error[0, 0]:
        raise InputError(f"object {parent.norad_id}: {eph.failures()[parent.norad_id]}")
    fragments = sample_fragments(
        rng,
        kind,
        mass_kg=mass_kg,
        projectile_mass_kg=projectile_mass_kg,
        v_impact_km_s=v_impact_km_s,
        object_class=object_class,
        lc_min_m=lc_min_m,
    )
    return fragment_elements(
        fragments,
        eph.r_km[0, 0],
        eph.v_km_s[0, 0],
        jd_to_datetime(jd, fr),
        first_norad_id=first_norad_id,
        name=f"{parent.name or parent.norad_id} FRAG",
        object_id=parent.object_id,
    )
