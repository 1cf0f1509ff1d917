"""The node states a full screening run keeps for its incremental updates (issue #18, target 2).

Per run, a directory of plain NumPy files beside the database (not rows: ~333 MB per run-day for 24k
objects): for each chunk, every object's SGP4 positions and velocities at the chunk's nodes (float64,
the bits the run screened with, velocities already repaired where the run repaired them), whether each
node is screened (``ok``), each object's interpolation-error bound and its radial shell over the chunk.
An update reads them memory-mapped and propagates only the changed objects
(``conjunction.incremental.screen_changed``).

``meta.json`` says what the files describe: the run id, its parameters, the digest of the catalog (in
the catalog's order), the object count and the chunks written, and each array's XOR fold (``_fold``:
damaged content inside a file of the right shape is caught on opening, for one pass over the bytes).
:func:`open_kept` returns the arrays only when all of it matches the run as stored and every chunk's
files have the expected shapes and folds; anything else (missing, stale, foreign, truncated,
corrupt) returns None and the update takes the path without kept states, which gives the same events.
Where the directory lives:
``SPACECOMMONS_SCREENING_KEEP_DIR`` if set (``off``: keep nothing), else ``<database file>.kept/``
beside a SQLite file database; in-memory SQLite and other databases keep nothing unless the setting
names a directory. Runs whose kept states would exceed ``SPACECOMMONS_SCREENING_KEEP_MAX_MB``
(default 1024) keep nothing; all runs' kept states under one root stay within
``SPACECOMMONS_SCREENING_KEEP_TOTAL_MB`` (default 4096): a new run's push out the least recently
written (:func:`prune`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from ..conjunction.catalog_payload import CatalogPayload
    from ..conjunction.params import ScreeningParams

FORMAT = 2  # 2: the meta holds each array's XOR fold (``_fold``)
DEFAULT_MAX_MB = 1024
DEFAULT_TOTAL_MB = 4096
# An update writes its rows in place through the page cache (an msync of the scattered rows cost 0.7 s
# of a 1% update on the 2022 catalog) and lists them in the meta with their CRC; once the listed rows
# pass this share of the catalog the files are synced and the list starts again.
SYNC_ROWS = 0.05
_ARRAYS = ("r", "v", "ok", "bound", "shells")


def keep_root(bind: Any) -> Path | None:
    """The directory that holds kept states for the database ``bind`` (an Engine or URL), or None."""
    setting = os.environ.get("SPACECOMMONS_SCREENING_KEEP_DIR", "")
    if setting.strip().lower() == "off":
        return None
    if setting:
        return Path(setting)
    url = getattr(bind, "url", bind)
    if url is None or getattr(url, "get_backend_name", lambda: "")() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database + ".kept")


def _megabytes(name: str, default: int) -> int:
    """Bytes from the setting ``name`` in MiB (``default`` when unset); a value that is not a
    non-negative number is an error naming the setting, not a silent default."""
    from ..errors import InputError

    text = os.environ.get(name, "").strip()
    if not text:
        return default * 2**20
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not mb >= 0:  # also NaN
        raise InputError(f"{name}={text!r}: give a size in MiB (a number >= 0)")
    return int(mb * 2**20)


def max_bytes() -> int:
    """The size cap of one run's kept states (``SPACECOMMONS_SCREENING_KEEP_MAX_MB``, default 1024)."""
    return _megabytes("SPACECOMMONS_SCREENING_KEEP_MAX_MB", DEFAULT_MAX_MB)


def total_bytes() -> int:
    """The cap of all runs' kept states under one root (``SPACECOMMONS_SCREENING_KEEP_TOTAL_MB``,
    default 4096): a new run's states push out the least recently written other runs'."""
    return _megabytes("SPACECOMMONS_SCREENING_KEEP_TOTAL_MB", DEFAULT_TOTAL_MB)


def _dir_bytes(path: Path) -> int:
    total = 0
    for f in path.iterdir():
        with contextlib.suppress(OSError):  # a file removed meanwhile
            total += f.stat().st_size
    return total


def prune(root: Path, keep_run: int, need: int) -> list[int]:
    """Remove whole kept-state directories of runs other than ``keep_run``, least recently written
    first (their ``meta.json``), until they and ``need`` more bytes fit in :func:`total_bytes`.
    They are a cache: a run without them is updated by the path without kept states (same events).
    Returns the run ids removed."""
    cap = total_bytes()
    others = []
    for path in root.glob("run-*"):
        run = path.name[4:]
        if not run.isdigit() or int(run) == keep_run or not path.is_dir():
            continue
        try:
            written = (path / "meta.json").stat().st_mtime
        except OSError:
            written = 0.0
        others.append((written, int(run), path, _dir_bytes(path)))
    used = sum(size for *_, size in others)
    removed = []
    for _, run, path, size in sorted(others):
        if used + need <= cap:
            break
        shutil.rmtree(path, ignore_errors=True)
        used -= size
        removed.append(run)
    return removed


def size_bytes(params: ScreeningParams, n_objects: int) -> int:
    """Bytes of a run's kept states: per chunk and object, 48 per node (r, v), 1 per node (ok), 24."""
    nodes = sum(k1 - k0 + 1 for k0, k1 in params.chunks())
    return n_objects * (49 * nodes + 24 * len(params.chunks()))


def run_dir(root: Path, run_id: int) -> Path:
    return root / f"run-{run_id}"


def _meta(
    run_id: int,
    params: ScreeningParams,
    digest: str | None,
    n: int,
    chunks: list[int],
    rows=None,
    crc=None,
    folds: dict | None = None,
) -> dict:
    """What the files describe. ``rows``, ``crc``: the rows written in place by updates since the files
    were last synced to disk, and the CRC-32 of their values (``_rows_crc``), checked on opening.
    ``folds``: {chunk (text): {array: its XOR fold (``_fold``)}}, checked on opening."""
    return {
        "format": FORMAT,
        "run_id": run_id,
        "params": params.to_json(),
        "digest": digest,
        "n_objects": n,
        "chunks": sorted(chunks),
        "rows": [] if rows is None else [int(i) for i in rows],
        "crc": crc,
        "folds": {str(k): dict(v) for k, v in (folds or {}).items()},
    }


def _fold(a) -> int:
    """The XOR of an array's bytes taken as little-endian 64-bit words (the last one zero-padded): one
    pass at memory speed (0.04 s for a run-day's 326 MiB on the 2022 catalog, where a CRC-32 takes
    0.18 s), and it can be brought up to date from the rows an update rewrites (``_refold``). Any
    damage confined to one word changes it; damage that cancels out (the same bits flipped in two
    words, words swapped) does not (docs/screening.md)."""
    import numpy as np

    b = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    k = b.size - b.size % 8
    x = int(np.bitwise_xor.reduce(b[:k].view("<u8"))) if k else 0
    if k < b.size:
        tail = np.zeros(8, dtype=np.uint8)
        tail[: b.size - k] = b[k:]
        x ^= int(tail.view("<u8")[0])
    return x


def _refold(x: int, old, new) -> int:
    """Fold ``x`` of an array whose whole-word rows ``old`` (as they were) became ``new``."""
    return x ^ _fold(old) ^ _fold(new)


def _rows_crc(chunks: dict, rows) -> int:
    """CRC-32 of the values of ``rows`` in every chunk's arrays (chunk and array order fixed)."""
    import zlib

    import numpy as np

    crc = 0
    for index in sorted(chunks):
        for name in _ARRAYS:
            a = chunks[index][name]
            part = a[:, rows] if name == "shells" else a[rows]
            crc = zlib.crc32(np.ascontiguousarray(part).tobytes(), crc)
    return crc


def _write_meta(path: Path, meta: dict) -> None:
    tmp = path / "meta.json.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, path / "meta.json")


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return None


class KeptWriter:
    """Writes a run's kept states chunk by chunk (``run_screening``'s per-chunk hook). A directory
    left by an earlier attempt of the same run on the same catalog keeps its chunks (resume); any
    other is replaced."""

    def __init__(self, root: Path, run_id: int, params: ScreeningParams, payload: CatalogPayload) -> None:
        self.path = run_dir(root, run_id)
        prune(root, run_id, size_bytes(params, len(payload)))
        self.run_id, self.params, self.digest, self.n = run_id, params, payload.digest, len(payload)
        meta = _read_meta(self.path)
        same = meta is not None and meta == _meta(
            run_id, params, self.digest, self.n, meta.get("chunks", []), folds=meta.get("folds")
        )
        if not same:
            shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True, exist_ok=True)
        self.chunks: list[int] = list(meta["chunks"]) if same else []
        self.folds: dict = dict(meta["folds"]) if same else {}
        _write_meta(self.path, _meta(run_id, params, self.digest, self.n, self.chunks, folds=self.folds))

    broken = False

    def save(self, index: int, nodes: dict) -> None:
        """Chunk ``index``'s arrays (``ChunkResult.nodes``); the meta names it once its files are there.
        A write that fails (disk full, permissions) removes the run's kept states: the run goes on and
        its updates take the path without them."""
        if self.broken:
            return
        try:
            self._save(index, nodes)
        except OSError:
            self.broken = True
            shutil.rmtree(self.path, ignore_errors=True)

    def _save(self, index: int, nodes: dict) -> None:
        import numpy as np

        folds = {}
        for name in _ARRAYS:
            tmp = self.path / f"{name}{index}.tmp.npy"
            a = np.ascontiguousarray(nodes[name])
            np.save(tmp, a)
            os.replace(tmp, self.path / f"{name}{index}.npy")
            folds[name] = _fold(a)
        if index not in self.chunks:
            self.chunks.append(index)
        self.folds[str(index)] = folds
        _write_meta(self.path, _meta(self.run_id, self.params, self.digest, self.n, self.chunks, folds=self.folds))


@dataclass
class Kept:
    """A run's kept states, memory-mapped copy-on-write: ``chunks[index][name]`` (``_ARRAYS``).
    ``check``: the comparison of the files' folds with the meta's, when ``open_kept`` left it to a
    thread (``intact``)."""

    path: Path
    chunks: dict[int, dict[str, np.ndarray]]
    check: Any = None

    def intact(self) -> bool:
        """Whether every file's XOR fold is the one in the meta (waits for the thread that compares
        them, if ``open_kept`` started one). Ask before anything computed from the arrays is kept."""
        return True if self.check is None else bool(self.check.result())


def _folds_match(path: Path, folds: dict, chunks: list[int]) -> bool:
    """The files' XOR folds (read through their own read-only maps: not the copy-on-write rows an
    update writes) == ``folds`` of the meta."""
    import numpy as np

    try:
        for index in chunks:
            for name in _ARRAYS:
                a = np.load(path / f"{name}{index}.npy", mmap_mode="r", allow_pickle=False)
                if _fold(a) != folds.get(str(index), {}).get(name):
                    return False
    except (OSError, ValueError, EOFError):
        return False
    return True


def open_kept(
    root: Path | None, run_id: int, params: ScreeningParams, digest: str, n: int, *, background: bool = False
) -> Kept | None:
    """The kept states of run ``run_id`` if they describe exactly this run (parameters, catalog digest,
    object count, every chunk with arrays of the right shapes and types and the XOR folds of the
    meta); None otherwise. ``background``: the folds are compared in a thread while the caller goes on
    (one pass over every byte: ~0.05 s for a run-day of the 2022 catalog, on a core the update's
    propagation leaves idle); the caller asks ``Kept.intact()`` before it keeps any result."""
    import numpy as np

    if root is None:
        return None
    path = run_dir(root, run_id)
    meta = _read_meta(path)
    chunks = params.chunks()
    if meta is None or meta != _meta(
        run_id, params, digest, n, list(range(len(chunks))), meta.get("rows"), meta.get("crc"), meta.get("folds")
    ):
        return None
    out: dict[int, dict[str, np.ndarray]] = {}
    try:
        for index, (k0, k1) in enumerate(chunks):
            m = k1 - k0 + 1
            want = {
                "r": ((n, m, 3), np.float64),
                "v": ((n, m, 3), np.float64),
                "ok": ((n, m), np.bool_),
                "bound": ((n,), np.float64),
                "shells": ((2, n), np.float64),
            }
            arrays = {}
            for name, (shape, dtype) in want.items():
                a = np.load(path / f"{name}{index}.npy", mmap_mode="c", allow_pickle=False)
                if a.shape != shape or a.dtype != dtype:
                    return None
                arrays[name] = a
            out[index] = arrays
    except (OSError, ValueError, EOFError):
        return None
    # rows written in place by updates and not yet synced: a crash before the page cache reached the disk
    # leaves other values under this meta, which the CRC tells
    if meta["rows"] and _rows_crc(out, np.asarray(meta["rows"], dtype=np.int64)) != meta["crc"]:
        return None
    # damaged content in a file of the right shape (bit rot, a zeroed or overwritten block)
    if not background:
        return Kept(path, out) if _folds_match(path, meta["folds"], list(out)) else None
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1, thread_name_prefix="kept-folds")
    check = pool.submit(_folds_match, path, meta["folds"], list(out))
    pool.shutdown(wait=False)
    return Kept(path, out, check)


def invalidate(root: Path | None, run_id: int) -> None:
    """Mark a run's kept states as describing no catalog (before they are rewritten)."""
    if root is None:
        return
    path = run_dir(root, run_id)
    meta = _read_meta(path)
    if meta is not None:
        _write_meta(path, {**meta, "digest": None})


def rewrite(
    root: Path, run_id: int, params: ScreeningParams, payload: CatalogPayload, rows, chunks: dict[int, dict]
) -> None:
    """After an update: the kept states of ``payload`` (the run's new catalog). ``rows``: positions
    whose values changed, written in place when the object count is the files' (``chunks`` holds
    every object's arrays per chunk, the merged ones); else every file is written anew. The meta
    names the new digest only once everything is written (first it names none)."""
    import numpy as np

    path = run_dir(root, run_id)
    meta = _read_meta(path)
    invalidate(root, run_id)
    in_place = meta is not None and meta.get("n_objects") == len(payload)
    rows = np.asarray(rows, dtype=np.int64)
    # rows written in place since the last sync; past 5% of the catalog the files are synced instead
    pending = np.union1d(np.asarray(meta.get("rows", []) if in_place else [], dtype=np.int64), rows)
    sync = not in_place or pending.size > SYNC_ROWS * len(payload)
    old_folds = meta.get("folds", {}) if in_place else {}
    folds: dict[str, dict[str, int]] = {}
    for index, arrays in chunks.items():
        folds[str(index)] = fold = {}
        for name in _ARRAYS:
            target = path / f"{name}{index}.npy"
            if in_place:
                mm = np.load(target, mmap_mode="r+", allow_pickle=False)
                new = arrays[name][:, rows] if name == "shells" else arrays[name][rows]
                if name in ("r", "v"):  # rows of whole 64-bit words: the fold follows the rows rewritten
                    fold[name] = _refold(old_folds.get(str(index), {}).get(name, 0), mm[rows], new)
                if name == "shells":
                    mm[:, rows] = new
                else:
                    mm[rows] = new
                if name not in fold:  # small arrays (ok: rows not word-aligned): folded whole
                    fold[name] = _fold(mm)
                if sync:
                    mm.flush()
                del mm
            else:
                tmp = path / f"{name}{index}.tmp.npy"
                a = np.ascontiguousarray(arrays[name])
                np.save(tmp, a)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(tmp, target)
                fold[name] = _fold(a)
    if sync:
        pending = np.zeros(0, dtype=np.int64)
    crc = _rows_crc(chunks, pending) if pending.size else None
    _write_meta(path, _meta(run_id, params, payload.digest, len(payload), list(chunks), pending, crc, folds))


def delete(root: Path | None, run_id: int) -> None:
    """Remove a run's kept states (with the run)."""
    if root is not None:
        shutil.rmtree(run_dir(root, run_id), ignore_errors=True)


__all__ = [
    "DEFAULT_MAX_MB",
    "DEFAULT_TOTAL_MB",
    "Kept",
    "KeptWriter",
    "delete",
    "invalidate",
    "keep_root",
    "max_bytes",
    "open_kept",
    "prune",
    "rewrite",
    "size_bytes",
    "total_bytes",
]
