"""CelesTrak GP queries (https://celestrak.org/NORAD/documentation/gp-data-formats.php).

CelesTrak updates GP data about every two hours and asks clients not to fetch the same data
more often, so results are cached for two hours and requests are spaced out.
"""

from __future__ import annotations

import httpx

from ..errors import InputError
from .http import USER_AGENT, ClientError, FileCache, PoliteRequestPacer

CELESTRAK_URL = "https://celestrak.org"
FORMATS = {"tle", "3le", "2le", "xml", "kvn", "json", "csv"}
QUERIES = {"CATNR", "INTDES", "GROUP", "NAME", "SPECIAL"}


class CelesTrakClient:
    def __init__(
        self,
        base_url: str = CELESTRAK_URL,
        cache: FileCache | None = None,
        limiter: PoliteRequestPacer | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self.limiter = limiter or PoliteRequestPacer([(1, 2.0)])
        self.http = httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT})

    def gp(self, query: str, value: str | int, fmt: str = "json") -> str:
        """One GP query, e.g. ``gp("GROUP", "stations")`` or ``gp("CATNR", 25544, "3le")``."""
        query = query.upper()
        fmt = fmt.lower()
        if query not in QUERIES:
            raise InputError(f"query must be one of {sorted(QUERIES)}, got {query!r}")
        if fmt not in FORMATS:
            raise InputError(f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
        url = f"{self.base_url}/NORAD/elements/gp.php"
        params = {query: str(value), "FORMAT": fmt}
        key = f"celestrak {url} {sorted(params.items())}"
        if self.cache and (hit := self.cache.get(key)) is not None:
            return hit
        self.limiter.wait()
        try:
            resp = self.http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise ClientError(f"CelesTrak request failed: {exc}") from exc
        if resp.status_code != 200:
            raise ClientError(f"CelesTrak answered HTTP {resp.status_code} for {query}={value}: {resp.text[:200]}")
        body = resp.text
        if body.strip().startswith("No GP data found"):
            raise ClientError(f"CelesTrak has no GP data for {query}={value}")
        if self.cache:
            self.cache.put(key, body)
        return body

    def close(self) -> None:
        self.http.close()
