"""The catalog as a worker sees it: picklable text, turned into SGP4 records once per process."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sgp4.api import Satrec, SatrecArray

from ..catalog.elements import ElementSet
from ..constants import EARTH_RADIUS_WGS72_KM
from .bounds import max_speed_km_s

# payloads whose SGP4 records are built, by digest; the oldest dropped beyond _CACHE_SIZE (a service
# worker updates runs for days: every update builds records of small subsets)
_CACHE: dict[str, CatalogPayload] = {}
_CACHE_SIZE = 16
MIN_PERIGEE_ALT_KM = 80.0
# An object text that starts so is an OEM (KVN) the object flies instead of an element set.
EPHEMERIS_PREFIX = "CCSDS_OEM_VERS"


@dataclass(frozen=True)
class CatalogPayload:
    """Element sets sorted by catalog number, as TLE lines or OMM fields (for exact OMM input)."""

    norad_ids: tuple[int, ...]
    names: tuple[str, ...]
    texts: tuple[tuple[str, str] | str, ...]

    def updated_with(self, new: CatalogPayload) -> tuple[CatalogPayload, tuple[int, ...]]:
        """This catalog with ``new``'s element sets replacing or joining its own (sorted by catalog
        number), and the catalog numbers whose element set changed or is new (incremental
        re-screening, issue #18): an unchanged element set is not counted as updated."""
        rows = {n: (name, text) for n, name, text in zip(self.norad_ids, self.names, self.texts, strict=True)}
        old = dict(rows)
        for n, name, text in zip(new.norad_ids, new.names, new.texts, strict=True):
            rows[n] = (name, text)
        ids = tuple(sorted(rows))
        changed = tuple(n for n in ids if old.get(n) is None or old[n][1] != rows[n][1])
        return CatalogPayload(ids, tuple(rows[n][0] for n in ids), tuple(rows[n][1] for n in ids)), changed

    def subset(self, index: Iterable[int]) -> CatalogPayload:
        """The objects at positions ``index`` (ascending, so still sorted by catalog number)."""
        index = [int(i) for i in index]
        return CatalogPayload(
            tuple(self.norad_ids[i] for i in index),
            tuple(self.names[i] for i in index),
            tuple(self.texts[i] for i in index),
        )

    @classmethod
    def from_elements(cls, elements: list[ElementSet]) -> CatalogPayload:
        ordered = sorted(elements, key=lambda e: e.norad_id)
        texts = tuple(
            (e.line1, e.line2) if e.line1 and e.line2 else json.dumps(e.fields, sort_keys=True) for e in ordered
        )
        return cls(tuple(e.norad_id for e in ordered), tuple(e.name for e in ordered), texts)

    def with_ephemerides(self, tracks: dict[int, tuple[str, str]]) -> CatalogPayload:
        """This catalog with the objects of ``tracks`` ({catalog number: (name, OEM KVN text)})
        flying their ephemeris: it replaces their element set, or adds them."""
        rows = {nid: (name, text) for nid, name, text in zip(self.norad_ids, self.names, self.texts, strict=True)}
        for nid, (name, text) in tracks.items():
            if not text.startswith(EPHEMERIS_PREFIX):
                raise ValueError("an ephemeris is given as OEM KVN text")
            rows[int(nid)] = (name, text)
        ids = sorted(rows)
        return CatalogPayload(tuple(ids), tuple(rows[i][0] for i in ids), tuple(rows[i][1] for i in ids))

    def ephemeris_ids(self) -> tuple[int, ...]:
        """Catalog numbers whose states come from an ephemeris (OEM) instead of an element set."""
        return tuple(
            nid
            for nid, t in zip(self.norad_ids, self.texts, strict=True)
            if isinstance(t, str) and t.startswith(EPHEMERIS_PREFIX)
        )

    @cached_property
    def digest(self) -> str:
        h = hashlib.sha256()
        for nid, text in zip(self.norad_ids, self.texts, strict=True):
            h.update(f"{nid}|{text}\n".encode())
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self.norad_ids)

    def __getstate__(self) -> dict:
        return {"norad_ids": self.norad_ids, "names": self.names, "texts": self.texts}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def satrecs(self) -> list[Satrec]:
        """SGP4 records, built once per process and payload."""
        cached = _CACHE.get(self.digest)
        if cached is not None and "_satrecs" in cached.__dict__:
            return cached.__dict__["_satrecs"]
        out = []
        for nid, name, text in zip(self.norad_ids, self.names, self.texts, strict=True):
            if isinstance(text, tuple):
                out.append(Satrec.twoline2rv(text[0], text[1]))
            elif text.startswith(EPHEMERIS_PREFIX):
                from ..ephemeris.track import EphemerisTrack

                out.append(EphemerisTrack.from_text(text, nid))
            else:
                out.append(ElementSet(norad_id=nid, name=name, fields=json.loads(text), format="omm").satrec())
        object.__setattr__(self, "_satrecs", out)
        _CACHE.pop(self.digest, None)
        _CACHE[self.digest] = self
        while len(_CACHE) > _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        return out

    def satrec_array(self) -> SatrecArray | None:
        """All records as one ``SatrecArray``; None when some objects fly an ephemeris."""
        if "_array" not in self.__dict__:
            sats = self.satrecs()
            plain = all(isinstance(s, Satrec) for s in sats)
            object.__setattr__(self, "_array", SatrecArray(sats) if plain else None)
        return self.__dict__["_array"]

    def orbit_shape(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean semi-major axis (km) and eccentricity from the initialised SGP4 records."""
        sats = self.satrecs()
        a = np.array([s.a for s in sats]) * EARTH_RADIUS_WGS72_KM
        e = np.array([s.ecco for s in sats])
        return a, e

    def deep_space(self) -> np.ndarray:
        """SDP4 objects (period >= 225 min)."""
        return np.array([s.method == "d" for s in self.satrecs()])

    def reentered(self) -> np.ndarray:
        """Mean perigee below 80 km altitude: the object has reentered, or its elements are bad."""
        a, e = self.orbit_shape()
        return a * (1.0 - e) < EARTH_RADIUS_WGS72_KM + MIN_PERIGEE_ALT_KM

    def max_speeds_km_s(self) -> np.ndarray:
        a, e = self.orbit_shape()
        return max_speed_km_s(a, e)
