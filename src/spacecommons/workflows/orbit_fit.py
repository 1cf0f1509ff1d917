"""Orbit determination jobs, written once for the CLI and the API: fit optical astrometry (with an
initial orbit when there is no prior) and radar delays/Dopplers when there are some, predict an
imminent impactor's entry, summarise as JSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ..neo.od.fit import FitSettings, OpticalArc, OrbitFit, fit_orbit, optical_arc
from ..neo.od.impact_site import ImpactSite, impact_site
from ..neo.od.iod import initial_orbit_fit
from ..neo.orbit import SmallBodyOrbit
from ..timescales import format_utc, jd_to_iso

IMPACT_LIKELY = 1e-3  # below this, impact-site reports the probability alone
MIN_OBSERVATIONS = 3


def fit_observations(
    optical: Sequence[Any],
    prior: SmallBodyOrbit | None = None,
    nongrav: bool = False,
    check: Callable[[], None] = lambda: None,
    radar: Sequence[Any] = (),
) -> OrbitFit:
    """Fit the optical observations of one object, and its radar delays and Dopplers when given
    (``neo.astrometry`` ``RadarObservation``). Without a prior: an initial orbit from the first
    observations (Gauss, ranging fallback, ``neo.od.iod``) fitted on the first night, then the
    whole arc. ``nongrav`` frees A2 (Yarkovsky). With radar, the optical solution is refined with
    the radar (same weights, the optical outliers as rejected, then the rejection rounds again):
    the one path of the CLI's ``neo fit`` and ``neo impact-site`` and of the API's routes, so that
    the same observations give the same orbit. ``check`` is called between stages (a job's
    cancellation)."""
    if len(optical) < MIN_OBSERVATIONS:
        raise InputError(f"an orbit needs at least {MIN_OBSERVATIONS} optical observations, got {len(optical)}")
    arc = optical_arc(optical)
    check()
    settings = FitSettings(nongrav_free=("A2",) if nongrav else ())
    fit = _optical_fit(arc, prior, settings, check)
    if not radar:
        return fit
    from ..neo.od.radar import radar_arc

    designations = {o.designation for o in radar}
    if designations != {arc.designation}:
        raise InputError(f"radar observations of {sorted(designations)} with optical of {arc.designation!r}")
    check()
    choices = fit.choices
    refined = fit_orbit(arc, fit.epoch_jd_tdb, fit.state, fit.nongrav, settings, fit.used, radar_arc(radar))
    refined.choices["initial_orbit"] = choices.get("initial_orbit", "")
    return refined


def _optical_fit(
    arc: OpticalArc, prior: SmallBodyOrbit | None, settings: FitSettings, check: Callable[[], None]
) -> OrbitFit:
    """The optical-only fit: from the prior, or from an initial orbit widened step by step."""
    if prior is not None:
        from ..neo.nbody import heliocentric_to_barycentric
        from ..neo.orbit import heliocentric_states

        state = heliocentric_to_barycentric(heliocentric_states([prior]), prior.epoch_jd_tdb)[0]
        fit = fit_orbit(arc, prior.epoch_jd_tdb, state, np.asarray(prior.nongrav, float), settings)
        fit.choices["initial_orbit"] = f"prior {prior.orbit_id or prior.designation}"
        return fit
    first = arc.subset(np.flatnonzero(arc.jd_tdb - arc.jd_tdb[0] < 1.0)[:30])
    if len(first) < MIN_OBSERVATIONS:
        first = arc.subset(slice(0, MIN_OBSERVATIONS))
    start = initial_orbit_fit(first)
    check()
    # widen the arc step by step (x4 in time) so that the linearisation holds
    span = float(first.jd_tdb[-1] - first.jd_tdb[0]) or 1.0 / 24
    state, epoch = start.state, start.epoch_jd_tdb
    while True:
        span *= 4
        part = np.flatnonzero(arc.jd_tdb - arc.jd_tdb[0] <= span)
        if len(part) == len(arc):
            break
        step = fit_orbit(arc.subset(part), epoch, state, settings=FitSettings(reject_outliers=False))
        state = step.state
        check()
    fit = fit_orbit(arc, epoch, state, settings=settings)
    fit.choices["initial_orbit"] = start.choices.get("initial_orbit", "gauss")
    return fit


def _utc(jd_utc: float) -> str:
    day = float(np.floor(jd_utc - 0.5) + 0.5)
    return jd_to_iso(day, jd_utc - day, 3)


def residuals_summary(fit: OrbitFit, optical: Sequence[Any] | None = None) -> dict:
    """Per-observation O - C of the fit: ``optical`` (one entry per optical observation, in time
    order: utc, station, dra_arcsec = RA cos(Dec), ddec_arcsec, used) and ``radar`` (utc, kind,
    residual, sigma in microseconds or Hz). ``optical`` (the fitted records) supplies times and
    stations; without it they are null. The fit's arc is the records sorted by time
    (``neo.od.fit.optical_arc``), so the same stable sort pairs them with the residuals."""
    n = len(fit.residual_ra_arcsec)
    obs = sorted(optical, key=lambda o: o.epoch_utc_jd) if optical is not None else None
    if obs is not None and len(obs) != n:
        raise InputError(f"{len(obs)} observations for a fit of {n}")
    rows = [
        {
            "utc": _utc(obs[i].epoch_utc_jd) if obs else None,
            "station": obs[i].station if obs else None,
            "dra_arcsec": float(fit.residual_ra_arcsec[i]),
            "ddec_arcsec": float(fit.residual_dec_arcsec[i]),
            "used": bool(fit.used[i]),
        }
        for i in range(n)
    ]
    radar = [
        {
            "utc": _utc(float(fit.radar_jd_utc[i])),
            "kind": fit.radar_kind[i],
            "residual": float(fit.radar_residual[i]),
            "sigma": float(fit.radar_sigma[i]),
            "unit": "us" if fit.radar_kind[i] == "delay" else "Hz",
        }
        for i in range(len(fit.radar_kind))
    ]
    return {"optical": rows, "radar": radar}


def fit_summary(fit: OrbitFit, optical: Sequence[Any] | None = None) -> dict:
    """The fit as plain JSON (the CLI's ``neo fit --json`` and the API's answer); ``residuals``
    per observation (:func:`residuals_summary`, times and stations from ``optical``)."""
    cov = fit.covariance
    out: dict[str, Any] = {
        "designation": fit.designation,
        "epoch_jd_tdb": fit.epoch_jd_tdb,
        "state_au_au_d": [float(v) for v in fit.state],
        "frame": "barycentric ICRF equatorial",
        "covariance": [[float(v) for v in row] for row in cov],
        "covariance_labels": ["x", "y", "z", "vx", "vy", "vz", *fit.nongrav_free],
        "rms_arcsec": fit.rms_arcsec,
        "normalized_rms": fit.normalized_rms,
        "n_used": fit.n_used,
        "n_rejected": fit.n_rejected,
        "converged": fit.converged,
        "iterations": fit.iterations,
        "choices": dict(fit.choices),
        "residuals": residuals_summary(fit, optical),
    }
    if fit.radar_kind:

        def finite(v: float) -> float | None:
            return v if v == v else None  # NaN (no measurement of that kind) -> null

        out["radar"] = {
            "n_delay": sum(k == "delay" for k in fit.radar_kind),
            "n_doppler": sum(k == "doppler" for k in fit.radar_kind),
            "delay_rms_us": finite(fit.radar_rms("delay")),
            "doppler_rms_hz": finite(fit.radar_rms("doppler")),
            "normalized_rms": finite(fit.radar_normalized_rms()),
        }
    if fit.nongrav_free:
        out["nongrav"] = {
            name: {
                "value_au_d2": float(fit.nongrav[["A1", "A2", "A3"].index(name)]),
                "sigma_au_d2": float(np.sqrt(cov[6 + k, 6 + k])),
            }
            for k, name in enumerate(fit.nongrav_free)
        }
    return out


def impact_site_summary(site: ImpactSite) -> dict:
    """Impact probability and, when an impact is likely, the nominal entry at 100 km altitude, the
    nominal ground track (``ground_track``: utc, lat_deg, lon_deg, alt_km; ``ground_track_end``:
    "surface" or "window", see ``neo.od.impact_site.GroundTrack``) and the entry region
    (``entry_region``: the sampled entry points and, from three of them on, their 1/2/3-sigma
    ellipses)."""
    out: dict[str, Any] = {
        "impact_probability": site.impact_probability,
        "impact_probability_ci95": [site.ci_low, site.ci_high],
        "samples": site.samples,
    }
    if site.nominal is not None and site.impact_probability >= IMPACT_LIKELY:
        out |= {
            "entry_utc": format_utc(site.nominal.utc, 3),
            "entry_jd_tdb": site.nominal.jd_tdb,
            "entry_lat_deg": site.nominal.lat_deg,
            "entry_lon_deg": site.nominal.lon_deg,
            "entry_sigma_km": site.entry_sigma_km,
            "entry_sigma_s": site.entry_sigma_s,
            "entry_height_km": 100.0,
        }
        if site.ground_track is not None:
            g = site.ground_track
            out["ground_track"] = [
                {"utc": format_utc(g.utc[k], 3), "lat_deg": float(g.lat_deg[k]), "lon_deg": float(g.lon_deg[k]),
                 "alt_km": float(g.alt_km[k])}
                for k in range(len(g.jd_tdb))
            ]  # fmt: skip
            out["ground_track_end"] = g.end
        out["entry_region"] = _entry_region_summary(site)
    return out


def _entry_region_summary(site: ImpactSite) -> dict:
    region = site.entry_region
    points = [{"utc": format_utc(e.utc, 3), "lat_deg": e.lat_deg, "lon_deg": e.lon_deg} for e in site.sample_entries]
    if region is None:
        return {"center_lat_deg": None, "center_lon_deg": None, "ellipses": [], "points": points}
    ellipses = [
        {
            "n_sigma": e.n_sigma,
            "probability": e.probability,
            "semi_major_km": e.semi_major_km,
            "semi_minor_km": e.semi_minor_km,
            "azimuth_deg": e.azimuth_deg,
            "outline_lat_deg": [float(v) for v in e.outline_lat_deg],
            "outline_lon_deg": [float(v) for v in e.outline_lon_deg],
        }
        for e in region.ellipses
    ]
    return {
        "center_lat_deg": region.center_lat_deg,
        "center_lon_deg": region.center_lon_deg,
        "ellipses": ellipses,
        "points": points,
    }


def predict_impact(fit: OrbitFit, horizon_days: float = 30.0, samples: int = 500, seed: int = 1) -> ImpactSite:
    """Impact probability and entry site within ``horizon_days`` of the fit's epoch."""
    return impact_site(fit, horizon_days=horizon_days, samples=samples, seed=seed)
