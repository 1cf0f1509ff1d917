"""What a screening run is given (window, threshold, primaries, grid) and what each chunk returns.

These value types are shared by the screening engine (``screen.py``), the event merge
(``events.py``) and storage (runs are resumed from stored chunks), so they live apart from both:
imports point one way, ``screen -> events -> params``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from itertools import chain
from typing import TYPE_CHECKING

from ..constants import SECONDS_PER_DAY
from ..errors import InputError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_STEP_S = 300.0
DEFAULT_SUBSTEPS = 12
DEFAULT_CHUNK_DAYS = 0.5
# Docked vehicles sharing one element set are 0 km apart; a formation a few km apart keeps its
# minima and is a proximity span. Docked vehicles on a stale element set drift tens of km from
# their station in a day (ISS and NAUKA in the 2022-01-22 catalog: 16-66 km): ask for
# colocated_km = 100 to group them.
DEFAULT_COLOCATED_KM = 1.0
STATE_FLOATS = 12  # a refined minimum's states: r1, v1, r2, v2 (km, km/s)


@dataclass(frozen=True)
class ScreeningParams:
    """What a run screens: window start (UTC two-part JD), length, threshold, primaries."""

    start_jd: float
    start_fr: float
    days: float
    threshold_km: float
    primaries: tuple[int, ...] = ()
    step_s: float = DEFAULT_STEP_S
    substeps: int = DEFAULT_SUBSTEPS
    chunk_days: float = DEFAULT_CHUNK_DAYS
    # Pairs closer than this for the whole window are a co-located group (colocated.py); None:
    # DEFAULT_COLOCATED_KM or the threshold if smaller; 0 turns the detection off.
    colocated_km: float | None = None
    # Radial-shell prefilter of pairs (kernels.radial_shells): lossless, so on by default; off only
    # to measure what it saves (benchmarks/screen_prefilter.py).
    radial_filter: bool = True

    def __post_init__(self) -> None:
        if not self.days > 0:
            raise InputError(f"days must be positive, got {self.days}")
        if not self.threshold_km > 0:
            raise InputError(f"threshold_km must be positive, got {self.threshold_km}")
        if not self.step_s > 0 or self.substeps < 1:
            raise InputError("step_s must be positive and substeps >= 1")

    @property
    def colocation_km(self) -> float:
        """The co-location distance in effect (``colocated_km``, or the default capped by the threshold)."""
        if self.colocated_km is None:
            return min(self.threshold_km, DEFAULT_COLOCATED_KM)
        return self.colocated_km

    @property
    def duration_s(self) -> float:
        return self.days * SECONDS_PER_DAY

    @property
    def n_segments(self) -> int:
        return max(1, math.ceil(self.duration_s / self.step_s - 1e-9))

    def chunks(self) -> list[tuple[int, int]]:
        """Segment ranges [k0, k1) of each chunk, on one global node grid."""
        per = max(1, int(round(self.chunk_days * SECONDS_PER_DAY / self.step_s)))
        return [(k0, min(k0 + per, self.n_segments)) for k0 in range(0, self.n_segments, per)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ScreeningParams:
        d = json.loads(text)
        d["primaries"] = tuple(d.get("primaries", ()))
        return cls(**d)


@dataclass
class ChunkResult:
    """Refined minima of one chunk (indices into the payload; t in seconds from start)."""

    index: int
    i: list[int] = field(default_factory=list)
    j: list[int] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    miss_km: list[float] = field(default_factory=list)
    states: list[list[float]] = field(default_factory=list)  # r1, v1, r2, v2 (12 floats)
    failures: dict[int, str] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)
    # each object's SGP4 velocity mismatch in this chunk (km/s, payload order; NaN: not computed), which
    # an incremental update reuses (storage.screening_repo.save_mismatch); not part of the stored chunk
    mismatch: np.ndarray | None = None
    # with ``keep_nodes``: the node states and per-object values an incremental update reuses instead of
    # propagating the unchanged objects again (storage.kept_states: r, v, ok, bound, shells); not stored
    nodes: dict | None = None

    def to_json(self) -> str:
        # the fields as they are (asdict would deep-copy every state list first: ~1 s per 10^4 minima);
        # the states (12 floats per minimum) as the base64 of their float64 bytes: the same numbers
        # back, without json's shortest-repr of each float (2.4 of the 3.1 s that saving a 7-day
        # run's 14 chunks cost the parent while the workers ran, issue #18)
        import numpy as np

        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("mismatch", "nodes", "states")}
        if all(len(s) == STATE_FLOATS for s in self.states):
            flat = np.fromiter(chain.from_iterable(self.states), "<f8", count=STATE_FLOATS * len(self.states))
            d["states_f8"] = base64.b64encode(flat.tobytes()).decode("ascii")
        else:  # not a screening chunk's states: as JSON lists, as before
            d["states"] = self.states
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> ChunkResult:
        """A stored chunk, its states given either way (``states_f8``, or ``states`` lists as stored
        before the base64 form)."""
        import numpy as np

        d = json.loads(text)
        d["failures"] = {int(k): v for k, v in d["failures"].items()}
        packed = d.pop("states_f8", None)
        if packed is not None:
            d["states"] = np.frombuffer(base64.b64decode(packed), "<f8").reshape(-1, STATE_FLOATS).tolist()
        return cls(**d)


def iter_minima(chunks: Iterable[ChunkResult]) -> Iterator[tuple]:
    """Every refined minimum of the chunks: (i, j, t_s, miss_km, states), in chunk order."""
    for ch in chunks:
        yield from zip(ch.i, ch.j, ch.t, ch.miss_km, ch.states, strict=True)


__all__ = [
    "DEFAULT_CHUNK_DAYS",
    "DEFAULT_STEP_S",
    "DEFAULT_SUBSTEPS",
    "ChunkResult",
    "ScreeningParams",
    "iter_minima",
]
