"""Conjunction events: refined minima merged into encounters and proximity spans."""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..frames import rtn_basis
from ..textguard import CSV_FORMULA_START, csv_safe
from ..timescales import jd_to_iso
from .catalog_payload import CatalogPayload
from .params import ChunkResult, ScreeningParams, iter_minima
from .refine import distances

SAME_MINIMUM_S = 1e-3
COLUMNS = (
    "id1",
    "name1",
    "id2",
    "name2",
    "tca",
    "miss_km",
    "speed_km_s",
    "r_km",
    "t_km",
    "n_km",
    "kind",
    "span_start",
    "span_end",
    "n_minima",
)


@dataclass(frozen=True)
class ConjunctionEvent:
    """One row: an encounter, or a proximity span reported at its closest minimum.

    ``r_km, t_km, n_km``: miss vector (object 2 - object 1) in object 1's RTN frame at TCA.
    """

    id1: int
    name1: str
    id2: int
    name2: str
    tca: str
    miss_km: float
    speed_km_s: float
    r_km: float
    t_km: float
    n_km: float
    kind: str
    span_start: str
    span_end: str
    n_minima: int
    tca_s: float  # seconds after the window start (not written to files)


class ConjunctionEvents(list):
    """Events sorted by TCA; writes CSV, JSON and (with pyarrow) Parquet."""

    def rows(self) -> list[dict]:
        return [dict(zip(COLUMNS, t, strict=True)) for t in self.tuples()]

    def tuples(self) -> list[tuple]:
        """Each event's values in :data:`COLUMNS` order (one C-level attribute fetch per event)."""
        return list(map(_ROW, self))

    def write(self, path: str | Path) -> None:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            with paused_gc():
                self._write_csv(path)
        elif suffix == ".json":
            path.write_text(json.dumps(self.rows(), indent=1) + "\n")
        elif suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise RuntimeError("Parquet output needs pyarrow: pip install 'spacecommons[parquet]'") from exc
            rows = self.rows()
            table = pa.table({c: [r[c] for r in rows] for c in COLUMNS})
            pq.write_table(table, path)
        else:
            raise InputError(f"unknown output format {suffix!r}: use .csv, .json or .parquet")

    def _write_csv(self, path: Path) -> None:
        rows = self.tuples()
        with path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            text = _csv_lines(rows) if rows else ""
            if text is None:  # mixed types in a column: cell by cell, as before
                fmt = _csv_cell
                w.writerows([[fmt(v) for v in row] for row in rows])
            else:
                f.write(text)


_ROW = attrgetter(*COLUMNS)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and back on after it, if it was on).

    The parent's serial tail of a screening run (merge, store, CSV) creates a few 10^5 objects that
    are never part of a cycle (tuples, events, strings), and each generation-2 collection they
    trigger walks every live container, the chunks' minima included: 2-4 s of a 7-day run's merge
    (benchmarks/README.md, branch ``tail``). Reference counting still frees everything at once."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _csv_cell(v):
    return f"{v:.6f}" if isinstance(v, float) else csv_safe(v) if isinstance(v, str) else v


def _csv_lines(rows: list[tuple]) -> str | None:
    """The CSV text (``csv.writer``'s default dialect: minimal quoting, CRLF) of event rows whose
    columns each hold one type (float, int or str): one ``%`` template per row, floats with 6
    decimals, text through ``csv_safe`` -- what the per-value ``DictWriter`` loop wrote (issue #18:
    5 s of the 7-day run's 161,778 events). ``None`` for rows of mixed types (the caller writes
    those cell by cell)."""
    columns = list(zip(*rows, strict=True))
    parts, prepared = [], []
    for col in columns:
        kinds = set(map(type, col))
        if kinds == {float}:
            parts.append("%.6f")
            prepared.append(col)
        elif kinds == {int}:
            parts.append("%d")
            prepared.append(col)
        elif kinds == {str}:
            parts.append("%s")
            prepared.append(_csv_text_column(col))
        else:
            return None
    template = ",".join(parts)
    return "".join([template % row + "\r\n" for row in zip(*prepared, strict=True)])


_QUOTED = (",", '"', "\r", "\n")  # csv.QUOTE_MINIMAL quotes a field holding one of these


def _csv_text_column(col: tuple[str, ...]) -> tuple[str, ...] | list[str]:
    """A text column as CSV fields: ``csv_safe`` of each value, quoted as ``csv.writer`` quotes it.
    Checked on the whole column at once; a column that needs neither is returned as it is."""
    joined = " ".join(col)
    formula = col[0].startswith(CSV_FORMULA_START) or any(" " + c in joined for c in CSV_FORMULA_START)
    if joined.isascii() and joined.isprintable() and not formula and not any(c in joined for c in _QUOTED):
        return col  # printable ASCII, no formula start, nothing to quote: csv_safe(v) == v, unquoted
    safe: dict[str, str] = {}
    out = []
    for v in col:
        cell = safe.get(v)
        if cell is None:
            cell = csv_safe(v)
            if any(c in cell for c in _QUOTED):
                cell = '"' + cell.replace('"', '""') + '"'
            safe[v] = cell
        out.append(cell)
    return out


def _dedupe(items: list[tuple]) -> list[tuple]:
    """Drop minima of the same pair within a millisecond of each other (found twice)."""
    items.sort(key=_PAIR_TIME)
    out: list[tuple] = []
    for m in items:
        if out and out[-1][0] == m[0] and out[-1][1] == m[1] and abs(out[-1][2] - m[2]) < SAME_MINIMUM_S:
            if m[3] < out[-1][3]:
                out[-1] = m
            continue
        out.append(m)
    return out


def _stays_close(s1, s2, jd: float, fr: float, t_a: float, t_b: float, threshold: float, speed: float) -> bool:
    """True when the SGP4 distance stays below the threshold all the way from t_a to t_b.

    Sampled at a step short enough that the pair cannot leave and re-enter the threshold
    sphere unseen at the relative speed near the minima (capped at 2,000 samples per gap).
    """
    # one probe first: a pair closing at `speed` is beyond the threshold 2 threshold/speed
    # after its minimum (relative acceleration bends that path by metres only)
    probe = t_a + min(0.5 * (t_b - t_a), 2.0 * threshold / max(speed, 1e-6))
    if distances(s1, s2, jd, fr, np.array([probe]))[0] >= threshold:
        return False
    # then a few coarse samples: pairs that meet again after half an orbit fail at once
    coarse = np.linspace(t_a, t_b, 9)[1:-1]
    if coarse.size and not np.all(distances(s1, s2, jd, fr, coarse) < threshold):
        return False
    step = min(60.0, max(0.05, 0.2 * threshold / max(speed, 1e-6)))
    count = int(min(2000, max(2, np.ceil((t_b - t_a) / step))))
    t = np.linspace(t_a, t_b, count + 1)[1:-1]
    if t.size == 0:
        return True
    return bool(np.all(distances(s1, s2, jd, fr, t) < threshold))


def build_events(payload: CatalogPayload, params: ScreeningParams, chunks: list[ChunkResult]) -> ConjunctionEvents:
    """Merge refined minima of all chunks into events, deterministic whatever the executor."""
    minima = _dedupe(list(iter_minima(chunks)))
    sats = payload.satrecs()
    groups: list[list[tuple]] = []
    for m in minima:
        last = groups[-1][-1] if groups else None
        if last is not None and last[0] == m[0] and last[1] == m[1]:
            speed = float(np.linalg.norm(np.subtract(last[4][9:12], last[4][3:6])))
            if _stays_close(
                sats[m[0]], sats[m[1]], params.start_jd, params.start_fr, last[2], m[2], params.threshold_km, speed
            ):
                groups[-1].append(m)
                continue
        groups.append([m])
    primaries = set(params.primaries)
    best = [min(g, key=_MISS) if len(g) > 1 else g[0] for g in groups]
    if not best:
        return ConjunctionEvents()
    # one flat pass over the 12 floats of each minimum (a list of lists through np.array: 4x slower)
    st = np.fromiter(chain.from_iterable([b[4] for b in best]), dtype=float, count=12 * len(best)).reshape(-1, 12)
    first = np.array([b[0] for b in best])
    second = np.array([b[1] for b in best])
    ids = np.asarray(payload.norad_ids)
    if primaries:
        swap = ~np.isin(ids[first], list(primaries)) & np.isin(ids[second], list(primaries))
        first, second = np.where(swap, second, first), np.where(swap, first, second)
        st = np.where(swap[:, None], np.concatenate([st[:, 6:], st[:, :6]], axis=1), st)
    r1, v1, r2, v2 = st[:, 0:3], st[:, 3:6], st[:, 6:9], st[:, 9:12]
    rtn = np.einsum("nij,nj->ni", rtn_basis(r1, v1), r2 - r1)
    speed = np.linalg.norm(v2 - v1, axis=1)
    tca_text = _iso_many(params, np.array([b[2] for b in best]))
    spans = [q for q, g in enumerate(groups) if len(g) > 1]
    start_text = dict(zip(spans, _iso_many(params, np.array([groups[q][0][2] for q in spans])), strict=True))
    end_text = dict(zip(spans, _iso_many(params, np.array([groups[q][-1][2] for q in spans])), strict=True))
    # plain Python values for the rows (one conversion per array, not one NumPy scalar per field)
    norad, names = payload.norad_ids, payload.names
    rows = zip(first.tolist(), second.tolist(), best, groups, speed.tolist(), rtn.tolist(), strict=True)
    events = ConjunctionEvents()
    append = events.append
    for q, (i, j, b, g, v, (rr, tt, nn)) in enumerate(rows):
        if len(g) > 1:
            kind, span_start, span_end = "proximity", start_text[q], end_text[q]
        else:
            kind, span_start, span_end = "encounter", "", ""
        append(
            ConjunctionEvent(
                int(norad[i]),
                names[i],
                int(norad[j]),
                names[j],
                tca_text[q],
                float(b[3]),
                v,
                rr,
                tt,
                nn,
                kind,
                span_start,
                span_end,
                len(g),
                float(b[2]),
            )
        )
    events.sort(key=_ORDER)
    return events


_MISS = itemgetter(3)  # a minimum's miss distance
_PAIR_TIME = itemgetter(0, 1, 2)  # a minimum's (i, j, t)
_ORDER = attrgetter("tca_s", "id1", "id2")  # events by TCA, then pair


def _iso_many(params: ScreeningParams, t: np.ndarray) -> list[str]:
    """ISO-8601 UTC with milliseconds and Z for seconds after the window start (vectorised;
    rounds to the nearest millisecond like ``jd_to_iso``)."""
    start_us = np.datetime64(jd_to_iso(params.start_jd, params.start_fr, 6).rstrip("Z"), "us").astype(np.int64)
    ms = start_us // 1000 + np.round((start_us % 1000 + np.asarray(t, float) * 1e6) / 1000.0).astype(np.int64)
    return [f"{x}Z" for x in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")]


__all__ = ["COLUMNS", "ConjunctionEvent", "ConjunctionEvents", "build_events", "paused_gc"]
