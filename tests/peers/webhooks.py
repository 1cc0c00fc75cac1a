"""A webhook receiver that records what it gets and answers with the statuses it is told to."""

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)  # answers to give next; 200 once exhausted
    received: list[tuple[dict, bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request):
            self.received.append((dict(request.headers), await request.body()))
            return Response("ok" if not self.statuses else "no", status_code=self.statuses.pop(0)
                            if self.statuses else 200)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])
