"""``spacecommons defense``: planetary-defense calculators."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from . import common
from .common import require_positive, say
from .listing import plain

TARGETS = ("rock", "sediment", "water")  # defense.impact_effects.TARGETS, kept light for --help

app = typer.Typer(help="Planetary defense: impact effects, kinetic-impactor deflection.", no_args_is_help=True)


@app.command("impact-effects")
def impact_effects_command(
    diameter_m: float = typer.Option(..., "--diameter-m"),
    density: float = typer.Option(3000.0, help="impactor density (kg/m^3)"),
    speed_km_s: float = typer.Option(..., "--speed-km-s", help="speed at the top of the atmosphere"),
    angle_deg: float = typer.Option(45.0, "--angle-deg", help="entry angle from the horizontal"),
    target: str = typer.Option("rock", help="rock, sediment or water"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Energy, breakup/airburst, crater, seismic magnitude, fireball and blast radii (Collins et al. 2005)."""
    from rich.table import Table

    from ..defense import bounds, impact_effects

    within(diameter_m, bounds.DIAMETER_M, "--diameter-m")
    within(density, bounds.DENSITY_KG_M3, "--density")
    within(speed_km_s, bounds.IMPACT_SPEED_KM_S, "--speed-km-s")
    within(angle_deg, bounds.ENTRY_ANGLE_DEG, "--angle-deg")
    if target not in TARGETS:
        raise typer.BadParameter(f"{target!r}: one of {', '.join(TARGETS)}", param_hint="--target")
    e = impact_effects(diameter_m, density, speed_km_s, angle_deg, target)
    if as_json:  # standard JSON: a non-finite value is null
        print(json.dumps(plain(e.as_dict()), indent=1, allow_nan=False))
        return
    t = Table(title=f"{diameter_m:g} m, {density:g} kg/m3, {speed_km_s:g} km/s, {angle_deg:g} deg, {target}")
    t.add_column("quantity")
    t.add_column("value")
    t.add_row("energy", f"{e.energy_j:.3e} J = {e.energy_mt:.3g} Mt TNT")
    t.add_row("breakup altitude", f"{e.breakup_altitude_m / 1000:.1f} km" if e.breakup_altitude_m else "intact")
    t.add_row(
        "airburst altitude", f"{e.airburst_altitude_m / 1000:.1f} km" if e.airburst_altitude_m else "reaches the ground"
    )
    if e.airburst_altitude_m:
        t.add_row(
            "impact speed", f"none: it bursts {e.airburst_altitude_m / 1000:.1f} km up and does not reach the ground"
        )
    else:
        t.add_row("impact speed", f"{e.impact_speed_m_s / 1000:.2f} km/s")
    if e.final_crater_m:
        t.add_row(
            "crater (transient / final)", f"{e.transient_crater_m:.0f} m / {e.final_crater_m:.0f} m ({e.crater_type})"
        )
        t.add_row("seismic magnitude", f"{e.seismic_magnitude:.1f}")
    t.add_row("fireball radius", f"{e.fireball_radius_m:.0f} m")
    for name, r in e.overpressure_radii_m.items():
        t.add_row(f"overpressure {name}", f"{r / 1000:.1f} km")
    common.console.print(t)


@app.command("kinetic-impactor")
def kinetic_impactor_command(
    impactor_mass_kg: float = typer.Option(..., "--impactor-mass-kg"),
    impactor_speed_km_s: float = typer.Option(..., "--impactor-speed-km-s", help="speed relative to the target"),
    beta: float = typer.Option(1.0, help="momentum enhancement (DART: 3.61)"),
    diameter_m: float = typer.Option(..., "--diameter-m", help="target diameter"),
    density: float = typer.Option(2600.0, help="target bulk density (kg/m^3)"),
) -> None:
    """Velocity change of a head-on kinetic impact: dv = beta m U / M."""
    from ..defense import bounds
    from ..defense.deflection import kinetic_impactor_dv, target_mass_kg

    within(impactor_mass_kg, bounds.IMPACTOR_MASS_KG, "--impactor-mass-kg")
    within(impactor_speed_km_s, bounds.IMPACTOR_SPEED_KM_S, "--impactor-speed-km-s")
    within(diameter_m, bounds.DIAMETER_M, "--diameter-m")
    within(density, bounds.DENSITY_KG_M3, "--density")
    within(beta, bounds.BETA, "--beta")
    mass = target_mass_kg(diameter_m, density)
    dv = kinetic_impactor_dv(impactor_mass_kg, [impactor_speed_km_s, 0.0, 0.0], mass, beta)
    say(f"target mass {mass:.3e} kg; dv = {abs(dv[0]) * 1e6:.4g} mm/s (head-on, beta {beta:g})")


@app.command("deflection-scan")
def deflection_scan_command(
    orbits: Path | None = typer.Option(None, "--orbits", exists=True, dir_okay=False, help="orbit file"),
    designation: str | None = typer.Option(None, "--des", help="object in the orbit file"),
    synthetic: bool = typer.Option(False, help="a synthetic impactor built to hit at --encounter (exercise)"),
    encounter: str = typer.Option(..., help="encounter date, TDB (2029-04-13 or a Julian date)"),
    lead_years: str = typer.Option("1,3,10", "--lead-years", help="comma-separated lead times"),
    dv_mm_s: str = typer.Option("0,1,2,5,10,20,50,100", "--dv-mm-s", help="comma-separated along-track pushes"),
    goal_earth_radii: float = typer.Option(1.0, "--goal-earth-radii", help="required closest distance"),
    out: Path | None = typer.Option(None, help="table .csv"),
    plot: Path | None = typer.Option(None, help="plot .png"),
) -> None:
    """How much push, how early: closest distance for each lead time and along-track push."""
    import numpy as np
    from rich.table import Table

    from ..constants import DAYS_PER_JULIAN_YEAR
    from ..defense.deflection import deflection_scan, plot_scan, required_dv
    from ..errors import TimeError
    from ..neo.nbody import heliocentric_to_barycentric
    from ..neo.orbit import heliocentric_states
    from ..neo.reader import read_orbits
    from ..neo.scenario import synthetic_encounter
    from ..timescales import tdb_to_jd
    from .neo import select_orbits

    try:
        t_enc = tdb_to_jd(encounter)
    except TimeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--encounter") from None
    years = _numbers(lead_years, "--lead-years")
    pushes = _numbers(dv_mm_s, "--dv-mm-s", allow_zero=True)
    leads = [y * DAYS_PER_JULIAN_YEAR for y in years]
    if synthetic:
        epoch = t_enc - max(leads)
        state, nongrav = synthetic_encounter(t_enc, epoch), None
        label = "synthetic impactor"
    else:
        if orbits is None or designation is None:
            raise typer.BadParameter("give --orbits FILE --des DESIGNATION, or --synthetic")
        parsed, _ = read_orbits(orbits)
        o = select_orbits(parsed, [designation], str(orbits))[0]
        epoch = o.epoch_jd_tdb
        too_early = [y for y, lead in zip(years, leads, strict=True) if t_enc - lead < epoch]
        if too_early:
            raise typer.BadParameter(
                f"{', '.join(f'{y:g}' for y in too_early)} yr before {encounter} is before the orbit's epoch "
                f"{_tdb_text(epoch)} (JD {epoch:.5f} TDB) of {o.designation}; the longest lead time from this orbit "
                f"is {(t_enc - epoch) / DAYS_PER_JULIAN_YEAR:.3f} yr",
                param_hint="--lead-years",
            )
        state = heliocentric_to_barycentric(heliocentric_states([o]), epoch)[0]
        nongrav = np.array(o.nongrav) if any(o.nongrav) else None
        label = o.designation
    outcomes = deflection_scan(state, epoch, t_enc, leads, pushes, nongrav)
    t = Table(
        "lead (yr)",
        "dv (mm/s)",
        "b (km)",
        "capture radius (km)",
        "closest (R_E)",
        "outcome",
        title=f"deflection scan: {label}",
    )
    for o in outcomes:
        t.add_row(
            f"{o.lead_days / DAYS_PER_JULIAN_YEAR:.3g}",
            f"{o.dv_mm_s:g}",
            "" if o.b_km is None else f"{o.b_km:.0f}",
            "" if o.capture_radius_km is None else f"{o.capture_radius_km:.0f}",
            "" if o.miss_earth_radii is None else f"{o.miss_earth_radii:.3f}",
            "no encounter" if o.b_km is None else "IMPACT" if o.impact else "miss",
        )
    common.console.print(t)
    for lead, need in sorted(required_dv(outcomes, goal_earth_radii).items()):
        text = "beyond the scanned pushes" if need is None else f"{need:.3g} mm/s"
        years = lead / DAYS_PER_JULIAN_YEAR
        say(f"{years:.3g} yr before: {text} to pass at {goal_earth_radii:g} Earth radii")
    if out:
        with out.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["lead_days", "dv_mm_s", "encounter_jd_tdb", "b_km", "capture_radius_km", "closest_earth_radii"])
            for o in outcomes:
                w.writerow([o.lead_days, o.dv_mm_s, o.encounter_jd, o.b_km, o.capture_radius_km, o.miss_earth_radii])
    if plot:
        plot_scan(outcomes, plot, goal_earth_radii)
        say(f"plot written to {plot}")


def _numbers(text: str, option: str, *, allow_zero: bool = False) -> list[float]:
    """A comma-separated list of non-negative (or positive) numbers, or a BadParameter naming ``option``."""
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected comma-separated numbers", param_hint=option) from None
    if not values:
        raise typer.BadParameter("no value given", param_hint=option)
    for v in values:
        require_positive(v, option, allow_zero=allow_zero)
    return values


def _tdb_text(jd_tdb: float) -> str:
    """A TDB Julian date as a calendar date and time (TDB), to the minute."""
    from ..timescales import jd_to_iso

    return jd_to_iso(jd_tdb, 0.0, 0).removesuffix("Z") + " TDB"


def within(value: float, bound, option: str) -> None:
    """A BadParameter naming ``option`` when ``value`` is outside ``bound`` (``defense.bounds``,
    the API's bounds too)."""
    if not bound.contains(value):
        raise typer.BadParameter(f"{value:g}: must be {bound.text()}", param_hint=option)
