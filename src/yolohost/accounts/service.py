"""The rules of accounts: users and their workspaces, API keys, and who may do what where."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yolohost.accounts import keys
from yolohost.accounts import repository as repo
from yolohost.accounts.roles import MEMBER_ROLES, SCOPES, Role
from yolohost.db.tables import ApiKey, User, Workspace, WorkspaceMember
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from yolohost.kit.ids import check_handle, new_id


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, through one API key that may be limited to some scopes."""

    user_id: str
    username: str
    key_id: str
    scopes: frozenset[str] | None  # None: every scope
    is_admin: bool = False

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def require_scope(self, scope: str) -> None:
        if not self.has_scope(scope):
            granted = ", ".join(sorted(self.scopes or ())) or "none"
            raise Forbidden(f"This API key lacks the '{scope}' scope (it has: {granted})")


# --- users and workspaces -------------------------------------------------------------


def create_user(session: Session, username: str, name: str | None = None, *, is_admin: bool = False) -> User:
    """A user and the personal workspace that shares the user's handle."""
    check_handle(username)
    if repo.workspace_by_username(session, username) is not None:
        raise Conflict(f"username '{username}' is already taken")
    user = User(id=new_id("usr"), username=username, name=name or username, is_admin=is_admin)
    workspace = Workspace(id=new_id("ws"), username=username, name=user.name, kind="personal", owner_id=user.id)
    session.add(user)
    session.flush()
    session.add(workspace)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create of the same handle won the race
        raise Conflict(f"username '{username}' is already taken") from exc
    return user


def get_user(session: Session, username: str) -> User:
    user = repo.user_by_username(session, username)
    if user is None:
        raise NotFound(f"User '{username}' not found")
    return user


def add_member(session: Session, workspace: Workspace, user: User, role: str) -> WorkspaceMember:
    if role not in MEMBER_ROLES:
        raise Invalid(f"role must be one of {', '.join(MEMBER_ROLES)}; got {role!r}")
    if user.id == workspace.owner_id:
        raise Conflict("The workspace owner is already a member")
    member = repo.membership(session, workspace.id, user.id)
    if member is None:
        member = WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role=role)
        session.add(member)
    else:
        member.role = role
    session.flush()
    return member


def role_in(session: Session, workspace: Workspace, user_id: str) -> Role | None:
    """The user's role in a workspace, or None for an outsider."""
    if workspace.owner_id == user_id:
        return Role.owner
    member = repo.membership(session, workspace.id, user_id)
    return Role[member.role] if member else None


def can_read(session: Session, principal: Principal | None, workspace: Workspace, *, public: bool = False) -> bool:
    if public:
        return True
    return principal is not None and role_in(session, workspace, principal.user_id) is not None


def can_write(session: Session, principal: Principal | None, workspace: Workspace) -> bool:
    if principal is None:
        return False
    role = role_in(session, workspace, principal.user_id)
    return role is not None and role >= Role.editor


def require_read(
    session: Session, principal: Principal | None, workspace: Workspace, *, public: bool = False, what: str = "Resource"
) -> None:
    """Outsiders get 404 for private resources, so ids of others' resources do not leak."""
    if not can_read(session, principal, workspace, public=public):
        raise NotFound(f"{what} not found")


def require_write(
    session: Session, principal: Principal | None, workspace: Workspace, *, public: bool = False, what: str = "Resource"
) -> None:
    """404 when the caller cannot even see it; 403 when it can see but not change it."""
    require_read(session, principal, workspace, public=public, what=what)
    if not can_write(session, principal, workspace):
        raise Forbidden(f"You have read-only access to this {what.lower()} (editor role or higher required)")


def member_workspace(session: Session, principal: Principal, owner: str | None, what: str) -> Workspace:
    """The workspace ``owner`` if the caller is a member (else 403 about ``what``), or the caller's own."""
    if not owner:
        return repo.personal_workspace(session, principal.user_id)
    workspace = repo.workspace_by_username(session, owner)
    if workspace is None or not can_read(session, principal, workspace):
        raise Forbidden(f"You have no access to the {what} of workspace '{owner}'")
    return workspace


def require_role(session: Session, principal: Principal, workspace: Workspace, role: Role) -> None:
    actual = role_in(session, workspace, principal.user_id)
    if actual is None:
        raise NotFound("Workspace not found")
    if actual < role:
        raise Forbidden(f"This needs the {role.name} role in workspace '{workspace.username}' (you are {actual.name})")


# --- API keys -----------------------------------------------------------------------------


def normalize_scopes(scopes: list[str] | None) -> list[str] | None:
    if scopes is None:
        return None
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise Invalid(f"scopes: unknown scope {unknown[0]!r}; allowed: {', '.join(SCOPES)}")
    if not scopes:
        raise Invalid("scopes must list at least one scope, or be left out for a key with every scope")
    return sorted(set(scopes))


def create_key(
    session: Session, user: User, name: str, scopes: list[str] | None = None, *, creator: Principal | None = None
) -> tuple[ApiKey, str]:
    """A new key for ``user``; the plaintext is returned here and never again.

    A key created through the API cannot exceed the key that created it.
    """
    name = name.strip()
    if not name or len(name) > 128:
        raise Invalid("name must be 1-128 characters")
    scopes = normalize_scopes(scopes)
    if creator is not None and creator.scopes is not None:
        wider = sorted(set(scopes or SCOPES) - creator.scopes)
        if wider:
            raise Forbidden(f"This API key cannot grant scopes it lacks: {', '.join(wider)}")
    plaintext = keys.generate()
    key = ApiKey(
        id=new_id("key"),
        user_id=user.id,
        name=name,
        key_hash=keys.digest(plaintext),
        key_prefix=keys.display_prefix(plaintext),
        scopes=scopes,
    )
    session.add(key)
    session.flush()
    return key, plaintext


def revoke_key(session: Session, key_id: str, *, user_id: str | None = None) -> ApiKey:
    """Revoke a key; ``user_id`` limits it to that user's keys (others' keys are 'not found')."""
    key = repo.key_by_id(session, key_id)
    if key is None or key.revoked_at is not None or (user_id is not None and key.user_id != user_id):
        raise NotFound(f"API key '{key_id}' not found")
    key.revoked_at = clock.now()
    session.flush()
    return key


def authenticate(session: Session, presented: str | None) -> Principal:
    """The principal of a presented key, or 401. Unknown, revoked and malformed keys look alike."""
    if not presented or not keys.is_well_formed(presented):
        raise Unauthorized("Invalid or missing API key")
    found = repo.active_key_by_hash(session, keys.digest(presented))
    if found is None:
        raise Unauthorized("Invalid or missing API key")
    key, user = found
    return Principal(
        user_id=user.id,
        username=user.username,
        key_id=key.id,
        scopes=frozenset(key.scopes) if key.scopes is not None else None,
        is_admin=user.is_admin,
    )


def ensure_owner(session: Session, username: str) -> str | None:
    """On the first start (no users yet) create the owner account; return its first key once."""
    if repo.count_users(session) > 0:
        return None
    owner = create_user(session, username, is_admin=True)
    _, plaintext = create_key(session, owner, "default")
    return plaintext


def resource_counts(session: Session, principal: Principal) -> dict[str, int]:
    """Active projects, datasets and models of the caller's personal workspace."""
    workspace = repo.personal_workspace(session, principal.user_id)
    return repo.resource_counts(session, workspace.id)
