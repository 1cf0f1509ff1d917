"""``spacecommons lifetime``, ``spacecommons sustainability report``, ``spacecommons breakup``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import check_out, console, parse_ids, report_issues, require_positive, say, utc_now

app = typer.Typer(help="Debris-mitigation compliance of a catalog.", no_args_is_help=True)

SCENARIOS = ("low", "nominal", "high")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> None:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r}: expected one of {', '.join(allowed)}", param_hint=option)


def _read_all(paths: list[Path]) -> list:
    """Every element set of the files (several sets of one object are its history); issues reported."""
    from ..catalog import read_elements

    records = []
    for path in paths:
        parsed = read_elements(path)
        report_issues(parsed.issues)
        records.extend(parsed.records)
    return records


def _iso(jd: float) -> str | None:
    import math

    from ..timescales import jd_to_iso

    return jd_to_iso(jd, 0.0, 0) if math.isfinite(jd) else None


def _density_for(fast: bool):
    """Scenario -> density model: point-wise NRLMSIS 2.1, or its tabulated global mean (fast)."""
    from ..propagation.space_weather import bundled_space_weather
    from ..sustainability.lifetime import TabulatedDensity, msis_density

    cache: dict = {}

    def density_for(scenario: str):
        if scenario not in cache:
            sw = bundled_space_weather(scenario)
            cache[scenario] = TabulatedDensity.build(sw) if fast else msis_density(sw)
        return cache[scenario]

    return density_for


def lifetime_command(
    elements: list[Path] = typer.Option(..., "--elements", exists=True, dir_okay=False, help="TLE/3LE or OMM file(s)"),
    ids: str = typer.Option(None, "--ids", help="comma-separated catalog numbers (default: every object)"),
    scenario: str = typer.Option("nominal", help="solar-activity forecast for future dates: low, nominal, high"),
    max_years: float = typer.Option(30.0, "--max-years", help="stop propagating after this many years"),
    fast: bool = typer.Option(False, "--fast", help="tabulated global-mean NRLMSIS density (catalog scale)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Reentry epoch of each object (nominal, early = high activity, late = low activity)."""
    from ..sustainability.lifetime import predict_lifetimes

    _choice(scenario, SCENARIOS, "--scenario")
    require_positive(max_years, "--max-years")
    records = _read_all(elements)
    wanted = set(parse_ids(ids))
    if wanted:
        missing = wanted - {r.norad_id for r in records}
        if missing:
            raise typer.BadParameter(f"not in the element files: {sorted(missing)}", param_hint="--ids")
        records = [r for r in records if r.norad_id in wanted]
    density_for = _density_for(fast)
    chosen = density_for(scenario)

    def nominal_is_chosen(sc: str):
        return chosen if sc == "nominal" else density_for(sc)

    method = "orbit-averaged drag, NRLMSIS 2.1 " + ("global-mean table" if fast else "point-wise")
    preds = predict_lifetimes(records, nominal_is_chosen, method=method, max_days=max_years * 365.25)
    rows = [
        {
            "norad_id": p.norad_id,
            "name": p.name,
            "epoch_utc": _iso(p.epoch_jd),
            "reentry_utc": _iso(p.reentry_jd),
            "reentry_utc_early": _iso(p.reentry_jd_early),
            "reentry_utc_late": _iso(p.reentry_jd_late),
            "days_remaining": round(p.days_remaining, 3) if p.days_remaining < float("inf") else None,
            "scenario": scenario,
            "b_m2_kg": round(p.b_m2_kg, 5),
            "method": p.method,
        }
        for p in preds
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    t = Table(title=f"Reentry ({scenario} scenario; none = not within {max_years:g} years)")
    for col in ("object", "epoch", "reentry (UTC)", "early", "late", "days left", "B m²/kg", "method"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            f"{r['norad_id']} {r['name']}",
            r["epoch_utc"],
            r["reentry_utc"] or "none",
            r["reentry_utc_early"] or "none",
            r["reentry_utc_late"] or "none",
            "" if r["days_remaining"] is None else f"{r['days_remaining']:.1f}",
            f"{r['b_m2_kg']:.4f}",
            r["method"].split("; ")[-1],
        )
    console.print(t)


def _read_owners(path: Path | None) -> dict[int, tuple[str, str]]:
    """NORAD id -> (owner, object type) from a CelesTrak SATCAT CSV (NORAD_CAT_ID, OWNER, OBJECT_TYPE)."""
    import csv

    if path is None:
        return {}
    out = {}
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[int(row["NORAD_CAT_ID"])] = (row.get("OWNER") or "unknown", row.get("OBJECT_TYPE") or "")
            except (KeyError, ValueError) as exc:
                from ..errors import InputError

                raise InputError(
                    f"{path}:{lineno}: expected NORAD_CAT_ID, OWNER, OBJECT_TYPE columns ({exc})"
                ) from None
    return out


@app.command("report")
def report_command(
    elements: list[Path] = typer.Option(..., "--elements", exists=True, dir_okay=False, help="TLE/3LE or OMM file(s)"),
    out: Path = typer.Option(..., "--out", file_okay=False, help="folder for report.csv, report.json, plot"),
    satcat: Path = typer.Option(None, "--satcat", exists=True, dir_okay=False, help="SATCAT CSV for owners"),
    scenario: str = typer.Option("nominal", help="solar-activity forecast: low, nominal, high"),
) -> None:
    """Objects by regime, owner and type that will not re-enter within 5 / 25 years (fast method)."""
    import numpy as np

    from ..sustainability.report import FAST_HORIZON_YEARS, catalog_lifetimes, mitigation_report, object_type

    _choice(scenario, SCENARIOS, "--scenario")
    records = _read_all(elements)
    if not records:
        raise typer.BadParameter("no element sets in the files", param_hint="--elements")
    density = _density_for(True)(scenario)
    latest, regimes, life = catalog_lifetimes(records, density)
    horizon_years = FAST_HORIZON_YEARS
    owners = _read_owners(satcat)
    own = [owners.get(e.norad_id, ("unknown", ""))[0] for e in latest]
    types = [
        {"PAYLOAD": "PAY", "ROCKET BODY": "R/B", "DEBRIS": "DEB"}.get(owners[e.norad_id][1], owners[e.norad_id][1])
        if e.norad_id in owners and owners[e.norad_id][1]
        else object_type(e)
        for e in latest
    ]
    method = (
        "orbit-averaged drag with a tabulated global-mean NRLMSIS 2.1 density "
        f"({scenario} scenario), B from the element sets' decay rate (default 0.02 m²/kg when none)"
    )
    rep = mitigation_report(regimes, own, types, life, method, horizon_years)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "report.csv").open("w") as fh:
        fh.write("regime,owner,object_type,objects,beyond_5_years,beyond_25_years\n")
        for r in rep.rows:
            fh.write(f"{r.regime},{r.owner},{r.object_type},{r.objects},{r.beyond_5_years},{r.beyond_25_years}\n")
    with (out / "objects.csv").open("w") as fh:
        fh.write("norad_id,name,regime,owner,object_type,lifetime_years\n")
        for e, rg, o, ty, d in zip(latest, regimes, own, types, life, strict=True):
            years = f"{d / 365.25:.3f}" if np.isfinite(d) else ""
            fh.write(f'{e.norad_id},"{e.name}",{rg},{o},{ty},{years}\n')
    summary = {"method": rep.method, "totals": rep.totals, "rows": [r.__dict__ for r in rep.rows]}
    (out / "report.json").write_text(json.dumps(summary, indent=2))
    _plot_report(rep, life, regimes, types, out / "report.png")
    say(
        f"{rep.totals['objects']} objects: {rep.totals['beyond_5_years']} stay up beyond 5 years, "
        f"{rep.totals['beyond_25_years']} beyond 25 years; wrote {out}/report.csv, report.json, objects.csv, report.png"
    )


def _plot_report(rep, life_days, regimes, types, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    groups = sorted({(r.regime, r.object_type) for r in rep.rows})
    labels = [f"{g[0]} {g[1]}" for g in groups]
    n_all = [sum(r.objects for r in rep.rows if (r.regime, r.object_type) == g) for g in groups]
    n5 = [sum(r.beyond_5_years for r in rep.rows if (r.regime, r.object_type) == g) for g in groups]
    n25 = [sum(r.beyond_25_years for r in rep.rows if (r.regime, r.object_type) == g) for g in groups]
    x = np.arange(len(groups))
    ax1.bar(x - 0.27, n_all, 0.27, label="objects")
    ax1.bar(x, n5, 0.27, label="not down in 5 years")
    ax1.bar(x + 0.27, n25, 0.27, label="not down in 25 years")
    ax1.set_xticks(x, labels, rotation=45, ha="right")
    ax1.set_yscale("log")
    ax1.legend()
    ax1.set_title("Objects by regime and type")
    leo = np.array([r == "LEO" for r in regimes])
    years = np.asarray(life_days)[leo] / 365.25
    ax2.hist(np.clip(years, 0, 26), bins=np.linspace(0, 26, 53))
    ax2.axvline(5, color="k", ls="--", label="FCC 5 years")
    ax2.axvline(25, color="r", ls="--", label="IADC 25 years")
    ax2.set_xlabel("remaining lifetime (years; 26 = beyond the horizon)")
    ax2.set_ylabel("LEO objects")
    ax2.legend()
    fig.suptitle(rep.method, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def breakup_command(
    elements: list[Path] = typer.Option(..., "--elements", exists=True, dir_okay=False, help="catalog file(s)"),
    norad_id: int = typer.Option(..., "--id", help="catalog number of the object that breaks up"),
    kind: str = typer.Option("explosion", help="explosion or collision"),
    mass_kg: float = typer.Option(..., "--mass-kg", help="mass of the object (kg)"),
    projectile_mass_kg: float = typer.Option(0.0, "--projectile-mass-kg", help="collision: mass of the other object"),
    speed_km_s: float = typer.Option(10.0, "--speed-km-s", help="collision: impact speed (km/s)"),
    object_class: str = typer.Option("spacecraft", "--class", help="spacecraft or rocket_body (A/m law)"),
    lc_min_m: float = typer.Option(0.1, "--lc-min-m", help="smallest fragment (characteristic length, m)"),
    at: str = typer.Option(None, "--at", help="breakup time, ISO-8601 UTC (default: now)"),
    seed: int = typer.Option(0, help="random seed (the cloud is reproducible)"),
    out: Path = typer.Option(..., "--out", help="fragment element sets: .tle (3LE) or .json (OMM JSON)"),
    whatif_days: float = typer.Option(0.0, "--whatif-days", help="also screen the catalog with the cloud (days)"),
    threshold_km: float = typer.Option(5.0, "--threshold-km", help="what-if screening threshold"),
    plot: Path = typer.Option(None, "--plot", help="PNG: Gabbard diagram (and the what-if rate)"),
    workers: int = typer.Option(None, help="screening worker processes"),
) -> None:
    """NASA Standard Breakup Model cloud of one object, written as element sets; optional what-if."""
    import numpy as np

    from ..errors import InputError
    from ..sustainability.breakup import breakup_cloud
    from ..timescales import datetime_to_jd, iso_to_jd

    _choice(kind, ("explosion", "collision"), "--kind")
    _choice(object_class, ("spacecraft", "rocket_body"), "--class")
    fmt = check_out(out, ("tle", "json"))
    require_positive(mass_kg, "--mass-kg")
    require_positive(lc_min_m, "--lc-min-m")
    if kind == "collision":
        require_positive(projectile_mass_kg, "--projectile-mass-kg")
    catalog = _read_all(elements)
    parents = [e for e in catalog if e.norad_id == norad_id]
    if not parents:
        raise typer.BadParameter(f"object {norad_id} is not in the element files", param_hint="--id")
    parent = max(parents, key=lambda s: s.epoch_jd + s.epoch_fr)
    jd, fr = iso_to_jd(at) if at else datetime_to_jd(utc_now())
    cloud = breakup_cloud(
        parent,
        jd,
        fr,
        np.random.default_rng(seed),
        kind,
        mass_kg=mass_kg,
        projectile_mass_kg=projectile_mass_kg,
        v_impact_km_s=speed_km_s,
        object_class=object_class,  # type: ignore[arg-type]
        lc_min_m=lc_min_m,
    )
    if not cloud.elements:
        raise InputError(f"object {norad_id}: no fragment stays in orbit")
    if fmt == "tle":
        out.write_text("".join(f"{e.name}\n" + "\n".join(e.to_tle_lines()) + "\n" for e in cloud.elements))
    else:
        out.write_text(json.dumps([e.fields for e in cloud.elements], indent=1))
    say(f"{len(cloud.fragments)} fragments >= {lc_min_m:g} m ({kind}), {len(cloud.elements)} in orbit; wrote {out}")
    whatif = None
    if whatif_days > 0:
        from ..conjunction.params import ScreeningParams
        from ..sustainability.lifetime import group_histories
        from ..sustainability.whatif import conjunction_rate_increase

        latest = [max(h, key=lambda s: s.epoch_jd + s.epoch_fr) for h in group_histories(catalog)]
        params = ScreeningParams(jd, fr, whatif_days, threshold_km)
        whatif = conjunction_rate_increase(latest, cloud.elements, params, parent_ids=(norad_id,), workers=workers)
        say(
            f"what-if over {whatif_days:g} d at {threshold_km:g} km: {whatif.objects_in_band} catalog objects in "
            f"{whatif.band_km[0]:.0f}-{whatif.band_km[1]:.0f} km had {whatif.baseline_events} conjunctions; "
            f"the cloud adds {whatif.added_events} (x{1 + whatif.increase:.2f} the rate)"
        )
    if plot:
        _plot_breakup(cloud, whatif, plot)
        say(f"wrote {plot}")


def _plot_breakup(cloud, whatif, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..sustainability.breakup import gabbard

    g = gabbard(cloud.elements)
    n = 2 if whatif else 1
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.5))
    ax = axes[0] if n == 2 else axes
    ax.scatter(g["period_min"], g["apogee_km"], s=3, label="apogee")
    ax.scatter(g["period_min"], g["perigee_km"], s=3, label="perigee")
    ax.set_xlabel("period (min)")
    ax.set_ylabel("altitude (km)")
    ax.set_title(f"Gabbard diagram, {len(cloud.elements)} fragments")
    ax.legend()
    if whatif:
        bins = np.arange(0.0, whatif.days + 1e-9, max(whatif.days / 14, 0.25))
        axes[1].hist(whatif.baseline_tca_s / 86400.0, bins=bins, alpha=0.6, label="catalog (band) alone")
        axes[1].hist(whatif.added_tca_s / 86400.0, bins=bins, alpha=0.6, label="added by the cloud")
        axes[1].set_xlabel("days from the breakup")
        axes[1].set_ylabel(f"conjunctions < {whatif.threshold_km:g} km")
        axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
