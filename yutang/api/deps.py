"""Request plumbing: the database from app state, one unit of work per request (read-only for reads), the calling
Actor, and the warehouse pipeline caught up for read-your-writes."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from yutang.kit.errors import Unauthorized
from yutang.runtime.database import Database
from yutang.runtime.pipeline import Pipeline
from yutang.storage.engine import ReadSession
from yutang.stores import service as stores_service
from yutang.workspaces import service as workspaces_service
from yutang.workspaces.access import Actor, Need

bearer = HTTPBearer(auto_error=False, description="A workspace API key: `Authorization: Bearer yt_…`")


def database(request: Request) -> Database:
    """The Database the app was created with."""
    return request.app.state.database


@contextmanager
def unit_of_work(request: Request) -> Iterator[Session]:
    """One write transaction for the request, committed before the response is built."""
    with database(request).unit_of_work() as session:
        yield session


@contextmanager
def read_only(request: Request) -> Iterator[ReadSession]:
    """One read-only transaction for the request: it does not queue behind writers, and a write in it fails."""
    with database(request).read_only() as session:
        yield session


def current_actor(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
    """Authenticate the API key in the Authorization header (or X-Api-Key)."""
    secret = credentials.credentials if credentials else request.headers.get("x-api-key", "")
    if not secret:
        raise Unauthorized("send your workspace API key as 'Authorization: Bearer <key>'")
    with read_only(request) as session:
        actor = workspaces_service.authenticate(session, secret=secret)
        return stores_service.with_team(session, actor=actor)


def pipeline(request: Request) -> Pipeline:
    """The app's warehouse pipeline as it stands (no catching up)."""
    return request.app.state.pipeline


def caught_up(request: Request) -> Pipeline:
    """The pipeline brought up to every commit and acknowledged event: read-your-writes for the handler.

    A dependency runs before the handler opens its unit of work, which may hold SQLite's write lock that the
    relay's own commits need.
    """
    found = pipeline(request)
    found.catch_up()
    return found


ActorDep = Annotated[Actor, Depends(current_actor)]
PipelineDep = Annotated[Pipeline, Depends(pipeline)]
CaughtUp = Annotated[Pipeline, Depends(caught_up)]
# Ids are 64-bit: anything larger is refused here rather than overflowing in PostgreSQL.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


class Requires:
    """The dependency that enforces an operation's need (yutang.api.roles), before its input is read."""

    def __init__(self, need: Need):
        self.need = need

    def __call__(self, actor: ActorDep) -> Actor:
        actor.require_need(self.need)
        return actor
