"""Incremental re-screening (issue #18, target 2): `update_run` re-screens only the pairs that
involve objects whose element sets changed and replaces their events in the stored run. The
independent computation is a full all-vs-all rerun of the core `screen` on the updated catalog:
the merged run must hold exactly its events (pairs of unchanged objects keep the stored events,
which a full rerun recomputes identically)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spacecommons.timescales import format_utc

from .conftest import SAMPLE

IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _checksum(line: str) -> str:
    return str(sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10)


def _shift_mean_anomaly(line2: str, degrees: float) -> str:
    """A new element set for the same object: mean anomaly (columns 44-51) moved, checksum redone."""
    m = (float(line2[43:51]) + degrees) % 360.0
    line = f"{line2[:43]}{m:8.4f}{line2[51:68]}"
    return line + _checksum(line)


def _rows(events) -> list[tuple]:
    return sorted(
        (e.id1, e.id2, e.tca if isinstance(e.tca, str) else format_utc(e.tca, 3), round(e.miss_km, 9), e.kind)
        for e in events
    )


@pytest.fixture
def stored(sqlite_url):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening

    engine = make_engine(sqlite_url)
    upgrade(engine)
    maker = session_factory(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    records = read_elements(IRIDIUM).records
    payload = CatalogPayload.from_elements(records)
    outcome = run_screening(maker, payload, params, lambda: NOW, workers=1)
    yield maker, records, payload, params, outcome
    engine.dispose()


def test_update_equals_a_full_rerun_and_touches_only_the_changed_objects(stored):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.storage import screening_repo as repo
    from spacecommons.workflows.screening import update_run

    maker, records, payload, params, outcome = stored
    before = outcome.result.events
    assert len(before) > 5  # the debris cloud has close pairs to replace
    # change three objects that have events (so old events must go) and re-send one unchanged
    changed = sorted({e.id1 for e in before})[:3]
    unchanged = next(r for r in records if r.norad_id not in changed)
    text = "".join(
        f"{r.name}\n{r.line1}\n{_shift_mean_anomaly(r.line2, 0.5) if r.norad_id in changed else r.line2}\n"
        for r in records
        if r.norad_id in changed or r is unchanged
    )
    new = CatalogPayload.from_elements(read_elements("new.tle", text=text).records)
    up = update_run(maker, outcome.run_id, new, workers=1)
    assert up.updated == tuple(changed)  # the re-sent unchanged element set is not re-screened
    assert all(e.id1 in changed or e.id2 in changed for e in up.result.events)

    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events  # the independent computation
    with maker() as s:
        stored_events = repo.run_events(s, outcome.run_id)
        run = repo.load_run(s, outcome.run_id)
    assert _rows(stored_events) == _rows(full)
    assert _rows(stored_events) != _rows(before)  # the update changed something
    assert up.n_events == len(full) and run[2].digest == merged.digest


def test_update_refuses_a_run_with_primaries(sqlite_url):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.errors import InputError
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening, update_run

    engine = make_engine(sqlite_url)
    upgrade(engine)
    maker = session_factory(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    payload = CatalogPayload.from_elements(read_elements(IRIDIUM).records)
    params = ScreeningParams(jd, fr, 0.02, 10.0, primaries=(payload.norad_ids[0],))
    run = run_screening(maker, payload, params, lambda: NOW, workers=1)
    with pytest.raises(InputError, match="primaries"):
        update_run(maker, run.run_id, payload)
    engine.dispose()


@pytest.mark.parametrize("sieve", [True, False])
def test_update_of_objects_with_higher_catalog_numbers_equals_a_full_rerun(stored, monkeypatch, sieve):
    """Changed objects that are the second object of their events (the higher catalog number) and a
    tenth of the cloud besides: the stored events still equal a full rerun's, oriented as it orients
    them (id1 the lower catalog number), with the orbit-geometry sieve (forced on: by default it runs
    only when at most 0.5% of the catalog changed) and without it."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.storage import screening_repo as repo
    from spacecommons.workflows import screening
    from spacecommons.workflows.screening import update_run

    maker, records, payload, params, outcome = stored
    before = outcome.result.events
    changed = sorted({e.id2 for e in before} | {r.norad_id for r in records[::10]})
    text = "".join(
        f"{r.name}\n{r.line1}\n{_shift_mean_anomaly(r.line2, 0.3)}\n" for r in records if r.norad_id in changed
    )
    new = CatalogPayload.from_elements(read_elements("new.tle", text=text).records)
    monkeypatch.setattr(screening, "SIEVE_MAX_CHANGED", 1.0 if sieve else 0.0)
    # the path without the full run's kept node states (test_screen_update_kept.py covers the other)
    up = update_run(maker, outcome.run_id, new, workers=1, use_kept=False)
    assert up.updated == tuple(changed)
    # with the sieve, objects are left out
    assert (up.result.stats["sieve_objects"] < len(payload)) == sieve
    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events  # the independent computation
    with maker() as s:
        stored_events = repo.run_events(s, outcome.run_id)
    assert len(full) >= 3
    # the case the primary-first orientation got wrong: an unchanged object with the lower number
    assert any(e.id2 in changed and e.id1 not in changed for e in full)
    assert _rows(stored_events) == _rows(full)


def test_update_reuses_the_kept_velocity_mismatch_and_ignores_a_stale_one(stored):
    """The full run keeps each object's SGP4 velocity mismatch per chunk (``screening_mismatch``) and
    an update reuses it for the unchanged objects instead of sampling SGP4 again. Independent
    computations: ``bounds.velocity_mismatch_km_s`` called on the objects directly (the kept values
    must be its bits), and a full rerun of the core ``screen`` on the updated catalog (the events of
    an update with the kept values and of one whose kept values are stale, i.e. keyed by another
    catalog digest and so ignored, must both equal it)."""
    import numpy as np
    from sqlalchemy import update

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.bounds import VELOCITY_SAMPLES, velocity_mismatch_km_s
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.screen import _node_times
    from spacecommons.constants import SECONDS_PER_DAY
    from spacecommons.storage import screening_repo as repo
    from spacecommons.storage.tables import ScreeningMismatch
    from spacecommons.workflows.screening import run_screening, update_run

    maker, records, payload, params, outcome = stored

    def direct(sats, index: int) -> np.ndarray:
        k0, k1 = params.chunks()[index]
        t_nodes = _node_times(params, k0, k1)[0]
        samples = params.start_fr + np.linspace(t_nodes[0], t_nodes[-1], VELOCITY_SAMPLES) / SECONDS_PER_DAY
        return velocity_mismatch_km_s(sats, None, params.start_jd, samples)

    with maker() as s:
        kept = repo.load_mismatch(s, outcome.run_id, payload.digest, len(payload))
        assert repo.load_mismatch(s, outcome.run_id, "another catalog", len(payload)) == {}
    assert sorted(kept) == list(range(len(params.chunks())))
    assert np.array_equal(kept[0], direct(payload.satrecs(), 0))

    stale = run_screening(maker, payload, params, lambda: NOW, workers=1)  # a second copy of the run
    with maker.begin() as s:
        s.execute(
            update(ScreeningMismatch).where(ScreeningMismatch.run_id == stale.run_id).values(catalog_digest="0" * 64)
        )
    changed = sorted({e.id1 for e in outcome.result.events})[:2]
    text = "".join(
        f"{r.name}\n{r.line1}\n{_shift_mean_anomaly(r.line2, 0.5)}\n" for r in records if r.norad_id in changed
    )
    new = CatalogPayload.from_elements(read_elements("new.tle", text=text).records)
    # the path without the kept node states, which is the one that reads the kept mismatch
    reused = update_run(maker, outcome.run_id, new, workers=1, use_kept=False)
    again = update_run(maker, stale.run_id, new, workers=1, use_kept=False)
    assert reused.result.stats["mismatch_reused"] > 0
    assert again.result.stats["mismatch_reused"] == 0

    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events  # the independent computation
    with maker() as s:
        assert _rows(repo.run_events(s, outcome.run_id)) == _rows(full)
        assert _rows(repo.run_events(s, stale.run_id)) == _rows(full)
        after = repo.load_mismatch(s, outcome.run_id, merged.digest, len(merged))
    # the update keeps the merged catalog's values: the changed objects' new ones among them
    pos = np.flatnonzero(np.isin(np.asarray(merged.norad_ids), changed))
    assert np.array_equal(after[0][pos], direct([merged.satrecs()[i] for i in pos], 0))
