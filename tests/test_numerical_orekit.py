"""The Cowell propagator against Orekit (an independent implementation, through ``orekit-jpype``).

Same force model on both sides: EGM-96 gravity field truncated to the zonal terms J2..J6 (our
``EGM96_C_N0``), Orekit's Holmes-Featherstone model with its 8(5,3) Dormand-Prince integrator.
The pole is EME2000's z axis on both sides: our model turns the field with the mean pole of date,
which at the epoch J2000.0 is EME2000's pole (it moves 0.07 arcsec in the 12 h compared).
Drag (NRLMSIS 2.1 is not in Orekit), Sun/Moon and SRP need Orekit's data files and are compared by
their own tests in test_numerical.py. Skipped where Java or orekit-jpype is missing (optional extra
``orekit``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from spacecommons.constants import EARTH_RADIUS_EGM96_KM, GM_EARTH_EGM96_KM3_S2
from spacecommons.propagation.forces import EGM96_C_N0, ForceModel
from spacecommons.propagation.numerical import propagate_numerical

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed")
orekit = pytest.importorskip("orekit_jpype")


@pytest.fixture(scope="module")
def vm():
    return orekit.initVM()


def _orekit_zonal(r0_km, v0_km_s, seconds):
    from jpype import JArray, JDouble
    from org.hipparchus.geometry.euclidean.threed import Vector3D
    from org.hipparchus.ode.nonstiff import DormandPrince853Integrator
    from org.orekit.forces.gravity import HolmesFeatherstoneAttractionModel
    from org.orekit.forces.gravity.potential import GravityFieldFactory, TideSystem
    from org.orekit.frames import FramesFactory
    from org.orekit.orbits import CartesianOrbit, OrbitType
    from org.orekit.propagation import SpacecraftState
    from org.orekit.propagation.numerical import NumericalPropagator
    from org.orekit.time import AbsoluteDate, TimeScalesFactory
    from org.orekit.utils import PVCoordinates

    mu = GM_EARTH_EGM96_KM3_S2 * 1e9
    ae = EARTH_RADIUS_EGM96_KM * 1e3
    c = [[0.0] * (n + 1) for n in range(7)]
    c[0][0] = 1.0
    for n, value in EGM96_C_N0.items():
        c[n][0] = value
    s = [[0.0] * (n + 1) for n in range(7)]
    provider = GravityFieldFactory.getNormalizedProvider(
        ae, mu, TideSystem.UNKNOWN, JArray(JDouble, 2)(c), JArray(JDouble, 2)(s)
    )
    eme = FramesFactory.getEME2000()
    date = AbsoluteDate(2000, 1, 1, 12, 0, 0.0, TimeScalesFactory.getTT())
    pv = PVCoordinates(Vector3D(*(np.asarray(r0_km) * 1e3)), Vector3D(*(np.asarray(v0_km_s) * 1e3)))
    orbit = CartesianOrbit(pv, eme, date, mu)
    tol = NumericalPropagator.tolerances(1e-4, orbit, OrbitType.CARTESIAN)  # 0.1 mm position tolerance
    integrator = DormandPrince853Integrator(1e-3, 300.0, tol[0], tol[1])
    prop = NumericalPropagator(integrator)
    prop.setOrbitType(OrbitType.CARTESIAN)
    prop.setInitialState(SpacecraftState(orbit))
    prop.addForceModel(HolmesFeatherstoneAttractionModel(eme, provider))
    end = prop.propagate(date.shiftedBy(float(seconds))).getPVCoordinates(eme)
    p, v = end.getPosition(), end.getVelocity()
    return np.array([p.getX(), p.getY(), p.getZ()]) / 1e3, np.array([v.getX(), v.getY(), v.getZ()]) / 1e3


@pytest.mark.parametrize(
    ("r0", "v0"),
    [
        ([6778.137, 0.0, 0.0], [0.0, 4.7577, 5.9950]),  # ISS-like LEO, 51.6 deg
        ([-2000.0, 6500.0, 1200.0], [-1.2, -0.9, 7.3]),  # near-polar, slightly eccentric
    ],
)
def test_zonal_j2_to_j6_matches_orekit_over_12_hours(vm, r0, v0):
    seconds = 43_200.0
    ours = propagate_numerical(
        np.array([r0]),
        np.array([v0]),
        2451545.0,
        0.0,
        [seconds],
        ForceModel(zonal_degree=6, drag=False, third_body=False, srp=False),
    )
    r_ok, v_ok = _orekit_zonal(r0, v0, seconds)
    # 12 h of LEO (~8 revolutions): 1.7 cm and 0.012 mm/s measured for the first case; asserted 10 cm
    assert np.linalg.norm(ours.r_km[0, 0] - r_ok) < 1e-4
    assert np.linalg.norm(ours.v_km_s[0, 0] - v_ok) < 1e-7
