"""``spacecommons avoid``: plan a collision-avoidance maneuver for a CDM or a stored screening event."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import DatabaseOption, open_db, read_element_files, say, utc_now


def avoid_command(
    event: str = typer.Argument(..., help="a CDM file (KVN or XML), or the id of a stored screening event"),
    target_pc: float = typer.Option(1e-6, "--target-pc", help="Pc the burn must reach"),
    threshold_pc: float = typer.Option(1e-4, "--threshold-pc", help="act at or above this Pc (CARA red: 1e-4)"),
    miss_floor_km: float = typer.Option(0.5, "--miss-floor-km", help="least miss distance after the burn (km)"),
    method: str = typer.Option("foster", help="Pc method of the verified burn: foster, 3d, mc, max or auto"),
    elements: list[Path] = typer.Option(
        None, "--elements", exists=True, dir_okay=False, help="catalog to re-screen the maneuvered orbit against"
    ),
    days_after: float = typer.Option(2.0, "--days-after", help="re-screen this many days after TCA"),
    max_lead_h: float = typer.Option(48.0, "--max-lead-h", help="earliest burn, hours before TCA (at most 48)"),
    out_dir: Path = typer.Option(None, "--out-dir", help="write heat map, trade table, OPM and OEM here"),
    as_json: bool = typer.Option(False, "--json", help="JSON output"),
    database_url: str = DatabaseOption,
) -> None:
    """Trade space of along-track/radial burns (1 rev .. 2 days before TCA), the smallest Δv to the
    target Pc, verified by numerical propagation and re-screened against a catalog."""
    from ..cdm import read_cdm
    from ..errors import InputError
    from ..risk.cdm_pc import METHODS
    from ..workflows.avoidance import cdm_for_event, heatmap_png, run_avoidance

    if method not in METHODS or method == "all":
        raise typer.BadParameter(f"unknown method {method!r}: foster, 3d, mc, max or auto", param_hint="--method")
    for name, value in (("--target-pc", target_pc), ("--threshold-pc", threshold_pc)):
        if not 0 < value < 1:
            raise typer.BadParameter(f"{value}: a probability in (0, 1)", param_hint=name)
    if not 0 < max_lead_h <= 48:
        raise typer.BadParameter(f"{max_lead_h}: hours in (0, 48]", param_hint="--max-lead-h")
    if days_after < 0 or miss_floor_km < 0:
        raise typer.BadParameter("must not be negative", param_hint="--days-after/--miss-floor-km")
    now = utc_now()
    catalog = None
    path = Path(event)
    if path.exists():
        cdm = read_cdm(path.read_bytes(), str(path))
    elif event.isdigit():
        _, session_maker = open_db(database_url)
        with session_maker() as session:
            cdm, sats, ids = cdm_for_event(session, int(event), now)
        catalog = (sats, ids)
    else:
        raise InputError(f"{event}: neither a file nor a screening event id")
    if elements:
        recs = read_element_files(elements)
        catalog = ([r.satrec() for r in recs], [str(r.norad_id) for r in recs])
    result = run_avoidance(
        cdm,
        now,
        catalog,
        target_pc,
        threshold_pc,
        miss_floor_km,
        method,
        days_after=days_after,
        max_lead_s=max_lead_h * 3600.0,
    )
    doc = result.summary
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        heatmap_png(result.plan, out_dir / "avoidance_heatmap.png")
        _table(doc, out_dir / "trade_space.csv")
        (out_dir / "avoidance.json").write_text(json.dumps(doc, indent=2))
        if result.opm_kvn:
            (out_dir / "maneuver.opm").write_text(result.opm_kvn)
            (out_dir / "post_maneuver.oem").write_text(result.oem_kvn)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    say(
        f"{doc['primary']} vs {doc['secondary']} at {doc['tca']}: "
        f"Pc {doc['pc_before']:.3g}, miss {doc['miss_before_km']:.3f} km"
    )
    if not doc["needs_action"]:
        say(f"Pc below the threshold {threshold_pc:g}: no maneuver needed (the trade space is still computed)")
    rec = doc["recommended"]
    if rec is None:
        say("no burn on the grid reaches the target Pc without creating a new conjunction", style="red")
    else:
        dv = ", ".join(f"{x:+.4f}" for x in rec["dv_m_s"])
        say(
            f"recommended: dv RTN ({dv}) m/s at {rec['epoch']} ({rec['lead_time_s'] / 3600:.2f} h before TCA): "
            f"Pc {rec['pc_after']:.3g} ({rec['method']}), miss {rec['miss_after_km']:.3f} km"
        )
    for r in doc["rejected"]:
        say(
            f"rejected: burn at {r['epoch']} creates {len(r['new_conjunctions'])} conjunction(s) above threshold",
            label="warning",
            label_style="yellow",
        )
    if doc["rescreened"]:
        say(f"re-screened: {len(doc['new_conjunctions'])} other pass(es) within the screening distance")
    if out_dir is not None:
        say(
            f"wrote {out_dir}/avoidance_heatmap.png, trade_space.csv, avoidance.json"
            + (", maneuver.opm, post_maneuver.oem" if rec else "")
        )


def _table(doc: dict, path: Path) -> None:
    ts = doc["trade_space"]
    lines = ["direction,lead_time_s,dv_m_s,pc_after,miss_after_km"]
    for a, d in enumerate(ts["directions"]):
        for i, lead in enumerate(ts["lead_time_s"]):
            for j, dv in enumerate(ts["dv_m_s"]):
                lines.append(f"{d},{lead:.3f},{dv:.6g},{ts['pc'][a][i][j]:.6g},{ts['miss_km'][a][i][j]:.6f}")
    path.write_text("\n".join(lines) + "\n")
