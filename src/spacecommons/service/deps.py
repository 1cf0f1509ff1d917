"""Shared route plumbing: a session per request and route declaration with roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from ..storage.partners_repo import Identity
from .security import allow, identify_async

MAX_ID = 2_147_483_647  # 32-bit integer columns (PostgreSQL INTEGER, and what SQLite accepts)
Id = Annotated[int, Path(ge=0, le=MAX_ID)]


def db(request: Request) -> Iterator[Session]:
    with request.app.state.session_maker() as session:
        yield session


def route(router: APIRouter, method: str, path: str, roles: tuple[str, ...], **kwargs) -> Callable:
    """Register ``fn`` on ``router`` admitting ``roles`` (see security.allow)."""

    def decorator(fn: Callable) -> Callable:
        router.add_api_route(
            path,
            fn,
            methods=[method],
            dependencies=[Depends(allow(*roles))],
            openapi_extra={"x-roles": list(roles)},
            **kwargs,
        )
        return fn

    return decorator


def clock(request: Request) -> Callable[[], datetime]:
    """The server's clock: aware UTC datetimes (injected at app creation; frozen in tests)."""
    return request.app.state.clock


SessionDep = Annotated[Session, Depends(db)]
CallerDep = Annotated[Identity, Depends(identify_async)]
ClockDep = Annotated[Callable[[], datetime], Depends(clock)]
