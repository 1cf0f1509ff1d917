"""Pc of a stored screening run's events, stored with each event (``spacecommons pc --run`` and
the demo): one CDM per event (``cdm_export.run_event_cdms``), its Pc by the CDM rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from ..cdm.pc import cdm_pc
from ..storage.tables import ConjunctionEvent
from .cdm_export import run_event_cdms


def store_run_pc(
    session: Session,
    run_id: int,
    created: datetime,
    method: str = "auto",
    samples: int | None = None,
    seed: int = 0,
    on_event: Callable[[ConjunctionEvent], None] | None = None,
    limit: int | None = None,
) -> list[ConjunctionEvent]:
    """Pc of every event of run ``run_id`` (``auto``: CARA's choice of 2D, 3D or Monte Carlo),
    stored in the caller's transaction with the method and the usage checks that failed
    (:func:`run_pc_method_label`); ``on_event`` is called before each event (progress);
    ``limit``: only the N closest events. Covariances are the DEFAULT model for TLE states (``cdm.generate``)."""
    done = []
    for ev, cdm in run_event_cdms(session, run_id, created, limit):
        if on_event is not None:
            on_event(ev)
        report = cdm_pc(cdm, method, samples=samples, seed=seed)[0]
        ev.pc = report.pc
        ev.pc_method = run_pc_method_label(report)
        done.append(ev)
    session.flush()
    return done


def run_pc_method_label(report) -> str:
    """The method stored with a run event's Pc (64 characters at most): method, then the usage
    checks that failed, e.g. ``3d DEFAULT-cov [extended_2d]``."""
    flags = report.flags
    failed = list(flags.violations_2d + flags.violations_3d) if flags else []
    label = f"{report.method_id.value if report.method_id else report.method} DEFAULT-cov"
    if failed:
        label += f" [{','.join(failed)}]"
    return label[:64]


__all__ = ["run_pc_method_label", "store_run_pc"]
