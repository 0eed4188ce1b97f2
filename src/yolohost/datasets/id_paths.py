"""The seed reference's id routes for datasets: ``/api/datasets/{datasetId}/...`` is served by the
contract's ``/api/datasets/{owner}/{dataset}/...`` handlers, rewritten before routing.

One mechanism for every sub-route, so the two styles cannot drift apart. Dataset ids look like
``ds_<24 hex>``, which no owner handle can (handles have no underscore).
"""

from __future__ import annotations

import re

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from yolohost.datasets import repository as repo

_ID_PATH = re.compile(r"^/api/datasets/(ds_[0-9a-f]{24})(/.*)?$")


class DatasetIdPaths:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (match := _ID_PATH.match(scope["path"])):
            found = await anyio.to_thread.run_sync(self._lookup, scope["app"].state.sessions, match.group(1))
            if found:  # unknown ids fall through to the routes, which answer 404
                path = f"/api/datasets/{found}{match.group(2) or ''}"
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)

    @staticmethod
    def _lookup(sessions, dataset_id: str) -> str | None:
        with sessions() as session:
            found = repo.located_by_id(session, dataset_id)
        return f"{found[1].username}/{found[0].slug}" if found else None
