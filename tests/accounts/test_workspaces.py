"""Workspace roles and the checks later domains call: can_read / can_write / require_*."""

import pytest

from yolohost.accounts import repository, service
from yolohost.accounts.roles import Role
from yolohost.db.engine import transaction
from yolohost.kit.errors import Forbidden, Invalid, NotFound


@pytest.fixture
def team(app, client):
    """A workspace owned by 'owner1' with a viewer, an editor and an admin, plus an outsider."""
    with transaction(app.state.sessions) as session:
        people = {name: service.create_user(session, name) for name in ("owner1", "viewer1", "editor1", "admin1", "outsider")}
        ws = repository.personal_workspace(session, people["owner1"].id)
        for role in ("viewer", "editor", "admin"):
            service.add_member(session, ws, people[f"{role}1"], role)
        return ws.id, {name: service.Principal(u.id, u.username, "key_x", None) for name, u in people.items()}


EXPECTED = {  # who: (read private, write, manage members)
    "owner1": (True, True, True),
    "admin1": (True, True, True),
    "editor1": (True, True, False),
    "viewer1": (True, False, False),
    "outsider": (False, False, False),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_role_matrix(app, team, who):
    ws_id, principals = team
    read, write, manage = EXPECTED[who]
    p = principals[who]
    with transaction(app.state.sessions) as session:
        ws = repository.workspace_by_id(session, ws_id)
        assert service.can_read(session, p, ws) is read
        assert service.can_read(session, p, ws, public=True) is True
        assert service.can_write(session, p, ws) is write
        if manage:
            service.require_role(session, p, ws, Role.admin)
        else:
            with pytest.raises((Forbidden, NotFound)):
                service.require_role(session, p, ws, Role.admin)


def test_private_resources_of_others_are_not_found_public_ones_forbidden(app, team):
    ws_id, principals = team
    with transaction(app.state.sessions) as session:
        ws = repository.workspace_by_id(session, ws_id)
        with pytest.raises(NotFound):
            service.require_read(session, principals["outsider"], ws, what="Model")
        with pytest.raises(NotFound):
            service.require_write(session, principals["outsider"], ws, what="Model")
        with pytest.raises(Forbidden, match="read-only"):
            service.require_write(session, principals["outsider"], ws, public=True, what="Model")
        with pytest.raises(Forbidden):
            service.require_write(session, principals["viewer1"], ws, what="Model")
        service.require_write(session, principals["editor1"], ws, what="Model")
        assert not service.can_read(session, None, ws)
        assert service.can_read(session, None, ws, public=True)


def test_member_rules(app, team):
    ws_id, principals = team
    with transaction(app.state.sessions) as session:
        ws = repository.workspace_by_id(session, ws_id)
        owner = repository.user_by_id(session, principals["owner1"].user_id)
        viewer = repository.user_by_id(session, principals["viewer1"].user_id)
        with pytest.raises(Invalid, match="role must be one of"):
            service.add_member(session, ws, viewer, "owner")
        with pytest.raises(Exception, match="owner is already a member"):
            service.add_member(session, ws, owner, "admin")
        service.add_member(session, ws, viewer, "editor")  # a role change, not a second row
        assert service.role_in(session, ws, viewer.id) is Role.editor


def test_handles_are_unique_and_validated(app, client):
    from yolohost.kit.errors import Conflict

    with transaction(app.state.sessions) as session:
        service.create_user(session, "dana")
    with transaction(app.state.sessions) as session:
        with pytest.raises(Conflict):
            service.create_user(session, "dana")
    for bad in ("abc", "Dana", "-dana", "da--na", "dana-", "x" * 33, "da na"):
        with pytest.raises(Invalid, match="username"):
            service.create_user(session, bad)
