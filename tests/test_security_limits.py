"""Body limit, anonymous rate limit and constant-cost key checks, written as the requests an
abuser sends, against a tiny FastAPI app over httpx's ASGITransport (no sockets).

Expected values follow from the limits the tests set (a 1 KiB body limit, a 3-token bucket);
the argon2 cost parameters are those of RFC 9106 as configured by pwdlib's Argon2Hasher.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI, Request

from spacecommons.service.limits import (
    AddressLimiter,
    AnonymousRateLimit,
    BodyLimit,
    charge_anonymous,
    client_bucket,
    dummy_hash,
    verify_key,
)

LIMIT = 1024


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def tiny_app(limit_for=None, limiter: AddressLimiter | None = None, good_key: str = "sc_good") -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    @app.put("/upload")
    async def upload(request: Request) -> dict:
        n = 0
        async for chunk in request.stream():
            n += len(chunk)
        return {"bytes": n}

    @app.get("/whoami")
    def whoami(request: Request) -> dict:
        key = request.headers.get("x-api-key")
        if key is not None and key != good_key:
            charge_anonymous(request)  # what security.identify_async does on a failed key
            return {"auth": "failed"}
        return {"auth": "ok" if key else "anonymous"}

    app.add_middleware(BodyLimit, max_bytes=LIMIT, limit_for=limit_for)
    if limiter is not None:
        app.add_middleware(AnonymousRateLimit, limiter=limiter)
    return app


def call(app: FastAPI, method: str, url: str, client_ip: str = "203.0.113.9", **kwargs) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


class Chunks:
    """A chunked body (no Content-Length) of ``n`` chunks, counting how many were pulled."""

    def __init__(self, n: int, size: int) -> None:
        self.n, self.size, self.pulled = n, size, 0

    async def __aiter__(self):
        for _ in range(self.n):
            self.pulled += 1
            yield b"x" * self.size


# --- body size ---------------------------------------------------------------------------


def test_chunked_body_over_the_limit_is_413_and_reading_stops():
    body = Chunks(n=60_000, size=1024)  # 60 MiB offered without Content-Length
    r = call(tiny_app(), "POST", "/echo", content=body)
    assert r.status_code == 413
    assert body.pulled <= LIMIT // 1024 + 2  # stopped right after the limit, not after 60 MiB


def test_streaming_route_gets_413_too():
    body = Chunks(n=1000, size=512)
    r = call(tiny_app(), "PUT", "/upload", content=body)
    assert r.status_code == 413 and body.pulled <= LIMIT // 512 + 2


def test_declared_length_over_the_limit_is_refused_before_the_app():
    r = call(tiny_app(), "POST", "/echo", content=b"x" * (LIMIT + 1))
    assert r.status_code == 413 and r.json() == {"detail": f"request body over {LIMIT} bytes"}


def test_bodies_up_to_the_limit_pass_chunked_or_not():
    assert call(tiny_app(), "POST", "/echo", content=b"x" * LIMIT).json() == {"bytes": LIMIT}
    assert call(tiny_app(), "POST", "/echo", content=Chunks(4, 256)).json() == {"bytes": LIMIT}


def test_per_path_override_for_the_upload_route():
    def limit_for(scope):
        return 64 * LIMIT if scope["method"] == "PUT" and scope["path"] == "/upload" else None

    app = tiny_app(limit_for)
    assert call(app, "PUT", "/upload", content=Chunks(32, LIMIT)).json() == {"bytes": 32 * LIMIT}
    assert call(app, "POST", "/echo", content=Chunks(32, LIMIT)).status_code == 413


def test_bad_content_length_is_400():
    async def run():
        sent = []

        async def app(scope, receive, send):
            raise AssertionError("must not run")

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"-5")]}
        await BodyLimit(app, LIMIT)(scope, receive, send)
        return sent

    assert asyncio.run(run())[0]["status"] == 400


# --- anonymous and failed-auth rate limit ------------------------------------------------


def test_anonymous_requests_are_limited_per_address_with_retry_after():
    clock = FakeClock()
    app = tiny_app(limiter=AddressLimiter(per_second=0.5, burst=3, clock=clock))
    assert [call(app, "GET", "/whoami").status_code for _ in range(4)] == [200, 200, 200, 429]
    r = call(app, "GET", "/whoami")
    assert r.status_code == 429 and r.headers["retry-after"] == "2"  # 1 token / 0.5 per s
    assert call(app, "GET", "/whoami", client_ip="198.51.100.7").status_code == 200  # another address
    clock.t += 2.0
    assert call(app, "GET", "/whoami").status_code == 200


def test_failed_keys_exhaust_the_address_and_then_no_key_is_verified():
    clock = FakeClock()
    limiter = AddressLimiter(per_second=0.01, burst=3, clock=clock)
    app = tiny_app(limiter=limiter)
    answers = [call(app, "GET", "/whoami", headers={"x-api-key": f"sc_guess{i}"}) for i in range(5)]
    assert [r.json().get("auth") for r in answers[:3]] == ["failed"] * 3
    assert [r.status_code for r in answers[3:]] == [429, 429]  # refused before the route (and argon2) ran
    # the good key from that address waits too; from elsewhere it works
    assert call(app, "GET", "/whoami", headers={"x-api-key": "sc_good"}).status_code == 429
    assert call(app, "GET", "/whoami", client_ip="198.51.100.7", headers={"x-api-key": "sc_good"}).json() == {
        "auth": "ok"
    }


def test_good_keys_are_not_charged():
    limiter = AddressLimiter(per_second=0.01, burst=2, clock=FakeClock())
    app = tiny_app(limiter=limiter)
    statuses = {call(app, "GET", "/whoami", headers={"x-api-key": "sc_good"}).status_code for _ in range(10)}
    assert statuses == {200}


def test_ipv6_addresses_of_one_64_share_a_bucket():
    limiter = AddressLimiter(per_second=0.01, burst=2, clock=FakeClock())
    assert limiter.charge_anonymous("2001:db8:1:2::1") == 0.0
    assert limiter.charge_anonymous("2001:db8:1:2:ffff::9") == 0.0
    assert limiter.charge_anonymous("2001:db8:1:2:abcd::5") > 0.0
    assert limiter.charge_anonymous("2001:db8:1:3::1") == 0.0
    assert client_bucket("::ffff:203.0.113.9") == "203.0.113.9"


def test_bucket_table_is_bounded():
    clock = FakeClock()
    limiter = AddressLimiter(per_second=1.0, burst=1, clock=clock, max_addresses=100)
    for i in range(1000):
        limiter.charge_anonymous(f"10.0.{i // 256}.{i % 256}")
        clock.t += 0.01
    assert len(limiter._buckets) <= 101


# --- constant-cost key verification ------------------------------------------------------


class CountingHasher:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def verify(self, secret: str, stored: str) -> bool:
        self.calls.append(stored)
        return stored == "hash-of:" + secret


def test_unknown_prefix_costs_one_verification_like_a_known_one():
    h = CountingHasher()
    assert verify_key("sc_ab_cd", "hash-of:sc_ab_cd", hasher=h) is True
    assert verify_key("sc_ab_cd", "hash-of:other", hasher=h) is False
    assert verify_key("sc_ab_cd", None, hasher=h) is False
    assert len(h.calls) == 3 and h.calls[2] == dummy_hash()


def test_keys_are_hashed_with_the_rfc9106_parameters(real_key_hasher):
    # RFC 9106 section 4, second recommended option: argon2id, t=3, m=64 MiB (65536 KiB), p=4
    # (pwdlib's Argon2Hasher defaults); the suite's other tests hash with cheaper ones (conftest)
    assert real_key_hasher().hash("sc_x_y").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_dummy_hash_has_the_real_cost_parameters(real_key_hasher):
    params = re.compile(r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$")
    real = real_key_hasher().hash("sc_x_y")
    assert params.match(dummy_hash()).group(0) == params.match(real).group(0) == "$argon2id$v=19$m=65536,t=3,p=4$"


def test_verify_key_with_real_argon2(real_key_hasher):
    stored = real_key_hasher().hash("sc_1234abcd_secret")
    assert verify_key("sc_1234abcd_secret", stored) is True
    assert verify_key("sc_1234abcd_wrong", stored) is False
    assert verify_key("sc_1234abcd_secret", None) is False
    assert verify_key("sc_1234abcd_secret", "not-a-hash") is False


@pytest.mark.parametrize("secret", ["", "x" * 10_000])
def test_odd_secrets_are_false_not_errors(secret):
    assert verify_key(secret, None) is False
