"""``spacecommons defense``: planetary-defense calculators."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from ..defense import impact_effects
from .common import console

app = typer.Typer(help="Planetary defense: impact effects.", no_args_is_help=True)


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
    e = impact_effects(diameter_m, density, speed_km_s, angle_deg, target)
    if as_json:
        print(json.dumps(e.as_dict(), indent=1))
        return
    t = Table(title=f"{diameter_m:g} m, {density:g} kg/m3, {speed_km_s:g} km/s, {angle_deg:g} deg, {target}")
    t.add_column("quantity")
    t.add_column("value")
    t.add_row("energy", f"{e.energy_j:.3e} J = {e.energy_mt:.3g} Mt TNT")
    t.add_row("breakup altitude", f"{e.breakup_altitude_m / 1000:.1f} km" if e.breakup_altitude_m else "intact")
    t.add_row(
        "airburst altitude", f"{e.airburst_altitude_m / 1000:.1f} km" if e.airburst_altitude_m else "reaches the ground"
    )
    t.add_row("impact speed", f"{e.impact_speed_m_s / 1000:.2f} km/s")
    if e.final_crater_m:
        t.add_row(
            "crater (transient / final)", f"{e.transient_crater_m:.0f} m / {e.final_crater_m:.0f} m ({e.crater_type})"
        )
        t.add_row("seismic magnitude", f"{e.seismic_magnitude:.1f}")
    t.add_row("fireball radius", f"{e.fireball_radius_m:.0f} m")
    for name, r in e.overpressure_radii_m.items():
        t.add_row(f"overpressure {name}", f"{r / 1000:.1f} km")
    console.print(t)
