"""``spacecommons avoid``: JSON contract, products (OPM with maneuver, OEM, heat map), mistakes.

The event is NASA CARA's test CDM SWIFT (28485) vs 44777 (tests/data/SOURCES.md); CARA's 2D Pc
of it is 2.3237e-3 (CARA_PcMethod_Test_Conjunctions.xlsx)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from spacecommons.cli.main import app
from spacecommons.ephemeris import read_oem, read_opm
from spacecommons.frames import rtn_basis

from .conftest import DATA

runner = CliRunner(env={"COLUMNS": "240"})
SWIFT = DATA / "cdm/cara_pc_test_cdms/000028485_conj_000044777_20220407_231108_20220406_140506.cdm"


def test_avoid_json_and_products(tmp_path):
    out = tmp_path / "avoid"
    result = runner.invoke(app, ["avoid", str(SWIFT), "--max-lead-h", "5", "--json", "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["pc_before"] == pytest.approx(2.3236849651128103e-3, rel=1e-3)
    assert doc["needs_action"] and not doc["rescreened"]
    rec = doc["recommended"]
    assert rec["pc_after"] < 1e-6 and rec["miss_after_km"] >= 0.5
    assert rec["method"] == "FOSTER-1992"
    assert 0 < rec["lead_time_s"] <= 5 * 3600
    ts = doc["trade_space"]
    assert np.array(ts["pc"]).shape == (4, len(ts["lead_time_s"]), len(ts["dv_m_s"]))
    # the OPM: the state before ignition and a maneuver block of the recommended Δv (RTN, km/s)
    opm = read_opm((out / "maneuver.opm").read_text(), "maneuver.opm")
    (man,) = opm.maneuvers
    assert man.ref_frame == "RTN" and man.duration_s == 0.0
    np.testing.assert_allclose(man.dv_km_s * 1000.0, rec["dv_m_s"], rtol=1e-12)
    assert man.epoch_ignition == opm.epoch == rec["epoch"].rstrip("Z")
    # the OEM starts at ignition with the post-burn velocity: OPM velocity + Δv rotated from RTN
    oem = read_oem((out / "post_maneuver.oem").read_text(), "post_maneuver.oem")
    seg = oem.segments[0]
    assert seg.epochs[0] == opm.epoch
    np.testing.assert_allclose(seg.r_km[0], opm.r_km, atol=1e-9)
    dv = rtn_basis(opm.r_km, opm.v_km_s).T @ man.dv_km_s
    np.testing.assert_allclose(seg.v_km_s[0], opm.v_km_s + dv, atol=1e-12)
    assert (out / "avoidance_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = (out / "trade_space.csv").read_text().splitlines()
    assert rows[0] == "direction,lead_time_s,dv_m_s,pc_after,miss_after_km"
    assert len(rows) == 1 + 4 * len(ts["lead_time_s"]) * len(ts["dv_m_s"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["no-such-file.cdm"], "neither a file nor a screening event id"),
        ([str(SWIFT), "--target-pc", "2"], "--target-pc"),
        ([str(SWIFT), "--max-lead-h", "72"], "--max-lead-h"),
        ([str(SWIFT), "--method", "bogus"], "--method"),
    ],
)
def test_avoid_mistakes_are_one_line_exit_2(args, needle):
    result = runner.invoke(app, ["avoid", *args])
    assert result.exit_code == 2, result.output
    assert needle in result.output
