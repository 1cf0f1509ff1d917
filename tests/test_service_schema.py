"""Schemathesis against the OpenAPI document: generated requests for every operation (as an
admin, so that authorization does not hide the handlers) never produce a server error, and every
response matches its documented schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev dependency")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from spacecommons.catalog import read_elements  # noqa: E402
from spacecommons.service import create_app  # noqa: E402
from spacecommons.storage import partners_repo  # noqa: E402
from spacecommons.storage.catalog_repo import store_elements  # noqa: E402

from .conftest import SAMPLE  # noqa: E402

T0 = datetime(2026, 11, 25, tzinfo=UTC)  # a frozen "now" for rows the tests write


def _app():
    import tempfile
    from pathlib import Path

    db = Path(tempfile.mkdtemp()) / "schema.db"
    app = create_app(f"sqlite:///{db}", rate_per_second=1e6, rate_burst=10**9)
    with app.state.session_maker.begin() as s:
        store_elements(s, read_elements(SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt").records, T0)
        partners_repo.create_partner(s, "S", T0)
        app.state.admin_key = partners_repo.issue_key(s, partners_repo.add_member(s, "S", "a", "admin", T0).id, T0)
    return app


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
# starting real screening runs from random input would spend minutes per example
schema = schema.exclude(path="/api/v1/screening/runs", method="POST")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    response = case.call(headers={"X-API-Key": APP.state.admin_key})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
