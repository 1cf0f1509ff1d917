"""``spacecommons neo fit`` and ``neo impact-site``: orbits from astrometry, imminent-impact entry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import report_issues, say

REJECTED_EXIT = 3
FILES = typer.Argument(
    ..., exists=True, dir_okay=False, help="MPC 80-column, ADES (PSV/XML) or JPL radar astrometry of one object"
)


def register(app: typer.Typer) -> None:
    """Add the commands to the ``neo`` group."""
    app.command("fit")(fit_command)
    app.command("impact-site")(impact_site_command)


def _observations(files: list[Path]) -> tuple[list, list, int]:
    """Optical and radar observations of one object from the files; every bad record reported."""
    from ..errors import InputError
    from ..neo.astrometry.reader import read_observations_text

    optical, radar, rejected = [], [], 0
    for f in files:
        batch = read_observations_text(f.read_text(errors="replace"), f.name)
        rejected += report_issues(batch.issues)
        optical.extend(batch.optical)
        radar.extend(batch.radar)
    designations = sorted({o.designation for o in optical})
    if radar and designations and {o.designation for o in radar} != set(designations):
        raise InputError(f"radar of {sorted({o.designation for o in radar})} with optical of {designations}")
    if len(designations) > 1:
        raise InputError(
            f"observations of {len(designations)} objects ({', '.join(designations[:5])}): give one object"
        )
    return optical, radar, rejected


def _prior(path: Path | None):
    if path is None:
        return None
    from ..errors import InputError
    from ..neo.reader import read_orbits

    orbits, issues = read_orbits(path)
    report_issues(issues)
    if len(orbits) != 1:
        raise InputError(f"{path}: --prior needs exactly one orbit, found {len(orbits)}")
    return orbits[0]


def fit_command(
    files: list[Path] = FILES,
    prior: Path | None = typer.Option(
        None, "--prior", exists=True, dir_okay=False, help="starting orbit (SBDB JSON/CSV, NEOCC, MPCORB)"
    ),
    nongrav: bool = typer.Option(False, "--nongrav", help="fit the Yarkovsky parameter A2 too"),
    as_json: bool = typer.Option(False, "--json", help="print the solution as JSON"),
) -> None:
    """Fit an orbit (barycentric ICRF state, covariance) to optical astrometry, and JPL radar delays
    and Dopplers when given, by weighted least squares; without --prior the initial orbit comes from
    Gauss's method (ranging fallback)."""
    from ..workflows.orbit_fit import fit_observations, fit_summary

    optical, radar, rejected = _observations(files)
    fit = fit_observations(optical, _prior(prior), nongrav, radar=radar)
    summary = fit_summary(fit, optical)
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
    else:
        s = summary["state_au_au_d"]
        say(f"{summary['designation']}: epoch JD {summary['epoch_jd_tdb']:.6f} TDB, converged {summary['converged']}")
        say(f"  r = {s[0]:+.12f} {s[1]:+.12f} {s[2]:+.12f} au (barycentric ICRF)")
        say(f"  v = {s[3]:+.12e} {s[4]:+.12e} {s[5]:+.12e} au/d")
        say(f"  rms {summary['rms_arcsec']:.3f} arcsec, {summary['n_used']} used, {summary['n_rejected']} rejected")
        if "radar" in summary:
            r = summary["radar"]
            say(f"  radar: {r['n_delay']} delays, rms {r['delay_rms_us']} us")
            say(f"  radar: {r['n_doppler']} Dopplers, rms {r['doppler_rms_hz']} Hz")
        for name, v in summary.get("nongrav", {}).items():
            say(f"  {name} = {v['value_au_d2']:.4e} ± {v['sigma_au_d2']:.2e} au/d^2")
        for k, v in summary["choices"].items():
            say(f"  {k}: {v}")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


def impact_site_command(
    files: list[Path] = FILES,
    horizon_days: float = typer.Option(30.0, "--horizon-days", help="look this far past the fit's epoch"),
    samples: int = typer.Option(500, "--samples", help="virtual asteroids drawn from the covariance"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Impact probability of a newly observed object and, when it is likely to hit, its
    atmospheric entry (100 km altitude): UTC time, latitude, east longitude and 1-sigma spread,
    the entry region (1/2/3-sigma ellipses, sampled entries) and the nominal ground track from
    10 minutes before the entry to the ground (ballistic below 100 km: no drag)."""
    from .common import require_positive

    require_positive(horizon_days, "--horizon-days")
    require_positive(samples, "--samples")
    from ..workflows.orbit_fit import fit_observations, impact_site_summary, predict_impact

    optical, radar, rejected = _observations(files)
    fit = fit_observations(optical, radar=radar)
    summary = impact_site_summary(predict_impact(fit, horizon_days, samples))
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
    else:
        ci = summary["impact_probability_ci95"]
        say(f"{fit.designation}: impact probability {summary['impact_probability']:.3g} (95 % {ci[0]:.3g}-{ci[1]:.3g})")
        if "entry_utc" in summary:
            say(
                f"  entry (100 km) {summary['entry_utc']} at {summary['entry_lat_deg']:.3f} N "
                f"{summary['entry_lon_deg']:.3f} E, 1-sigma {summary['entry_sigma_km']:.2f} km, "
                f"{summary['entry_sigma_s']:.2f} s"
            )
        if "ground_track" in summary:
            g = summary["ground_track"]
            say(
                f"  ground track: {len(g)} points, {g[0]['utc']} ({g[0]['alt_km']:.0f} km) to {g[-1]['utc']} "
                f"at {g[-1]['lat_deg']:.3f} N {g[-1]['lon_deg']:.3f} E ({g[-1]['alt_km']:.2f} km; "
                f"{summary['ground_track_end']}; ballistic below 100 km: no drag)"
            )
        for e in summary.get("entry_region", {}).get("ellipses", []):
            say(
                f"  entry region {e['n_sigma']}-sigma ({e['probability']:.0%}): {e['semi_major_km']:.2f} x "
                f"{e['semi_minor_km']:.2f} km, major axis {e['azimuth_deg']:.1f} deg east of north"
            )
    if rejected:
        raise typer.Exit(REJECTED_EXIT)
