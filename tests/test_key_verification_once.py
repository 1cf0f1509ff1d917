"""Concurrent requests presenting the same API key start one argon2 verification, not one each
(``KeyCache.verify_once``, issue #18: 50 clients of one key were 50 concurrent argon2 runs at each
expiry of the cache entry). Counted by wrapping ``security.verify_key``; the answers are unchanged:
the right key 200 for all, a wrong one 401 for all, a revoked one 401 from the next request."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import pytest

T0 = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.fixture()
def app_and_key(tmp_path, monkeypatch):
    from spacecommons.service import create_app, security
    from spacecommons.storage import partners_repo

    app = create_app(f"sqlite:///{tmp_path / 'keys.db'}", rate_per_second=1e6, rate_burst=10**6)
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "once", T0)
        key = partners_repo.issue_key(s, partners_repo.add_member(s, "once", "a", "analyst", T0).id, T0)
    calls = []
    real = security.verify_key

    def counting(secret, stored_hash, hasher=None):
        calls.append(secret)
        time.sleep(0.05)  # long enough for every request below to arrive while it runs
        return real(secret, stored_hash, hasher)

    monkeypatch.setattr(security, "verify_key", counting)
    yield app, key, calls
    app.state.engine.dispose()


async def _burst(app, key: str, n: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers={"X-API-Key": key}) as c:
        answers = await asyncio.gather(*(c.get("/api/v1/screening/runs") for _ in range(n)))
    return [r.status_code for r in answers]


def test_concurrent_requests_share_one_verification(app_and_key):
    app, key, calls = app_and_key
    assert asyncio.run(_burst(app, key, 20)) == [200] * 20
    assert len(calls) == 1
    assert asyncio.run(_burst(app, key, 20)) == [200] * 20  # cached: no verification at all
    assert len(calls) == 1
    app.state.key_cache.clear()  # what an expiry or a revocation watermark move does
    assert asyncio.run(_burst(app, key, 20)) == [200] * 20
    assert len(calls) == 2
    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert asyncio.run(_burst(app, wrong, 10)) == [401] * 10
    assert len(calls) == 3


def test_a_revoked_key_is_refused_from_the_next_request(app_and_key):
    from spacecommons.storage import partners_repo

    app, key, calls = app_and_key
    assert asyncio.run(_burst(app, key, 5)) == [200] * 5
    with app.state.session_maker.begin() as s:
        assert partners_repo.revoke_key(s, key.split("_")[1], T0)
    assert asyncio.run(_burst(app, key, 5)) == [401] * 5
