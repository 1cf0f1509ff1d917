"""Imminent impactors: impact probability, atmospheric entry epoch and entry point.

Method: virtual asteroids are drawn from the fitted covariance (``neo.impact``'s Monte Carlo
sampler; the nominal orbit is sample 0) and integrated together with ASSIST. A coarse pass
(``coarse_step_days``) finds for each one the step in which its geocentric distance first falls
below the Earth's equatorial radius plus ``entry_height_km`` plus a margin; a fine pass steps
through the window of all those crossings every ``fine_step_s`` seconds, and the crossing of
the geodetic height ``entry_height_km`` (WGS 84 ellipsoid, in ITRF from skyfield's IAU
2000A/2006 Earth orientation with polar motion) is interpolated linearly in time. The impact
probability is the fraction of virtual asteroids that cross it before ``horizon_days``, with a
Clopper-Pearson 95 % interval. The entry uncertainty is the spread of the impacting samples:
the semi-major axis of the 1-sigma ellipse of their entry points on the ground (km, from the
east/north offsets) and the standard deviation of their entry times (s); the entry region is
the 1-, 2- and 3-sigma ellipses of those offsets (a 2-D normal's 39 %, 86 % and 99 % regions,
meaningful while the spread is small and near-normal) beside the sampled points themselves.

Ground track: the nominal orbit integrated again from ``track_before_s`` (10 minutes) before its
entry, every ``track_step_s`` seconds, down to where the path meets the ellipsoid (height 0).
Below 100 km this path is ballistic: gravity only, no drag, ablation or fragmentation (there is
no atmosphere model here), so the real body ends short of and above it (2008 TC3 burst at 37 km,
~60 km down-range of its 100 km entry); its last point is where a body that the air did not
touch would reach the ground, not a predicted fall site.

Geocentric positions are barycentric minus DE440 Earth (the relativistic BCRS-GCRS scaling,
< 1 m here, is neglected); the atmosphere's drag above 100 km is neglected."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from ...constants import AU_KM, SECONDS_PER_DAY
from ...frames import WGS84_A_KM, geodetic_from_itrf
from ..impact import sample_monte_carlo
from ..nbody import DEFAULT_SETTINGS, Integrator, NBodySettings, body_state
from .fit import OrbitFit

# GR from the Sun only (ASSIST's EIH sum over 11 bodies costs ~10x per particle; the planets'
# GR moves a body by far less than a metre in the days before an impact)
IMPACT_SETTINGS = replace(DEFAULT_SETTINGS, gr_sources=1)
ENTRY_HEIGHT_KM = 100.0  # conventional entry interface (CNEOS fireball reports use 100 km too)
TRACK_BEFORE_S = 600.0  # the ground track starts 10 minutes before the entry...
TRACK_STEP_S = 5.0  # ...with a point every 5 s (60 km of path at 12 km/s; the surface point is
# interpolated in the last step: ~30 m of curvature error, far below the no-drag approximation's)
TRACK_AFTER_MAX_S = 1800.0  # a grazing path that leaves the atmosphere again ends here
SIGMA_LEVELS = (1, 2, 3)


@dataclass(frozen=True)
class EntryPoint:
    jd_tdb: float
    utc: datetime
    lat_deg: float
    lon_deg: float  # east


@dataclass(frozen=True, eq=False)
class GroundTrack:
    """The nominal trajectory over the ground: TDB epochs (m,), UTC instants, WGS 84 latitude,
    east longitude (deg) and height (km) of each point. ``end`` says where it stops: "surface"
    (the ballistic path met the ellipsoid: the last point, interpolated linearly in the last step,
    is at height 0 to within ~0.1 km, the chord's sag) or "window" (it had not,
    ``TRACK_AFTER_MAX_S`` after the entry: a grazing path)."""

    jd_tdb: np.ndarray
    utc: tuple[datetime, ...]
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    end: str


@dataclass(frozen=True, eq=False)
class EntryEllipse:
    """The ``n_sigma`` ellipse of the entry points on the ground: semi-axes (km), the major axis's
    azimuth (deg east of north, 0..180) and its outline (latitude, east longitude in deg; the
    longitudes run on across +-180 rather than jump)."""

    n_sigma: int
    probability: float  # of a 2-D normal inside it: 1 - exp(-n^2 / 2)
    semi_major_km: float
    semi_minor_km: float
    azimuth_deg: float
    outline_lat_deg: np.ndarray
    outline_lon_deg: np.ndarray


@dataclass(frozen=True, eq=False)
class EntryRegion:
    """Where the sampled entries lie: their mean point and 1/2/3-sigma ellipses."""

    center_lat_deg: float
    center_lon_deg: float
    ellipses: tuple[EntryEllipse, ...]


@dataclass(frozen=True)
class ImpactSite:
    """Impact probability and (when the nominal orbit impacts) its entry point and spread."""

    impact_probability: float
    ci_low: float
    ci_high: float
    samples: int
    hits: int
    nominal: EntryPoint | None
    entry_sigma_km: float | None
    entry_sigma_s: float | None
    sample_entries: tuple[EntryPoint, ...] = ()
    ground_track: GroundTrack | None = None  # of the nominal orbit, when it enters
    entry_region: EntryRegion | None = None  # when at least three samples enter


# the project's one WGS 84 conversion, under the name this module exported before
geodetic = geodetic_from_itrf


def _gcrs_to_itrf(r_km: np.ndarray, jd_tdb: np.ndarray) -> np.ndarray:
    """Rotate GCRS positions (m, n, 3) at TDB epochs (m,) into ITRF."""
    from skyfield.framelib import itrs

    from ...frames import timescale

    t = timescale().tdb_jd(np.asarray(jd_tdb, float))
    R = np.moveaxis(np.atleast_3d(itrs.rotation_at(t)), -1, 0)  # (m, 3, 3)
    return np.einsum("mij,mnj->mni", R, r_km)


def impact_site(
    fit: OrbitFit,
    horizon_days: float = 30.0,
    samples: int = 500,
    seed: int = 1,
    entry_height_km: float = ENTRY_HEIGHT_KM,
    coarse_step_days: float = 1.0 / 48.0,
    fine_step_s: float = 1.0,
    settings: NBodySettings = IMPACT_SETTINGS,
    track_before_s: float = TRACK_BEFORE_S,
    track_step_s: float = TRACK_STEP_S,
) -> ImpactSite:
    """Impact probability within ``horizon_days`` of the fit's epoch, the entry point, and (when
    the nominal orbit enters) its ground track from ``track_before_s`` before the entry."""
    cov = fit.state_covariance
    if samples > 0 and np.all(np.isfinite(cov)):
        draws, _ = sample_monte_carlo(fit.state, cov, samples, seed)
        states = np.vstack([fit.state, draws])
    else:
        states = fit.state[None, :]
    n = len(states)
    t0 = fit.epoch_jd_tdb
    ng = np.broadcast_to(fit.nongrav, (n, 3)) if np.any(fit.nongrav) else None
    # coarse, then one-minute brackets of the first approach within a trigger distance (a step
    # never jumps the margin: 15 km/s x 60 s = 900 km < 1,500 km), then the fine pass; each pass
    # starts from the previous one's states just before the earliest bracket
    bracket, (t1, s1) = _brackets(
        t0, states, ng, t0 + horizon_days, coarse_step_days, entry_height_km + 20_000.0, settings
    )
    entries: dict[int, EntryPoint] = {}
    hit = np.flatnonzero(~np.isnan(bracket))
    if hit.size:
        minute = 60.0 / SECONDS_PER_DAY
        sub_ng = None if ng is None else ng[hit]
        b2, (t2, s2) = _brackets(
            t1,
            s1[hit],
            sub_ng,
            # from 20,000 km the fall takes up to an hour (escape speed there is ~6 km/s); a sample
            # that only grazes the trigger sphere ends the pass at this bound
            float(bracket[hit].max()) + coarse_step_days + 3.0 / 24.0,
            minute,
            entry_height_km + 1_500.0,
            settings,
        )
        ok = ~np.isnan(b2)
        if ok.any():
            found = _fine_pass(
                t2,
                s2[ok],
                None if sub_ng is None else sub_ng[ok],
                float(b2[ok].max()) + 30 * minute,  # a grazing entry descends slowly
                fine_step_s,
                entry_height_km,
                settings,
            )
            entries = {int(hit[ok][k]): e for k, e in found.items()}
    from ...risk.montecarlo import binomial_interval

    hit_samples = [k for k in entries if k > 0]
    m = n - 1
    if m > 0:
        ip = len(hit_samples) / m
        lo, hi = binomial_interval(len(hit_samples), m)
    else:
        ip = 1.0 if 0 in entries else 0.0
        lo = hi = ip
    nominal = entries.get(0)
    sigma_km = sigma_s = None
    region = None
    sample_entries = tuple(entries[k] for k in hit_samples)
    if len(sample_entries) >= 3:
        lat = np.radians([e.lat_deg for e in sample_entries])
        lon = np.radians([e.lon_deg for e in sample_entries])
        lat0 = np.mean(lat)
        lon_c = np.angle(np.exp(1j * (lon - lon[0])))  # across the antimeridian
        east = WGS84_A_KM * np.cos(lat0) * (lon_c - lon_c.mean())
        north = WGS84_A_KM * (lat - lat.mean())
        cov = np.cov(np.stack([east, north]))
        sigma_km = float(np.sqrt(np.linalg.eigvalsh(cov)[-1]))
        sigma_s = float(np.std([e.jd_tdb for e in sample_entries], ddof=1) * SECONDS_PER_DAY)
        centre_lon = float(np.degrees(lon[0] + lon_c.mean()))
        region = entry_region(float(np.degrees(lat0)), (centre_lon + 180.0) % 360.0 - 180.0, cov)
    track = None
    if nominal is not None:
        track = ground_track(fit, nominal, track_before_s, track_step_s, settings)
    return ImpactSite(ip, lo, hi, m, len(hit_samples), nominal, sigma_km, sigma_s, sample_entries, track, region)


def entry_region(center_lat_deg: float, center_lon_deg: float, cov_en_km2: np.ndarray, points: int = 73) -> EntryRegion:
    """The 1/2/3-sigma ellipses of a 2x2 covariance (km^2) of east/north offsets about a point,
    as semi-axes, azimuth and an outline of ``points`` vertices (closed: the last is the first).
    Offsets become degrees on a sphere of the WGS 84 equatorial radius (a km-sized region: the
    ellipsoid's curvature changes them by < 0.7 %)."""
    values, vectors = np.linalg.eigh(np.asarray(cov_en_km2, float))  # ascending
    minor, major = np.sqrt(np.maximum(values, 0.0))
    v_major, v_minor = vectors[:, 1], vectors[:, 0]  # (east, north) components
    azimuth = float(np.degrees(np.arctan2(v_major[0], v_major[1])) % 180.0)
    theta = np.linspace(0.0, 2.0 * np.pi, points)
    unit = np.outer(np.cos(theta), major * v_major) + np.outer(np.sin(theta), minor * v_minor)  # (k, 2)
    ellipses = []
    for n in SIGMA_LEVELS:
        east, north = n * unit[:, 0], n * unit[:, 1]
        lat = center_lat_deg + np.degrees(north / WGS84_A_KM)
        lon = center_lon_deg + np.degrees(east / (WGS84_A_KM * np.cos(np.radians(center_lat_deg))))
        ellipses.append(
            EntryEllipse(n, float(1.0 - np.exp(-0.5 * n * n)), n * float(major), n * float(minor), azimuth, lat, lon)
        )
    return EntryRegion(center_lat_deg, center_lon_deg, tuple(ellipses))


def ground_track(
    fit: OrbitFit,
    entry: EntryPoint,
    before_s: float = TRACK_BEFORE_S,
    step_s: float = TRACK_STEP_S,
    settings: NBodySettings = IMPACT_SETTINGS,
) -> GroundTrack:
    """The nominal orbit's path over the ground from ``before_s`` before ``entry`` down to height 0
    (ballistic below the entry: see the module's docstring), a point every ``step_s`` seconds and
    the surface point interpolated linearly (in ITRF) in the last step."""
    from ...frames import timescale

    ng = fit.nongrav[None, :] if np.any(fit.nongrav) else None
    step = step_s / SECONDS_PER_DAY
    start = entry.jd_tdb - before_s / SECONDS_PER_DAY
    stop = entry.jd_tdb + TRACK_AFTER_MAX_S / SECONDS_PER_DAY
    integ = Integrator(fit.epoch_jd_tdb, fit.state[None, :], ng, settings)
    integ.integrate(start)
    times, itrf, heights = [], [], []
    end = "window"
    block = 60
    t_next = start
    while end == "window" and t_next <= stop:
        tb = t_next + step * np.arange(block)
        tb = tb[tb <= stop]
        t_next = float(tb[-1]) + step
        geo = np.empty((len(tb), 1, 3))
        for j, t in enumerate(tb):
            integ.integrate(float(t), exact=False)
            geo[j] = (integ.states()[:, :3] - body_state("earth", float(t))[:3]) * AU_KM
        xyz = _gcrs_to_itrf(geo, tb)[:, 0, :]
        h = geodetic_from_itrf(xyz)[2]
        for j in range(len(tb)):
            if h[j] < 0.0 and heights:
                frac = heights[-1] / (heights[-1] - h[j])
                times.append(times[-1] + frac * (float(tb[j]) - times[-1]))
                itrf.append(itrf[-1] + frac * (xyz[j] - itrf[-1]))
                heights.append(0.0)
                end = "surface"
                break
            times.append(float(tb[j]))
            itrf.append(xyz[j])
            heights.append(float(h[j]))
    lat, lon, alt = geodetic_from_itrf(np.array(itrf))
    utc = timescale().tdb_jd(np.array(times)).utc_datetime()
    return GroundTrack(np.array(times), tuple(utc), lat, lon, alt, end)


def _brackets(t0, states, ng, stop, step, trigger_height_km, settings):
    """Start of the step (TDB) in which each sample first comes within the Earth's equatorial
    radius + ``trigger_height_km`` of the geocentre before ``stop`` (NaN if never), and the
    states of all samples at the start of the earliest such step."""
    integ = Integrator(t0, states, ng, settings)
    bracket = np.full(len(states), np.nan)
    grid = np.append(np.arange(t0, stop, step)[1:], stop)
    prev_t, prev_states = t0, integ.states()
    first = (t0, prev_states)
    for t in grid:
        integ.integrate(t, exact=False)
        cur = integ.states()
        geo_km = (cur[:, :3] - body_state("earth", t)[:3]) * AU_KM
        new = np.isnan(bracket) & (np.linalg.norm(geo_km, axis=1) < WGS84_A_KM + trigger_height_km)
        if new.any() and np.isnan(bracket).all():
            first = (prev_t, prev_states)
        bracket[new] = prev_t
        prev_t, prev_states = t, cur
        if not np.isnan(bracket).any():
            break
    return bracket, first


def _fine_pass(start, states, ng, stop, fine_step_s, entry_height_km, settings) -> dict[int, EntryPoint]:
    """Entry (geodetic height crossing) of each sample (states at ``start``) before ``stop``."""
    from ...frames import timescale

    integ = Integrator(start, states, ng, settings)
    step = fine_step_s / SECONDS_PER_DAY
    times = np.arange(start, stop + step, step)
    entries: dict[int, EntryPoint] = {}
    prev_h = prev_t = prev_itrf = None
    block = 120  # epochs rotated into ITRF at once
    for b0 in range(0, len(times), block):
        tb = times[b0 : b0 + block]
        geo = np.empty((len(tb), len(states), 3))
        for j, t in enumerate(tb):
            integ.integrate(t, exact=False)
            geo[j] = (integ.states()[:, :3] - body_state("earth", t)[:3]) * AU_KM
        itrf = _gcrs_to_itrf(geo, tb)
        _, _, h = geodetic(itrf)
        for j, t in enumerate(tb):
            if prev_h is not None:
                crossed = (prev_h >= entry_height_km) & (h[j] < entry_height_km)
                for k in np.flatnonzero(crossed):
                    if int(k) in entries:
                        continue
                    frac = (prev_h[k] - entry_height_km) / (prev_h[k] - h[j, k])
                    te = prev_t + frac * (t - prev_t)
                    la, lo, _ = geodetic(prev_itrf[k] + frac * (itrf[j, k] - prev_itrf[k]))
                    utc = timescale().tdb_jd(te).utc_datetime()
                    entries[int(k)] = EntryPoint(float(te), utc, float(la), float(lo))
            prev_h, prev_t, prev_itrf = h[j], t, itrf[j]
        if len(entries) == len(states):
            break
    return entries
