"""The bounded job queue: global and per-partner concurrency, queue length, hourly quotas,
states, cancellation, and results visible only to their partner.

Jobs block on threading.Events that the test releases; the test waits on job states (the queue's
condition variable), never on sleeps. The hourly quota runs on a fake clock. Expected values
follow from the limits each test sets.
"""

from __future__ import annotations

import threading

import pytest

from spacecommons.errors import SpacecommonsError
from spacecommons.workflows.jobs import (
    CancelToken,
    JobQueue,
    JobState,
    QueueFull,
    QuotaExceeded,
)

RUNNING = frozenset({JobState.RUNNING})
T = 10.0  # a failsafe for a broken queue, not a pause: every wait returns as soon as the state is reached


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def gated(gate: threading.Event, result=None):
    def job(token: CancelToken):
        gate.wait(T)
        return result

    return job


@pytest.fixture
def queues():
    made = []

    def make(**kwargs) -> JobQueue:
        q = JobQueue(**kwargs)
        made.append(q)
        return q

    yield make
    for q in made:
        q.shutdown(wait=True, timeout=T)


def test_result_by_id_and_only_for_its_partner(queues):
    q = queues(workers=2)
    job_id = q.submit("A", lambda token: {"events": 3}, kind="screening")
    view = q.wait(job_id, timeout=T)
    assert view.state is JobState.DONE and view.result == {"events": 3} and view.kind == "screening"
    assert q.get(job_id, "B") is None  # another partner: as if it did not exist
    assert q.get(job_id, "A").result == {"events": 3}
    assert q.cancel(job_id, "B") is False


def test_one_partner_cannot_hold_every_worker(queues):
    q = queues(workers=2, per_partner_running=1, per_partner_queued=5)
    gate = threading.Event()
    a1 = q.submit("A", gated(gate))
    a2 = q.submit("A", gated(gate))
    q.wait(a1, RUNNING, T)
    b1 = q.submit("B", gated(gate))
    q.wait(b1, RUNNING, T)  # B runs on the second worker although A queued first
    assert q.get(a2, "A").state is JobState.QUEUED
    gate.set()
    assert q.wait(a2, timeout=T).state is JobState.DONE


def test_one_group_runs_at_most_its_limit(queues):
    # webhook deliveries: partners A and B both point at one receiver host; it gets one at a time
    q = queues(workers=3, per_partner_running=3, per_group_running=1)
    gate = threading.Event()
    a = q.submit("A", gated(gate), group="hooks.example.org")
    b = q.submit("B", gated(gate), group="hooks.example.org")
    c = q.submit("B", gated(gate), group="other.example.org")
    q.wait(a, RUNNING, T)
    q.wait(c, RUNNING, T)  # another host runs beside it
    assert q.get(b, "B").state is JobState.QUEUED
    gate.set()
    assert q.wait(b, timeout=T).state is JobState.DONE


def test_global_concurrency_limit(queues):
    q = queues(workers=2, per_partner_running=5)
    gate = threading.Event()
    ids = [q.submit("A", gated(gate)) for _ in range(4)]
    q.wait(ids[0], RUNNING, T)
    q.wait(ids[1], RUNNING, T)
    assert q.counts() == {"queued": 2, "running": 2}
    gate.set()
    assert all(q.wait(i, timeout=T).state is JobState.DONE for i in ids)


def test_full_queue_refuses_with_retry_after(queues):
    q = queues(workers=1, max_queued=2, per_partner_queued=10)
    gate = threading.Event()
    first = q.submit("A", gated(gate))
    q.wait(first, RUNNING, T)
    q.submit("A", gated(gate))
    q.submit("B", gated(gate))
    with pytest.raises(QueueFull) as info:
        q.submit("C", gated(gate))
    assert info.value.status_code == 503 and info.value.retry_after_s > 0
    gate.set()


def test_per_partner_queue_share(queues):
    q = queues(workers=1, max_queued=10, per_partner_queued=2)
    gate = threading.Event()
    first = q.submit("A", gated(gate))
    q.wait(first, RUNNING, T)
    q.submit("A", gated(gate))
    q.submit("A", gated(gate))
    with pytest.raises(QuotaExceeded) as info:
        q.submit("A", gated(gate))
    assert info.value.status_code == 429
    q.submit("B", gated(gate))  # the others still get in
    gate.set()


def test_hourly_quota_on_the_injected_clock(queues):
    clock = FakeClock()
    q = queues(workers=1, per_partner_per_hour=3, clock=clock)
    for _ in range(3):
        q.submit("A", lambda token: None)
        clock.t += 600.0
    with pytest.raises(QuotaExceeded) as info:
        q.submit("A", lambda token: None)
    assert info.value.retry_after_s == pytest.approx(3600.0 - 1800.0)  # first submission at t=0, now t=1800
    q.submit("B", lambda token: None)
    clock.t = 3600.0  # the first submission leaves the window
    q.submit("A", lambda token: None)


def test_cancel_a_queued_job_it_never_runs(queues):
    q = queues(workers=1)
    gate = threading.Event()
    ran = threading.Event()
    first = q.submit("A", gated(gate))
    q.wait(first, RUNNING, T)
    second = q.submit("A", lambda token: ran.set())
    assert q.cancel(second, "A") is True
    assert q.get(second, "A").state is JobState.CANCELLED
    gate.set()
    q.wait(first, timeout=T)
    q.shutdown(wait=True, timeout=T)
    assert not ran.is_set()


def test_cancel_a_running_job_through_its_token(queues):
    q = queues(workers=1)
    started = threading.Event()

    def long_job(token: CancelToken):
        started.set()
        while True:
            token.raise_if_cancelled()
            token._event.wait(0.01)

    job_id = q.submit("A", long_job)
    started.wait(T)
    assert q.cancel(job_id, "A") is True
    assert q.wait(job_id, timeout=T).state is JobState.CANCELLED
    assert q.cancel(job_id, "A") is False  # finished


def test_failures_show_library_messages_but_hide_internal_ones(queues):
    q = queues(workers=1)

    def bad_input(token):
        raise SpacecommonsError("window longer than 30 days")

    def bug(token):
        raise KeyError("/srv/secret/path.db")

    a = q.wait(q.submit("A", bad_input), timeout=T)
    b = q.wait(q.submit("A", bug), timeout=T)
    assert (a.state, a.error) == (JobState.FAILED, "window longer than 30 days")
    assert (b.state, b.error) == (JobState.FAILED, "internal error")
    assert "secret" not in repr(b)


def test_finished_jobs_are_forgotten_beyond_the_retention(queues):
    q = queues(workers=1, keep_finished=3)
    ids = []
    for _ in range(5):
        ids.append(q.submit("A", lambda token: None))
        q.wait(ids[-1], timeout=T)
    assert [q.get(i, "A") is not None for i in ids] == [False, False, True, True, True]


def test_shutdown_cancels_waiting_jobs(queues):
    q = queues(workers=1)
    gate = threading.Event()
    first = q.submit("A", gated(gate))
    q.wait(first, RUNNING, T)
    waiting = q.submit("B", gated(gate))
    q.shutdown(wait=False)
    assert q.get(waiting, None).state is JobState.CANCELLED
    with pytest.raises(QueueFull):
        q.submit("A", lambda token: None)
    gate.set()
    assert q.wait(first, timeout=T).state is JobState.CANCELLED  # its token was set: it was asked to stop
