"""The public surface (``spacecommons.api``), the typed input error, the constants and the
repository's self-containment (issue #10)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import spacecommons.api as api
from spacecommons import constants
from spacecommons.errors import InputError, SpacecommonsError

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_all_is_one_sorted_list_of_names_that_resolve():
    assert api.__all__ == sorted(set(api.__all__))
    for name in api.__all__:
        value = getattr(api, name)
        # the same name as the module that defines it uses (no aliases)
        assert getattr(value, "__name__", name) == name, name


def test_the_docs_examples_import_the_library_only_from_the_api():
    """Every ``spacecommons`` import in a ```python block of docs/*.md is ``from spacecommons.api import``."""
    seen = set()
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for code in BLOCK.findall(doc.read_text()):
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spacecommons"):
                    assert node.module == "spacecommons.api", f"{doc.name}: from {node.module} import ..."
                    seen.update(a.name for a in node.names)
                elif isinstance(node, ast.Import):
                    assert not any(a.name.startswith("spacecommons") for a in node.names), doc.name
    assert seen and seen <= set(api.__all__)


def test_importing_the_api_does_not_load_the_service():
    code = "import sys, spacecommons.api; print(*(m in sys.modules for m in ('fastapi', 'sqlalchemy', 'cryptography')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_input_error_is_a_value_error_and_a_library_error():
    """Callers that catch ValueError keep working; the service maps SpacecommonsError to 400."""
    with pytest.raises(InputError, match="target must be one of"):
        api.impact_effects(50.0, 3000.0, 20.0, 45.0, target="lava")
    with pytest.raises(ValueError, match="unknown sampling method 'sobol' \\(mc or lov\\)"):
        api.assess_impact_risk(None, 0.0, method="sobol")  # the choice is checked before the orbit is used
    assert issubclass(InputError, SpacecommonsError) and issubclass(InputError, ValueError)


def test_no_plain_value_error_in_the_modules_this_issue_converted():
    src = ROOT / "src/spacecommons"
    for folder in ("catalog", "neo", "defense", "exchange", "clients", "propagation"):
        for path in (src / folder).rglob("*.py"):
            assert "raise ValueError(" not in path.read_text(), path


def test_constants_agree_with_their_published_values():
    """IAU 2012 B2: 1 au = 149,597,870.7 km exactly. WGS-72 GM and radius: python-sgp4's ``wgs72``
    gravity constants (Vallado et al. 2006). EGM-96 GM = 3.986004418e14 m^3/s^2 (Lemoine et al.
    1998, NASA/TP-1998-206861, Table 10.1). 1 Mt TNT = 4.184e15 J by convention."""
    from sgp4.earth_gravity import wgs72

    assert constants.AU_KM == 149_597_870.7
    assert wgs72.mu == constants.GM_EARTH_WGS72_KM3_S2
    assert wgs72.radiusearthkm == constants.EARTH_RADIUS_WGS72_KM
    assert pytest.approx(3.986004418e14, rel=1e-15) == constants.GM_EARTH_EGM96_KM3_S2 * 1e9
    assert constants.GM_EARTH_WGS72_KM3_S2 != constants.GM_EARTH_EGM96_KM3_S2
    assert pytest.approx(1731.456837, rel=1e-9) == constants.AU_PER_DAY_KM_S  # 149597870.7 / 86400
    assert constants.MT_TNT_J == 1000 * constants.KT_TNT_J == 4.184e15


def test_orbit_regime_matches_the_satrec_route():
    """The regime from an element set's mean motion equals the one from sgp4's own semi-major axis
    (the route cdm/generate.py takes) for the sample's objects: one computation, two inputs."""
    import math
    from importlib.resources import files

    from spacecommons.catalog.elements import regime

    text = (files("spacecommons") / "data/sample/iridium-33-debris_celestrak_2021-10-02.txt").read_text()
    records = api.read_elements("iridium.txt", text).records
    assert len(records) > 300
    seen = set()
    for rec in records:
        sat = rec.satrec()
        a_km = sat.a * constants.EARTH_RADIUS_WGS72_KM
        period = 2 * math.pi * math.sqrt(a_km**3 / constants.GM_EARTH_WGS72_KM3_S2) / 60.0
        by_satrec = regime(
            a_km * (1 - sat.ecco) - constants.EARTH_RADIUS_WGS72_KM,
            a_km * (1 + sat.ecco) - constants.EARTH_RADIUS_WGS72_KM,
            period,
            sat.ecco,
        )
        assert api.element_regime(rec) == by_satrec
        seen.add(by_satrec)
    assert seen == {api.OrbitRegime.LEO}  # Iridium 33 debris: ~800 km, near-circular


def test_no_test_reads_outside_the_repository():
    """The suite runs on a fresh clone: no test file names the shared data folder beside the checkout
    or a path above it (the benchmarks may; they say what they need)."""
    for path in (ROOT / "tests").glob("*.py"):
        text = path.read_text()
        for outside in ("parents[" + "2]", "../" + "shared", '"' + "shar" + "ed/"):
            assert outside not in text, f"{path.name} reads {outside}"
