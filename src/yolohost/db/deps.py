"""The request's database session: one transaction per request, committed before the response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from yolohost.db.engine import transaction


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessions) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a 2xx means committed.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
