"""One bounded job queue for expensive work, with per-partner concurrency limits and quotas.

Screening runs, NEO approaches and risk, Monte Carlo Pc and catalog-wide CZML cost seconds to
minutes of CPU each; run inline, a few callers stall the server for everyone. Every such job goes
through one :class:`JobQueue`:

- a fixed pool of worker threads (the global concurrency limit);
- at most ``per_partner_running`` jobs of one partner run at once, so one partner cannot hold
  every worker: the next queued job of another partner runs first; jobs may also name a
  ``group`` (e.g. a webhook's receiver host), of which at most ``per_group_running`` run at once;
- at most ``per_partner_queued`` jobs of one partner wait, and ``max_queued`` in all: a full
  queue refuses with :class:`QueueFull` (the service answers 503 with ``Retry-After``);
- at most ``per_partner_per_hour`` submissions per partner in any hour (sliding window on an
  injected clock): beyond it :class:`QuotaExceeded` (429 with ``Retry-After``);
- states ``queued -> running -> done | failed | cancelled``; a cancelled queued job never runs,
  a running one sees its :class:`CancelToken` set and stops at its next check;
- results by job id, shown only to the partner that submitted the job (ids are random, too).

A failure's text shown to the partner is the library's own message for a
:class:`~spacecommons.errors.SpacecommonsError` (bad input the partner can fix) and
``"internal error"`` otherwise; the exception itself stays on the job for the server's log.
Pure Python, no database: a job's lasting record (a screening run's rows) is the job's own business.
"""

from __future__ import annotations

import enum
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpacecommonsError

HOUR_S = 3600.0


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


class JobRefused(SpacecommonsError):
    """A job not accepted; ``retry_after_s`` is for the ``Retry-After`` header."""

    status_code = 503

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QueueFull(JobRefused):
    """The server's queue is full (HTTP 503)."""

    status_code = 503


class QuotaExceeded(JobRefused):
    """This partner has too many jobs waiting, or used its hourly quota (HTTP 429)."""

    status_code = 429


class JobCancelled(SpacecommonsError):
    """Raised by :meth:`CancelToken.raise_if_cancelled`; ends a job as ``cancelled``."""


class CancelToken:
    """Handed to each job function: check it between steps of the work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled("cancelled")


@dataclass
class Job:
    """One job; read it through :meth:`JobQueue.get`, which hands out a copy."""

    id: str
    partner: str
    kind: str
    fn: Callable[[CancelToken], Any] = field(repr=False)
    submitted_at: float
    group: str | None = None
    state: JobState = JobState.QUEUED
    started_at: float | None = None
    finished_at: float | None = None
    result: Any = None
    error: str | None = None  # safe to show the partner
    exception: BaseException | None = field(default=None, repr=False)  # for the server's log only
    token: CancelToken = field(default_factory=CancelToken, repr=False)


@dataclass(frozen=True)
class JobView:
    """What a partner may see of a job."""

    id: str
    kind: str
    state: JobState
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    result: Any
    error: str | None


class JobQueue:
    """The bounded queue; ``clock`` (seconds, monotonic) is injected so tests drive the quotas."""

    def __init__(
        self,
        workers: int = 2,
        *,
        max_queued: int = 64,
        per_partner_running: int = 1,
        per_partner_queued: int = 8,
        per_partner_per_hour: int = 120,
        per_group_running: int = 1,
        keep_finished: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1 or per_partner_running < 1 or per_group_running < 1:
            raise ValueError("workers, per_partner_running and per_group_running must be at least 1")
        self.max_queued, self.per_partner_running = max_queued, per_partner_running
        self.per_group_running = per_group_running
        self.per_partner_queued, self.per_partner_per_hour = per_partner_queued, per_partner_per_hour
        self.keep_finished, self.clock = keep_finished, clock
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._finished: deque[str] = deque()
        self._running: dict[str, int] = {}
        self._group_running: dict[str, int] = {}
        self._submitted: dict[str, deque[float]] = {}
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"spacecommons-job-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    # -- submitting -------------------------------------------------------------------------
    def submit(
        self, partner: str, fn: Callable[[CancelToken], Any], kind: str = "job", group: str | None = None
    ) -> str:
        """Queue ``fn(token)`` for ``partner`` (in ``group``, if given); its id, or
        :class:`QueueFull` / :class:`QuotaExceeded`."""
        now = self.clock()
        with self._cond:
            if self._closed:
                raise QueueFull("the server is shutting down", 30.0)
            history = self._submitted.setdefault(partner, deque())
            while history and now - history[0] >= HOUR_S:
                history.popleft()
            if len(history) >= self.per_partner_per_hour:
                wait = history[0] + HOUR_S - now
                raise QuotaExceeded(f"quota of {self.per_partner_per_hour} jobs per hour used", wait)
            mine = sum(1 for j in self._queue if j.partner == partner)
            if mine >= self.per_partner_queued:
                raise QuotaExceeded(f"{mine} of your jobs are already waiting", 10.0)
            if len(self._queue) >= self.max_queued:
                raise QueueFull("the server's job queue is full", 30.0)
            history.append(now)
            job = Job(secrets.token_urlsafe(12), partner, kind, fn, now, group)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._cond.notify_all()
            return job.id

    # -- reading ----------------------------------------------------------------------------
    def get(self, job_id: str, partner: str | None) -> JobView | None:
        """The job as ``partner`` may see it; None when unknown or another partner's
        (``partner=None`` is the server itself, which sees every job)."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or (partner is not None and job.partner != partner):
                return None
            return self._view(job)

    @staticmethod
    def _view(job: Job) -> JobView:
        return JobView(
            job.id, job.kind, job.state, job.submitted_at, job.started_at, job.finished_at, job.result, job.error
        )

    def wait(self, job_id: str, states: frozenset[JobState] = FINISHED, timeout: float | None = None) -> JobView:
        """Block until the job is in one of ``states`` (finished by default); TimeoutError otherwise."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                raise KeyError(f"no job {job_id} (unknown, or finished and forgotten)")
            if not self._cond.wait_for(lambda: job.state in states, timeout):
                raise TimeoutError(f"job {job_id} still {job.state}")
            return self._view(job)

    def counts(self) -> dict[str, int]:
        """Queued and running jobs in all (for metrics and ``Retry-After`` estimates)."""
        with self._cond:
            return {"queued": len(self._queue), "running": sum(self._running.values())}

    # -- cancelling -------------------------------------------------------------------------
    def cancel(self, job_id: str, partner: str | None) -> bool:
        """Cancel ``partner``'s job: a queued job is dropped, a running one sees its token set.
        False when the job is unknown, another partner's, or already finished."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or (partner is not None and job.partner != partner) or job.state in FINISHED:
                return False
            job.token.cancel()
            if job.state is JobState.QUEUED:
                self._queue.remove(job)
                self._finish(job, JobState.CANCELLED)
            return True

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Cancel what waits, ask running jobs to stop, and (``wait``) join the workers."""
        with self._cond:
            self._closed = True
            while self._queue:
                job = self._queue.popleft()
                job.token.cancel()
                self._finish(job, JobState.CANCELLED)
            for job in self._jobs.values():
                if job.state is JobState.RUNNING:
                    job.token.cancel()
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                t.join(timeout)

    # -- the workers --------------------------------------------------------------------------
    def _next(self) -> Job | None:
        """The oldest queued job whose partner and group are under their running limits (with the lock)."""
        for job in self._queue:
            if self._running.get(job.partner, 0) >= self.per_partner_running:
                continue
            if job.group is not None and self._group_running.get(job.group, 0) >= self.per_group_running:
                continue
            return job
        return None

    def _finish(self, job: Job, state: JobState) -> None:
        job.state, job.finished_at = state, self.clock()
        self._finished.append(job.id)
        while len(self._finished) > self.keep_finished:
            self._jobs.pop(self._finished.popleft(), None)
        self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._next() is not None)
                job = self._next()
                if job is None:  # closed and nothing runnable
                    return
                self._queue.remove(job)
                job.state, job.started_at = JobState.RUNNING, self.clock()
                self._running[job.partner] = self._running.get(job.partner, 0) + 1
                if job.group is not None:
                    self._group_running[job.group] = self._group_running.get(job.group, 0) + 1
                self._cond.notify_all()
            state, result, error, exc = JobState.DONE, None, None, None
            try:
                result = job.fn(job.token)
                if job.token.cancelled:
                    state = JobState.CANCELLED
            except JobCancelled:
                state = JobState.CANCELLED
            except SpacecommonsError as e:
                state, error, exc = JobState.FAILED, str(e), e
            except Exception as e:  # noqa: BLE001 - a job's bug must not take a worker down
                state, error, exc = JobState.FAILED, "internal error", e
            with self._cond:
                self._running[job.partner] -= 1
                if job.group is not None:
                    self._group_running[job.group] -= 1
                job.result, job.error, job.exception = result, error, exc
                self._finish(job, state)
