"""Helpers shared by the project, model and trash tests: a workspace with members, quick creates."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Account
from yolohost.accounts import repository, service
from yolohost.db.engine import transaction


@dataclass
class Crew:
    """alice owns the workspace ``alice``; viewer1 and editor1 are members; outsider is not."""

    alice: Account
    viewer: Account
    editor: Account
    outsider: Account


def join(app, workspace: str, account: Account, role: str) -> None:
    with transaction(app.state.sessions) as session:
        ws = repository.workspace_by_username(session, workspace)
        service.add_member(session, ws, repository.user_by_id(session, account.user_id), role)


@pytest.fixture
def crew(app, alice, make_account) -> Crew:
    viewer, editor, outsider = make_account("viewer1"), make_account("editor1"), make_account("outsider")
    join(app, "alice", viewer, "viewer")
    join(app, "alice", editor, "editor")
    return Crew(alice, viewer, editor, outsider)


def new_project(client, account: Account, slug: str, **fields) -> dict:
    r = client.post("/api/projects", json={"project": slug, "name": fields.pop("name", slug.title()), **fields},
                    headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def new_model(client, account: Account, project: str, slug: str, owner: str | None = None) -> dict:
    """A model without weights, through the contract's JSON create."""
    body = {"project": project, "model": slug, **({"owner": owner} if owner else {})}
    r = client.post("/api/models", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def counts(client, account: Account) -> dict:
    return client.get("/api/account/summary", headers=account.bearer).json()["counts"]


def weights_path(app, model_id: str):
    return app.state.storage.path(f"models/{model_id}/best.pt")
