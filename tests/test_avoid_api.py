"""The avoidance route: the owner's analyst gets the plan of an event of its private run; another
partner's operator gets a 404 (policy.can_see_run), an observer a 403 (role). The event comes from
a real screening of the bundled Iridium 33 debris sample (CelesTrak, src/spacecommons/data/sample)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from spacecommons.catalog import read_elements
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.storage.catalog_repo import store_elements
from spacecommons.timescales import iso_to_jd
from spacecommons.workflows.screening import create_run, finish_run

from .conftest import SAMPLE

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_avoidance_route_owner_and_outsiders(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'a.db'}", rate_per_second=1e3, rate_burst=10**5, clock=lambda: T0)
    parsed = read_elements(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt")
    keys = {}
    with app.state.session_maker.begin() as s:
        store_elements(s, parsed.records, T0)
        for partner in ("A", "B"):
            partners_repo.create_partner(s, partner, T0)
        # the three callers the test makes (an argon2 hash each: 0.3 CPU s, so none for unused roles)
        for partner, role in (("A", "analyst"), ("B", "operator"), ("A", "observer")):
            m = partners_repo.add_member(s, partner, f"{role}-m", role, T0)
            keys[(partner, role)] = partners_repo.issue_key(s, m.id, T0)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 5.0)
    payload = CatalogPayload.from_elements(parsed.records)
    result = screen(payload, params, workers=1)
    with app.state.session_maker.begin() as s:
        run_id = create_run(s, payload, params, T0, owner_partner_id=1, visibility="private")
        finish_run(s, run_id, result, T0)
    with TestClient(app) as client:
        events = client.get(f"/api/v1/screening/runs/{run_id}/events", headers={"X-API-Key": keys[("A", "analyst")]})
        event_id = events.json()[0]["id"]
        url = f"/api/v1/screening/runs/{run_id}/events/{event_id}/avoidance"
        body = {"max_lead_h": 3, "rescreen": False, "target_pc": 1e-6}
        r = client.post(url, json=body, headers={"X-API-Key": keys[("A", "analyst")]})
        assert r.status_code == 200, r.text
        doc = r.json()
        ev = events.json()[0]
        assert {doc["primary"], doc["secondary"]} == {str(ev["id1"]), str(ev["id2"])}
        assert abs(doc["miss_before_km"] - ev["miss_km"]) < 1e-3  # the event's own miss, to a metre
        assert len(doc["trade_space"]["lead_time_s"]) >= 1 and doc["trade_space"]["lead_time_s"][-1] <= 3 * 3600
        assert client.post(url, json=body, headers={"X-API-Key": keys[("B", "operator")]}).status_code == 404
        assert client.post(url, json=body, headers={"X-API-Key": keys[("A", "observer")]}).status_code == 403
