"""The API the dashboard pages through (issue #19; the equality test is the one issue #18 asks for):
keyset pages of a run's events and of the stored orbits are the same rows as offset pages and as
one big page sorted independently in Python; the run summary counted in SQL equals the counts made
in Python from the full list; orbit classes derived from the elements equal JPL SBDB's own ``class``
column. Runs on both backends (SQLite; PostgreSQL under `make test`)."""

from __future__ import annotations

import csv
import warnings
from collections import Counter
from datetime import UTC, datetime

import pytest

from .conftest import SAMPLE

T0 = datetime(2026, 11, 25, tzinfo=UTC)
IRIDIUM = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
SBDB_CSV = SAMPLE / "neo" / "sbdb_2020_jan_approachers.csv"


@pytest.fixture(scope="module")
def service(backend_url):
    """The Iridium 33 debris sample screened for 0.1 day at 10 km, synthetic events added and
    synthetic Pc values set (ties and gaps included, to exercise every order), and the SBDB
    January 2020 approachers."""
    from sqlalchemy import select

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.neo.reader import read_orbits
    from spacecommons.service import create_app
    from spacecommons.storage.catalog_repo import store_elements
    from spacecommons.storage.neo_repo import store_orbits
    from spacecommons.storage.tables import ConjunctionEvent
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    app = create_app(backend_url, rate_per_second=1000.0, rate_burst=100000)
    parsed = read_elements(IRIDIUM)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    with app.state.session_maker.begin() as s:
        store_elements(s, parsed.records, T0)
        store_orbits(s, read_orbits(SBDB_CSV)[0], T0)
        run_id = create_run(s, payload, params, T0)
        finish_run(s, run_id, result, T0)
    with app.state.session_maker.begin() as s:
        # the sample's 7 real events, plus 113 synthetic ones between its objects (pagination needs
        # many rows; the values repeat on purpose so that the order has ties to break)
        ids = list(zip(payload.norad_ids, payload.names, strict=True))
        for k in range(113):
            (i1, n1), (i2, n2) = ids[k % len(ids)], ids[(7 * k + 3) % len(ids)]
            tca = datetime(2021, 10, 2, k % 5, (13 * k) % 60, k % 60, 1000 * k, tzinfo=UTC)
            s.add(
                ConjunctionEvent(
                    run_id=run_id,
                    id1=i1,
                    name1=n1,
                    id2=i2,
                    name2=n2,
                    tca=tca,
                    miss_km=round((k * 37 % 97) / 9.7, 1),
                    speed_km_s=float(k % 11),
                    r_km=0.1,
                    t_km=0.2,
                    n_km=0.3,
                    kind="synthetic",
                    n_minima=1,
                )
            )
        s.flush()
        events = list(s.scalars(select(ConjunctionEvent).where(ConjunctionEvent.run_id == run_id)))
        for k, e in enumerate(sorted(events, key=lambda e: e.id)):
            e.pc = None if k % 3 == 0 else (1e-3, 1e-5, 1e-5, 3e-8)[k % 4]  # ties on purpose
    client = TestClient(app)
    yield client, run_id, len(result.events) + 113
    app.state.engine.dispose()


def _all_keyset(client, url: str, limit: int) -> tuple[list[dict], int]:
    """Every row by following X-Next-After; the number of requests it took."""
    rows, after, pages = [], None, 0
    while True:
        r = client.get(url + f"&limit={limit}" + (f"&after={after}" if after else ""))
        assert r.status_code == 200, r.text
        rows += r.json()
        pages += 1
        after = r.headers.get("x-next-after")
        if after is None:
            return rows, pages


def _all_offset(client, url: str, limit: int) -> list[dict]:
    rows, offset = [], 0
    while True:
        page = client.get(url + f"&limit={limit}&offset={offset}").json()
        rows += page
        if len(page) < limit:
            return rows
        offset += limit


def _python_order(events: list[dict], key: str, desc: bool) -> list[int]:
    """The documented order computed here: the key (no Pc below every Pc), then ascending id."""

    def value(e):
        v = e[key]
        return -1.0 if v is None else v

    ordered = sorted(events, key=lambda e: e["id"])
    ordered.sort(key=value, reverse=desc)  # stable: ties keep ascending id
    return [e["id"] for e in ordered]


@pytest.mark.parametrize(
    ("sort", "order"),
    [("miss_km", "asc"), ("tca", "asc"), ("tca", "desc"), ("pc", "desc"), ("pc", "asc"), ("speed_km_s", "desc")],
)
def test_keyset_pages_equal_offset_pages_and_the_order_computed_here(service, sort, order):
    client, run_id, n_events = service
    base = f"/api/v1/screening/runs/{run_id}/events?sort={sort}&order={order}"
    everything = client.get(base + "&limit=5000").json()
    assert len(everything) == n_events > 40
    expected = _python_order(everything, sort, order == "desc")
    assert [e["id"] for e in everything] == expected
    keyset, pages = _all_keyset(client, base, 7)
    assert [e["id"] for e in keyset] == expected
    assert pages == -(-n_events // 7)  # no empty page at the end
    assert [e["id"] for e in _all_offset(client, base, 7)] == expected


def test_keyset_with_filters_and_total_count(service):
    client, run_id, _ = service
    everything = client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000").json()
    first = everything[0]
    chosen = [e for e in everything if e["miss_km"] <= 8.0 and first["id1"] in (e["id1"], e["id2"])]
    url = f"/api/v1/screening/runs/{run_id}/events?sort=tca&max_miss_km=8&norad_id={first['id1']}"
    rows, _ = _all_keyset(client, url, 2)
    assert [e["id"] for e in rows] == _python_order(chosen, "tca", False)
    r = client.get(url + "&limit=1")
    assert int(r.headers["x-total-count"]) == len(chosen)
    if len(chosen) > 1:
        assert 'rel="next"' in r.headers["link"] and "after=" in r.headers["link"]
    name = first["name2"].split()[0]
    named = client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000&name={name.lower()}").json()
    assert {e["id"] for e in named} == {e["id"] for e in everything if name in e["name1"] or name in e["name2"]}
    # regime: events with either object in it, by the project's one definition (catalog.element_regime)
    from spacecommons.catalog import read_elements
    from spacecommons.catalog.elements import element_regime

    regimes = {r.norad_id: element_regime(r).value for r in read_elements(IRIDIUM).records}
    assert set(regimes.values()) == {"LEO"}  # the Iridium 33 debris cloud: ~800 km, near-circular
    leo = client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000&regime=LEO").json()
    assert len(leo) == len(everything)
    assert client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000&regime=GEO").json() == []


def test_a_cursor_from_another_sort_or_garbage_is_a_400(service):
    client, run_id, _ = service
    r = client.get(f"/api/v1/screening/runs/{run_id}/events?sort=miss_km&limit=3")
    cursor = r.headers["x-next-after"]
    bad = client.get(f"/api/v1/screening/runs/{run_id}/events?sort=tca&after={cursor}")
    assert bad.status_code == 400 and "sort=tca" in bad.text
    assert client.get(f"/api/v1/screening/runs/{run_id}/events?after=%%%").status_code == 400


def test_run_summary_counted_in_sql_equals_the_counts_made_here(service):
    client, run_id, n_events = service
    everything = client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000").json()
    s = client.get(f"/api/v1/screening/runs/{run_id}/summary?top=5").json()
    assert s["n_events"] == n_events
    edges = [0.0, 0.1, 1.0, 2.0, 5.0, float("inf")]
    miss = [sum(lo <= e["miss_km"] < hi for e in everything) for lo, hi in zip(edges, edges[1:], strict=False)]
    assert [b["count"] for b in s["miss_bands"]] == miss
    pcs = [e["pc"] for e in everything]
    pc_edges = [0.0, 1e-7, 1e-5, 1e-4, 2.0]
    pc = [sum(p is None for p in pcs)]
    pc += [sum(p is not None and lo <= p < hi for p in pcs) for lo, hi in zip(pc_edges, pc_edges[1:], strict=False)]
    assert [b["count"] for b in s["pc_bands"]] == pc
    hours = Counter(e["tca"][:13] for e in everything)
    assert {h["hour"][:13]: h["count"] for h in s["per_hour"]} == dict(hours)
    assert sum(h["under_1km"] for h in s["per_hour"]) == sum(e["miss_km"] < 1.0 for e in everything)
    per_object = Counter(i for e in everything for i in (e["id1"], e["id2"]))
    top = sorted(per_object.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(o["norad_id"], o["events"]) for o in s["top_objects"]] == top
    assert s["tca_first"][:19] == min(e["tca"] for e in everything)[:19]


def test_orbit_listing_classes_sorts_and_keyset(service):
    client, _, _ = service
    with SBDB_CSV.open() as f:
        sbdb = {r["pdes"]: r for r in csv.DictReader(f)}
    listed = client.get("/api/v1/neo/orbits?limit=5000").json()
    assert len(listed) == len(sbdb) == 16
    # JPL SBDB's class column is the published classification of each object
    assert {o["designation"]: o["orbit_class"] for o in listed} == {d: r["class"] for d, r in sbdb.items()}
    assert {o["designation"]: o["moid_au"] for o in listed} == {d: float(r["moid"]) for d, r in sbdb.items()}
    for sort, order in (("h_mag", "asc"), ("moid_au", "desc"), ("designation", "asc")):
        base = f"/api/v1/neo/orbits?sort={sort}&order={order}"
        big = client.get(base + "&limit=5000").json()
        column = {"h_mag": "H", "moid_au": "moid", "designation": "pdes"}[sort]
        expected = sorted(sbdb)
        expected.sort(key=lambda d: d if sort == "designation" else float(sbdb[d][column]), reverse=order == "desc")
        assert [o["designation"] for o in big] == expected
        keyset, _ = _all_keyset(client, base, 3)
        assert keyset == big == _all_offset(client, base, 3)
    apollos = client.get("/api/v1/neo/orbits?class=APO&h_max=25&limit=5000")
    want = {d for d, r in sbdb.items() if r["class"] == "APO" and float(r["H"]) <= 25}
    assert {o["designation"] for o in apollos.json()} == want
    assert int(apollos.headers["x-total-count"]) == len(want)
    assert client.get("/api/v1/neo/orbits?after=nonesuch").status_code == 400


def test_run_summary_is_cached_until_the_run_is_updated(tmp_path):
    """A finished run's summary is computed once per version of the run: a row removed behind the
    API's back (which no supported path does) leaves the cached summary as it was, and ``update``
    (``screening_repo.replace_object_events``, what ``workflows.screening.update_run`` stores)
    makes the next summary count the run afresh. Expected counts: the events listed by the API."""
    from sqlalchemy import delete, select

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import ScreeningParams, screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.events import ConjunctionEvents
    from spacecommons.service import create_app
    from spacecommons.storage import screening_repo
    from spacecommons.storage.tables import ConjunctionEvent
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import create_run, finish_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    app = create_app(f"sqlite:///{tmp_path / 'cache.db'}", rate_per_second=1000.0, rate_burst=100000)
    parsed = read_elements(IRIDIUM)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.1, 10.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    assert len(result.events) >= 2
    with app.state.session_maker.begin() as s:
        run_id = create_run(s, payload, params, T0)
        finish_run(s, run_id, result, T0)
    client = TestClient(app)
    url = f"/api/v1/screening/runs/{run_id}/summary"
    first = client.get(url).json()
    assert first["n_events"] == len(client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000").json())
    with app.state.session_maker.begin() as s:  # behind the API's back: the run's version is unchanged
        one = s.scalars(select(ConjunctionEvent.id).where(ConjunctionEvent.run_id == run_id)).first()
        s.execute(delete(ConjunctionEvent).where(ConjunctionEvent.id == one))
    assert client.get(url).json() == first  # served from the cache
    assert client.get(url + "?top=3").json()["n_events"] == first["n_events"] - 1  # another key: counted
    gone = result.events[0].id1  # an update that re-screened one object and found no event for it
    with app.state.session_maker.begin() as s:
        screening_repo.replace_object_events(
            s, run_id, payload, (int(gone),), ConjunctionEvents(), {"objects": 1, "pairs": 0}
        )
    listed = client.get(f"/api/v1/screening/runs/{run_id}/events?limit=5000").json()
    after = client.get(url).json()
    assert after["n_events"] == len(listed) < first["n_events"] - 1
    assert sum(b["count"] for b in after["miss_bands"]) == len(listed)
    assert gone not in {o["norad_id"] for o in after["top_objects"]}
    app.state.engine.dispose()


def test_sort_by_pc_reads_its_index_on_sqlite(tmp_path):
    """Migration 0017: the first page by Pc (and a keyset page after it) is a search of the index
    (run_id, coalesce(pc, -1.0) DESC, id), not a sort of the run's events (SQLite's query plan)."""
    from sqlalchemy import text

    from spacecommons.storage import make_engine, screening_repo, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    E = screening_repo.ConjunctionEvent
    column = screening_repo._sort_column("pc")
    with session_factory(engine)() as s:
        for q in (
            screening_repo._filtered(1, screening_repo.EventFilter()),
            screening_repo._filtered(1, screening_repo.EventFilter()).where(column < 1e-5),
        ):
            page = q.order_by(column.desc(), E.id.asc()).limit(51)
            sql = str(page.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING INDEX ix_conjunction_events_run_pc" in plan and "TEMP B-TREE" not in plan, plan
    engine.dispose()
