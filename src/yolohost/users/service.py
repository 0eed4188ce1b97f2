"""The rules of profiles: the public profile of a handle (a person or a team), follows, username
availability with suggestions, and the caller's own profile settings."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts.service import Principal
from yolohost.db.tables import User, Workspace
from yolohost.kit.errors import Invalid, NotFound
from yolohost.kit.ids import HANDLE_MAX, HANDLE_MIN, HANDLE_RE, check_handle
from yolohost.users import repository as repo
from yolohost.users.schemas import SettingsBody

SUGGESTIONS = 5
_SUFFIXES = ("ai", "ml", "dev", "hq", "lab", "cv", "yolo", "io")


def _workspace(session: Session, username: str) -> Workspace:
    workspace = accounts_repo.workspace_by_username(session, username)
    if workspace is None:
        raise NotFound(f"User '{username}' not found")
    return workspace


def _icon_letter(name: str) -> str:
    return (name.strip()[:1] or "?").upper()


def profile(session: Session, principal: Principal | None, username: str) -> dict:
    """The contract's ``PublicUserResponse``: a person's profile, or a team's (``accountType: team``)."""
    workspace = _workspace(session, username)
    user = {
        "username": workspace.username,
        "fullName": workspace.name,
        "accountType": workspace.kind,
        "iconLetter": _icon_letter(workspace.name),
        "followerCount": repo.follower_count(session, workspace.id),
        "isFollowed": principal is not None and repo.follows(session, principal.user_id, workspace.id),
    }
    if workspace.kind == "personal":
        person = accounts_repo.user_by_id(session, workspace.owner_id)
        user["fullName"] = person.name
        user.update({k: v for k, v in _profile_fields(person).items() if v})
    return {"user": user}


def _profile_fields(user: User) -> dict:
    socials = {k: v for k, v in (user.socials or {}).items() if v}
    return {"bio": user.bio or "", "company": user.company or "", "useCase": user.use_case or "", "socials": socials}


def follow(session: Session, principal: Principal, username: str, followed: bool) -> dict:
    """Follow or unfollow a handle (idempotent); the contract's ``FollowUserResponse``."""
    workspace = _workspace(session, username)
    if workspace.kind == "personal" and workspace.owner_id == principal.user_id:
        raise Invalid("username: you cannot follow yourself")
    repo.set_follow(session, principal.user_id, workspace.id, followed)
    return {"followed": followed, "followerCount": repo.follower_count(session, workspace.id)}


# --- username availability ----------------------------------------------------------------------


def _valid_problem(username: str) -> str | None:
    try:
        check_handle(username)
    except Invalid as exc:
        return exc.message
    return None


def _base(username: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", username.lower()).strip("-")[: HANDLE_MAX - 5].strip("-")
    return base if len(base) >= 2 else "user"


def _candidates(base: str) -> list[str]:
    out = [base] if HANDLE_MIN <= len(base) and HANDLE_RE.match(base) else []
    out += [f"{base}-{s}" for s in _SUFFIXES] + [f"{base}{n}" for n in range(1, 100)]
    return [c for c in out if HANDLE_MIN <= len(c) <= HANDLE_MAX and HANDLE_RE.match(c)]


def check_username(session: Session, username: str, suggest: bool) -> dict:
    """Whether a handle can be taken (valid and unused by any person or team); free ones near it on request."""
    problem = _valid_problem(username)
    taken = problem is None and bool(repo.handles_taken(session, [username]))
    out: dict = {"username": username, "available": problem is None and not taken, "valid": problem is None}
    if problem:
        out["reason"] = problem
    elif taken:
        out["reason"] = f"username '{username}' is already taken"
    if suggest and not out["available"]:
        candidates = _candidates(_base(username))
        used = repo.handles_taken(session, candidates)
        out["suggestions"] = [c for c in candidates if c not in used and c != username][:SUGGESTIONS]
    return out


# --- the caller's settings ----------------------------------------------------------------------


def settings_of(session: Session, principal: Principal) -> dict:
    user = accounts_repo.user_by_id(session, principal.user_id)
    return {"username": user.username, "fullName": user.name, "email": user.email or "", **_profile_fields(user)}


def update_settings(session: Session, principal: Principal, body: SettingsBody) -> dict:
    """Apply the fields sent; the display name is also the personal workspace's name."""
    user = accounts_repo.user_by_id(session, principal.user_id)
    sent = body.model_fields_set
    if "fullName" in sent and body.fullName is not None:
        user.name = body.fullName.strip() or user.name
        workspace = accounts_repo.personal_workspace(session, user.id)
        if workspace is not None:
            workspace.name = user.name
    for field, attr in (("bio", "bio"), ("company", "company"), ("useCase", "use_case")):
        if field in sent:
            setattr(user, attr, (getattr(body, field) or "").strip() or None)
    if "socials" in sent:
        current = dict(user.socials or {})
        for key, value in (body.socials.model_dump(exclude_unset=True) if body.socials else {}).items():
            if value:
                current[key] = value
            else:
                current.pop(key, None)
        user.socials = current or None
    session.flush()
    return settings_of(session, principal)
