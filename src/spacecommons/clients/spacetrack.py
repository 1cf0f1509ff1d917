"""Space-Track.org GP queries, within its published limits (30 requests/min, 300/hour).

Credentials come from the caller (settings or environment), are sent only to the login
endpoint, and never appear in errors or logs.
"""

from __future__ import annotations

import contextlib

import httpx

from .http import USER_AGENT, ClientError, FileCache, PoliteRequestPacer

SPACETRACK_URL = "https://www.space-track.org"


class SpaceTrackClient:
    def __init__(
        self,
        user: str,
        password: str,
        base_url: str = SPACETRACK_URL,
        cache: FileCache | None = None,
        limiter: PoliteRequestPacer | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        if not user or not password:
            raise ClientError("Space-Track needs SPACECOMMONS_SPACE_TRACK_USER and SPACECOMMONS_SPACE_TRACK_PASSWORD")
        self.base_url = base_url.rstrip("/")
        self._credentials = {"identity": user, "password": password}
        self.cache = cache
        self.limiter = limiter or PoliteRequestPacer([(30, 60.0), (300, 3600.0)])
        self.http = httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT})
        self.logged_in = False

    def login(self) -> None:
        self.limiter.wait()
        try:
            resp = self.http.post(f"{self.base_url}/ajaxauth/login", data=self._credentials)
        except httpx.HTTPError as exc:
            raise ClientError(f"Space-Track login failed: {type(exc).__name__}") from exc
        if resp.status_code != 200 or "Failed" in resp.text[:200]:
            raise ClientError(f"Space-Track login refused (HTTP {resp.status_code})")
        self.logged_in = True

    def query(self, path: str) -> str:
        """A ``basicspacedata/query/...`` path, e.g. ``class/gp/NORAD_CAT_ID/25544/format/json``."""
        path = path.strip("/")
        key = f"spacetrack {path}"
        if self.cache and (hit := self.cache.get(key)) is not None:
            return hit
        if not self.logged_in:
            self.login()
        self.limiter.wait()
        url = f"{self.base_url}/basicspacedata/query/{path}"
        try:
            resp = self.http.get(url)
        except httpx.HTTPError as exc:
            raise ClientError(f"Space-Track request failed: {type(exc).__name__}") from exc
        if resp.status_code == 401:
            self.logged_in = False
            raise ClientError("Space-Track session expired or unauthorised (HTTP 401)")
        if resp.status_code != 200:
            raise ClientError(f"Space-Track answered HTTP {resp.status_code} for {path}: {resp.text[:200]}")
        if self.cache:
            self.cache.put(key, resp.text)
        return resp.text

    def gp(self, norad_ids: list[int] | None = None, fmt: str = "json") -> str:
        """Latest GP element sets, for the given objects or (without ids) the whole catalog."""
        if norad_ids:
            ids = ",".join(str(i) for i in norad_ids)
            return self.query(f"class/gp/NORAD_CAT_ID/{ids}/orderby/NORAD_CAT_ID/format/{fmt}")
        return self.query(f"class/gp/decay_date/null-val/epoch/>now-30/orderby/NORAD_CAT_ID/format/{fmt}")

    def close(self) -> None:
        if self.logged_in:
            with contextlib.suppress(httpx.HTTPError):
                self.http.get(f"{self.base_url}/ajaxauth/logout")
        self.http.close()
