"""Executors for independent chunks: in-process, a local process pool, or dask.distributed."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

_PAYLOAD: Any = None


def _init_worker(payload: Any) -> None:
    global _PAYLOAD
    _PAYLOAD = payload


def _run_with_global(fn: Callable, params: Any, index: int) -> Any:
    return fn(_PAYLOAD, params, index)


def map_chunks(
    fn: Callable[[Any, Any, int], Any],
    payload: Any,
    params: Any,
    indices: Sequence[int],
    on_result: Callable[[Any], None],
    *,
    workers: int | None = None,
    dask_address: str | None = None,
) -> None:
    """Run ``fn(payload, params, i)`` for each index; ``on_result`` sees results as they land.

    The payload travels once per worker (pool initializer, or a dask scatter), not per chunk.
    """
    if not indices:
        return
    if dask_address:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        with Client(dask_address) as client:
            remote = client.scatter(payload, broadcast=True)
            futures = [client.submit(fn, remote, params, i, pure=False) for i in indices]
            try:
                for fut in dask_completed(futures):
                    on_result(fut.result())
            except BaseException:
                client.cancel(futures)
                raise
        return
    workers = workers or os.cpu_count() or 1
    workers = min(workers, len(indices))
    if workers <= 1:
        for i in indices:
            on_result(fn(payload, params, i))
        return
    ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(payload,))
    try:
        futures = [pool.submit(_run_with_global, fn, params, i) for i in indices]
        for fut in as_completed(futures):
            on_result(fut.result())
    except BaseException:
        # Ctrl-C or a failure: stop at once. A plain shutdown would first run every queued chunk.
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
