"""Physical constants and unit conversions, each defined once, with its unit (and, where two
published values compete, its source) in its name.

Two Earth gravitational parameters are in use on purpose: SGP4 was fitted with WGS-72 and must
be driven with it, while the Monte Carlo two-body propagation of the risk code uses EGM-96.
"""

from __future__ import annotations

# Time
SECONDS_PER_DAY = 86_400.0
MINUTES_PER_DAY = 1_440.0
DAYS_PER_JULIAN_YEAR = 365.25  # IAU: the Julian year of 365.25 days of 86,400 SI seconds

# Distance
AU_KM = 149_597_870.7  # IAU 2012 Resolution B2 (exact)
AU_PER_DAY_KM_S = AU_KM / SECONDS_PER_DAY  # 1 au/day in km/s
LUNAR_DISTANCE_KM = 384_400.0  # the lunar distance (LD) of JPL CNEOS's close-approach tables
LUNAR_DISTANCE_AU = LUNAR_DISTANCE_KM / AU_KM

# Earth: the WGS-72 values SGP4 uses (Vallado, Crawford, Hujsak & Kelso 2006, AIAA 2006-6753;
# python-sgp4's ``WGS72``), and the EGM-96 gravitational parameter (Lemoine et al. 1998)
GM_EARTH_WGS72_KM3_S2 = 398_600.8
EARTH_RADIUS_WGS72_KM = 6_378.135
GM_EARTH_EGM96_KM3_S2 = 398_600.4418
EARTH_RADIUS_EGM96_KM = 6_378.1363  # reference radius of the EGM-96 coefficients (Lemoine et al. 1998)
EARTH_ROTATION_RAD_S = 7.292115146706979e-5  # IERS Conventions 2010: the Earth rotation angle's rate

# Sun and planets
GM_SUN_DE440_AU3_D2 = 2.9591220828559115e-04  # k^2 of DE421 and DE440 (Park et al. 2021), au^3/day^2
GM_DE440_KM3_S2 = {  # DE440 (Park et al. 2021, AJ 161:105, Table 8): planets (system GM) and the Moon
    "mercury": 22_031.868551,
    "venus": 324_858.592,
    "earth": 398_600.435507,
    "moon": 4_902.800118,
    "mars": 42_828.375816,
    "jupiter": 126_712_764.1,
    "saturn": 37_940_584.8418,
    "uranus": 5_794_556.4,
    "neptune": 6_836_527.10058,
}
BODY_RADIUS_IAU_KM = {  # IAU WGCCRE 2015 (Archinal et al. 2018): equatorial radii; the Moon's mean radius
    "earth": 6_378.137,
    "moon": 1_737.4,
    "mercury": 2_440.5,
    "venus": 6_051.8,
    "mars": 3_396.2,
    "jupiter": 71_492.0,
    "saturn": 60_268.0,
    "uranus": 25_559.0,
    "neptune": 24_764.0,
}

# Energy
KT_TNT_J = 4.184e12  # one kiloton of TNT, by convention (1 g TNT = 4184 J)
MT_TNT_J = 4.184e15  # one megaton of TNT
