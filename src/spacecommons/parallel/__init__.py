"""Executors for independent chunks: in-process, a local process pool, or dask.distributed.

``dask_address`` is a scheduler address (``tcp://host:8786``, the same code on any cluster) or
``local`` / ``local:N``: a ``LocalCluster`` of N worker processes (default: the cores) with one
thread each, started for the call and closed after it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

_PAYLOAD: Any = None
LOCAL = "local"
DEFAULT_WORKER_MEMORY = "4GiB"
"""Memory limit of each worker of a ``local`` cluster (Dask pauses a worker at 80% of it and
restarts it at 95%); issue #18 asks for at most 4 GiB per worker. Override with the
``SPACECOMMONS_DASK_WORKER_MEMORY`` environment variable (a Dask size such as ``6GiB``)."""


def local_workers(address: str) -> int | None:
    """N of ``local:N`` (None for ``local``); raises ValueError for anything else after ``local``."""
    if address == LOCAL:
        return None
    head, _, count = address.partition(":")
    if head != LOCAL or not count.isdigit() or int(count) < 1:
        raise ValueError(f"dask address {address!r}: expected a scheduler address, 'local' or 'local:N' (N >= 1)")
    return int(count)


def is_local(address: str) -> bool:
    return address == LOCAL or address.startswith(LOCAL + ":")


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``dask.distributed.Client`` on ``address``, or on a ``LocalCluster`` for ``local[:N]``."""
    from dask.distributed import Client

    if not is_local(address):
        with Client(address) as client:
            yield client
        return
    from dask.distributed import LocalCluster

    n = local_workers(address) or os.cpu_count() or 1
    memory = os.environ.get("SPACECOMMONS_DASK_WORKER_MEMORY", DEFAULT_WORKER_MEMORY)
    with (
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _init_worker(payload: Any) -> None:
    global _PAYLOAD
    _PAYLOAD = payload


def _run_with_global(fn: Callable, params: Any, index: int) -> Any:
    return fn(_PAYLOAD, params, index)


def runs_in_process(workers: int | None, n_tasks: int, dask_address: str | None = None) -> bool:
    """Whether :func:`map_chunks` runs its tasks in the calling process (no pool, no Dask)."""
    if dask_address:
        return False
    return n_tasks <= 1 or min(workers or os.cpu_count() or 1, n_tasks) <= 1


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
        from dask.distributed import as_completed as dask_completed

        with dask_client(dask_address) as client:
            remote = client.scatter(payload, broadcast=True)
            futures = [client.submit(fn, remote, params, i, pure=False) for i in indices]
            try:
                for fut in dask_completed(futures):
                    on_result(fut.result())
            except BaseException:
                client.cancel(futures)
                raise
        return
    if runs_in_process(workers, len(indices)):
        for i in indices:
            on_result(fn(payload, params, i))
        return
    workers = min(workers or os.cpu_count() or 1, len(indices))
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
    # Every result is in: the workers exit (and are joined by the executor's own thread) while the
    # caller goes on; waiting here cost ~1 s of a 7-day screening's serial tail (interpreter teardown).
    pool.shutdown(wait=False)
