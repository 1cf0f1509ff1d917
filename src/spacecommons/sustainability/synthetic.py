"""A synthetic future catalog: today's catalog + mega-constellation shells + fragmentation debris.

Issue #18 (target 3) screens 100,000 objects. Nobody has that catalog yet, so it is built from
what is public: the input catalog (e.g. the 2022-01-22 snapshot), the constellation shells of
public FCC/ITU filings as Walker-delta patterns (table :data:`SHELLS`, sources in each row and
in docs/sustainability.md), and fragment clouds of the NASA Standard Breakup Model
(:mod:`.breakup`) until the catalog holds the asked number of objects.

Everything is a pure function of its arguments and ``seed`` (no I/O, no clock): the reference
epoch is the newest epoch of the input catalog unless one is given.

Modelling choices (each a simplification, see docs/sustainability.md "Limitations"):

- constellation satellites are circular (e = 1e-4) Walker-delta shells i: T/P/F with phasing
  F = 1, element sets at the reference epoch, B* = 0 (station-kept: they hold their altitude);
  plane ``p`` of a shell has RAAN ``360 p / P`` plus a per-shell offset drawn from ``seed``.
- debris: breakups of random LEO parents (catalog or constellation objects with perigee above
  500 km and apogee below 2,000 km) between 30 and 730 days before the reference epoch, half
  explosions of a 1,000 kg rocket body, half catastrophic collisions of an 800 kg satellite
  with a 10 kg projectile at 10 km/s (fragments >= 10 cm); a fragment is kept when SGP4
  propagates it without error, above 120 km, from the reference epoch to ``horizon_days`` after it.
- below the full population (catalog + shells + debris) the catalog is a seeded uniform draw
  of it, so 25k, 50k and 100k objects have the same mix when built from the same ``population``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from ..catalog.elements import MAX_SGP4_SATNUM, ElementSet, format_epoch
from ..constants import EARTH_RADIUS_WGS72_KM, GM_EARTH_WGS72_KM3_S2, SECONDS_PER_DAY
from ..errors import InputError

FIRST_SYNTHETIC_ID = 100000
"""Synthetic objects are numbered from here, in one block no input object uses: Alpha-5 TLE
numbers, beyond every object of the 2022 catalog (largest 5-digit number: 99999)."""
CONSTELLATION_ECC = 1e-4
MIN_PARENT_PERIGEE_KM = 500.0
MAX_PARENT_APOGEE_KM = 2000.0
BREAKUP_AGE_DAYS = (30.0, 730.0)
MIN_FRAGMENT_ALT_KM = 120.0
EXPLOSION_MASS_KG = 1000.0
COLLISION_TARGET_KG = 800.0
COLLISION_PROJECTILE_KG = 10.0
COLLISION_SPEED_KM_S = 10.0


@dataclass(frozen=True)
class Shell:
    """One Walker-delta shell of a filed constellation: planes x satellites per plane."""

    constellation: str
    altitude_km: float
    inclination_deg: float
    planes: int
    per_plane: int
    source: str

    @property
    def size(self) -> int:
        return self.planes * self.per_plane


_STARLINK = (
    "FCC 22-91 (Order and Authorization, SpaceX Gen2, 1 Dec 2022), describing the amended "
    "application SAT-AMD-20210818-00105 (configuration 1, 29,988 satellites)"
)
_STARLINK_GRANTED = _STARLINK + "; this shell is in the 7,500 satellites FCC 22-91 granted"
_KUIPER = "FCC 20-102 (Order and Authorization, Kuiper Systems, 30 Jul 2020), 3,236 satellites"
_GW_A59 = "ITU filing GW-A59 (China, 2020; China SatNet 'Guowang'), 6,080 satellites; planes x per plane assumed"
_GW_2 = "ITU filing GW-2 (China, 2020; China SatNet 'Guowang'), 6,912 satellites; planes x per plane assumed"
_QIANFAN = (
    "Shanghai Spacecom (SSST) Qianfan/G60 phase 1, 1,296 satellites (Xinhua, 7 Aug 2024); "
    "polar planes as launched; altitude in the 1,100-1,200 km range of its filings, layout assumed"
)

SHELLS: tuple[Shell, ...] = (
    Shell("STARLINK-G2", 340.0, 53.0, 48, 110, _STARLINK),
    Shell("STARLINK-G2", 345.0, 46.0, 48, 110, _STARLINK),
    Shell("STARLINK-G2", 350.0, 38.0, 48, 110, _STARLINK),
    Shell("STARLINK-G2", 360.0, 96.9, 30, 120, _STARLINK),
    Shell("STARLINK-G2", 525.0, 53.0, 28, 120, _STARLINK_GRANTED),
    Shell("STARLINK-G2", 530.0, 43.0, 28, 120, _STARLINK_GRANTED),
    Shell("STARLINK-G2", 535.0, 33.0, 28, 120, _STARLINK_GRANTED),
    Shell("STARLINK-G2", 604.0, 148.0, 12, 12, _STARLINK),
    Shell("STARLINK-G2", 614.0, 115.7, 18, 18, _STARLINK),
    Shell("KUIPER", 630.0, 51.9, 34, 34, _KUIPER),
    Shell("KUIPER", 610.0, 42.0, 36, 36, _KUIPER),
    Shell("KUIPER", 590.0, 33.0, 28, 28, _KUIPER),
    Shell("GUOWANG", 590.0, 85.0, 16, 30, _GW_A59),
    Shell("GUOWANG", 600.0, 50.0, 40, 50, _GW_A59),
    Shell("GUOWANG", 508.0, 55.0, 60, 60, _GW_A59),
    Shell("GUOWANG", 1145.0, 30.0, 36, 48, _GW_2),
    Shell("GUOWANG", 1145.0, 40.0, 36, 48, _GW_2),
    Shell("GUOWANG", 1145.0, 50.0, 36, 48, _GW_2),
    Shell("GUOWANG", 1145.0, 60.0, 36, 48, _GW_2),
    Shell("QIANFAN", 1160.0, 89.0, 36, 36, _QIANFAN),
)


@dataclass(frozen=True)
class SyntheticCatalog:
    """The element sets (sorted by catalog number) and how many of each kind they hold."""

    elements: list[ElementSet]
    counts: dict[str, int] = field(default_factory=dict)
    epoch: datetime | None = None


def mean_motion_rev_day(altitude_km: float) -> float:
    """Mean motion (rev/day) of a circular orbit at ``altitude_km`` above the WGS-72 radius."""
    a = EARTH_RADIUS_WGS72_KM + altitude_km
    return math.sqrt(GM_EARTH_WGS72_KM3_S2 / a**3) * SECONDS_PER_DAY / (2.0 * math.pi)


def walker_shell(
    shell: Shell, epoch: datetime, first_norad_id: int, *, phasing: int = 1, raan_offset_deg: float = 0.0
) -> list[ElementSet]:
    """The shell's satellites as OMM element sets at ``epoch`` (Walker delta i: T/P/F, F = ``phasing``).

    >>> from datetime import UTC, datetime
    >>> sats = walker_shell(SHELLS[9], datetime(2022, 1, 22, tzinfo=UTC), 100000)
    >>> len(sats), sats[0].fields["INCLINATION"], sats[35].fields["RA_OF_ASC_NODE"]  # 34 planes: 360/34 deg apart
    (1156, '51.9000', '10.5882')
    """
    n = f"{mean_motion_rev_day(shell.altitude_km):.8f}"
    ep = format_epoch(epoch)
    total = shell.size
    out = []
    for p in range(shell.planes):
        raan = (raan_offset_deg + 360.0 * p / shell.planes) % 360.0
        for s in range(shell.per_plane):
            anomaly = (360.0 * s / shell.per_plane + 360.0 * phasing * p / total) % 360.0
            nid = first_norad_id + len(out)
            where = f"{shell.altitude_km:g}KM {shell.inclination_deg:g}DEG"
            name = f"{shell.constellation} {where} P{p + 1:02d} S{s + 1:03d}"
            fields = {
                "OBJECT_NAME": name,
                "OBJECT_ID": "",
                "EPOCH": ep,
                "MEAN_MOTION": n,
                "ECCENTRICITY": f"{CONSTELLATION_ECC:.7f}",
                "INCLINATION": f"{shell.inclination_deg:.4f}",
                "RA_OF_ASC_NODE": f"{raan:.4f}",
                "ARG_OF_PERICENTER": "0.0000",
                "MEAN_ANOMALY": f"{anomaly:.4f}",
                "BSTAR": "0",
                "MEAN_MOTION_DOT": "0",
                "MEAN_MOTION_DDOT": "0",
                "NORAD_CAT_ID": str(nid),
            }
            out.append(ElementSet(norad_id=nid, name=name, fields=fields, source="synthetic", format="omm"))
    return out


def _perigee_apogee_km(e: ElementSet) -> tuple[float, float]:
    n = e.mean_motion_rev_day * 2.0 * math.pi / SECONDS_PER_DAY
    a = (GM_EARTH_WGS72_KM3_S2 / n**2) ** (1.0 / 3.0)
    return a * (1.0 - e.eccentricity) - EARTH_RADIUS_WGS72_KM, a * (1.0 + e.eccentricity) - EARTH_RADIUS_WGS72_KM


def _survivors(elements: list[ElementSet], epoch: datetime, horizon_days: float) -> list[ElementSet]:
    """The element sets SGP4 propagates without error and above ``MIN_FRAGMENT_ALT_KM`` at nine
    instants from the epoch to the end of the horizon (a re-entering fragment is no catalog object)."""
    from ..propagation.sgp4_batch import propagate_satrecs
    from ..timescales import datetime_to_jd

    if not elements:
        return []
    jd0, fr0 = datetime_to_jd(epoch)
    offsets = np.linspace(0.0, horizon_days, 9)
    err, r, _v = propagate_satrecs([e.satrec() for e in elements], np.full(offsets.shape, jd0), fr0 + offsets)
    with np.errstate(invalid="ignore"):
        high = np.linalg.norm(r, axis=-1) > EARTH_RADIUS_WGS72_KM + MIN_FRAGMENT_ALT_KM
    good = ~(err != 0).any(axis=1) & high.all(axis=1)
    return [e for e, ok in zip(elements, good, strict=True) if ok]


def fragmentation_debris(
    parents: list[ElementSet],
    n: int,
    epoch: datetime,
    rng: np.random.Generator,
    first_norad_id: int,
    *,
    horizon_days: float = 7.0,
) -> tuple[list[ElementSet], int]:
    """``n`` fragments of breakups of random LEO ``parents`` before ``epoch``; returns them and the
    number of breakups. Fragments that re-enter before ``epoch + horizon_days`` are not counted."""
    from ..timescales import datetime_to_jd
    from .breakup import breakup_cloud

    leo = []
    for e in parents:
        perigee, apogee = _perigee_apogee_km(e)
        if perigee > MIN_PARENT_PERIGEE_KM and apogee < MAX_PARENT_APOGEE_KM:
            leo.append(e)
    if n > 0 and not leo:
        raise InputError(
            f"no LEO parent (perigee above {MIN_PARENT_PERIGEE_KM:g} km, apogee below "
            f"{MAX_PARENT_APOGEE_KM:g} km) to break up"
        )
    out: list[ElementSet] = []
    events = 0
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 10 * (n // 50 + 10):
            raise InputError(f"fragmentation debris: {len(out)} of {n} fragments after {tries - 1} breakups")
        parent = leo[int(rng.integers(len(leo)))]
        age = rng.uniform(*BREAKUP_AGE_DAYS)
        jd, fr = datetime_to_jd(epoch - timedelta(days=float(age)))
        if rng.random() < 0.5:
            kw = {"kind": "explosion", "mass_kg": EXPLOSION_MASS_KG, "object_class": "rocket_body"}
        else:
            kw = {
                "kind": "collision",
                "mass_kg": COLLISION_TARGET_KG,
                "projectile_mass_kg": COLLISION_PROJECTILE_KG,
                "v_impact_km_s": COLLISION_SPEED_KM_S,
            }
        try:
            cloud = breakup_cloud(parent, jd, fr, rng, first_norad_id=first_norad_id + len(out), **kw)
        except InputError:  # the parent's SGP4 fails at the breakup time: draw another
            continue
        kept = _survivors(cloud.elements, epoch, horizon_days)[: n - len(out)]
        events += 1
        # renumber densely: fragments that re-entered leave no gaps
        for e in kept:
            nid = first_norad_id + len(out)
            fields = dict(e.fields, NORAD_CAT_ID=str(nid))
            out.append(ElementSet(norad_id=nid, name=e.name, fields=fields, source="synthetic", format="omm"))
    return out, events


def _free_block(used: set[int], size: int) -> int:
    """The first catalog number >= FIRST_SYNTHETIC_ID starting ``size`` numbers no input object
    has (the 2022 catalog holds a few Alpha-5 numbers from 270000)."""
    start = FIRST_SYNTHETIC_ID
    while True:
        clash = [n for n in used if start <= n < start + size]
        if not clash:
            break
        start = max(clash) + 1
    if start + size - 1 > MAX_SGP4_SATNUM:
        raise InputError(f"{size} synthetic objects need catalog numbers beyond {MAX_SGP4_SATNUM} (Alpha-5)")
    return start


def synthesize(
    catalog: list[ElementSet],
    objects: int,
    seed: int,
    *,
    population: int | None = None,
    epoch: datetime | None = None,
    shells: tuple[Shell, ...] = SHELLS,
    horizon_days: float = 7.0,
) -> SyntheticCatalog:
    """A future catalog of ``objects`` element sets from ``catalog`` (one element set per object).

    The full population is the catalog, every shell of ``shells``, and fragmentation debris up
    to ``population`` objects (default: ``objects``); when that is more than ``objects``, a
    seeded uniform draw of ``objects`` of it is returned. Same arguments, same catalog.
    """
    if objects < 1:
        raise InputError(f"objects must be positive, got {objects}")
    if not catalog:
        raise InputError("the synthetic catalog is built on an input catalog: none given")
    ids = [e.norad_id for e in catalog]
    if len(set(ids)) != len(ids):
        raise InputError("the input catalog has several element sets for one object: keep the latest of each")
    if epoch is None:
        epoch = max(e.epoch for e in catalog)
    population = max(objects, population or 0)
    n_shells = sum(shell.size for shell in shells)
    n_debris = max(0, population - len(catalog) - n_shells)
    next_id = _free_block(set(ids), n_shells + n_debris)
    offsets = np.random.default_rng([seed, 1]).uniform(0.0, 360.0, len(shells))
    constellation: list[ElementSet] = []
    counts: dict[str, int] = {"catalog": len(catalog)}
    for shell, offset in zip(shells, offsets, strict=True):
        sats = walker_shell(shell, epoch, next_id + len(constellation), raan_offset_deg=float(offset))
        constellation.extend(sats)
        counts[shell.constellation] = counts.get(shell.constellation, 0) + len(sats)
    full = list(catalog) + constellation
    first_debris = next_id + len(constellation)
    debris, breakups = fragmentation_debris(
        full, n_debris, epoch, np.random.default_rng([seed, 2]), first_debris, horizon_days=horizon_days
    )
    counts["debris"] = len(debris)
    counts["breakups"] = breakups
    full.extend(debris)
    if objects < len(full):
        pick = np.sort(np.random.default_rng([seed, 3]).choice(len(full), objects, replace=False))
        kinds = np.array(
            ["catalog"] * len(catalog) + [e.name.split()[0] for e in constellation] + ["debris"] * len(debris)
        )
        full = [full[i] for i in pick]
        counts = {k: int(np.count_nonzero(kinds[pick] == k)) for k in counts if k != "breakups"}
        counts["breakups"] = breakups
    full.sort(key=lambda e: e.norad_id)
    return SyntheticCatalog(full, counts, epoch)


def write_3le(elements: list[ElementSet]) -> str:
    """The element sets as three-line TLE text (name line, then the two TLE lines)."""
    return "".join(f"{e.name}\n" + "\n".join(e.to_tle_lines()) + "\n" for e in elements)


__all__ = [
    "SHELLS",
    "Shell",
    "SyntheticCatalog",
    "fragmentation_debris",
    "mean_motion_rev_day",
    "synthesize",
    "walker_shell",
    "write_3le",
]
