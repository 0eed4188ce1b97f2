"""The rules of projects: create, find with read/write checks, list, change, trash, clone, restore, purge."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.activity import service as activity
from yolohost.db.tables import Model, Project, Workspace
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yolohost.kit.ids import check_slug, new_id, slugify
from yolohost.kit.storage import Storage
from yolohost.projects import repository as repo

REGION = "us"


@dataclass(frozen=True, slots=True)
class Found:
    """A project and the workspace it lives in."""

    project: Project
    workspace: Workspace

    @property
    def uri(self) -> str:
        return f"{self.workspace.username}/{self.project.slug}"


def get_or_create(session: Session, workspace: Workspace, slug: str, name: str | None = None) -> Project:
    """The workspace's project ``slug``, created (private) if it does not exist yet."""
    check_slug(slug, "project")
    project = repo.by_slug(session, workspace.id, slug)
    if project is None:
        project = Project(id=new_id("prj"), workspace_id=workspace.id, slug=slug, name=name or slug)
        session.add(project)
        session.flush()
    return project


def slug_for_name(name: str, current: str) -> str:
    """The URL name a display name gives; a name without letters or digits keeps the current one."""
    return slugify(name) if re.search(r"[a-z0-9]", name.lower()) else current


def as_reader(principal: Principal, scope: str) -> Principal | None:
    """Who reads: public projects and models are readable by anyone (the contract lists no 403 on its
    reads), so a key without the route's scope reads as no key at all: public resources only."""
    return principal if principal.has_scope(scope) else None


def editable_workspace(session: Session, principal: Principal, owner: str | None, what: str = "projects") -> Workspace:
    """The workspace ``owner`` (default: the caller's own) if the caller may add to it: 400 unknown, 403 not editor."""
    if owner:
        workspace = accounts_repo.workspace_by_username(session, owner)
        if workspace is None:
            raise Invalid(f"owner: workspace '{owner}' not found")
    else:
        workspace = accounts_repo.personal_workspace(session, principal.user_id)
    if not accounts.can_write(session, principal, workspace):
        raise Forbidden(f"You need the editor role in workspace '{workspace.username}' to add {what} there")
    return workspace


def _taken(workspace: Workspace, slug: str) -> str:
    return f"project: '{slug}' already exists in workspace '{workspace.username}'"


def _flush_new_slug(session: Session, workspace: Workspace, slug: str, error: type[Exception]) -> None:
    """Flush; a concurrent request that took the same slug first becomes ``error``."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise error(_taken(workspace, slug)) from exc


# --- create and find ---------------------------------------------------------------------------


def create(
    session: Session,
    principal: Principal,
    *,
    slug: str | None,
    name: str | None,
    owner: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
    visibility: str | None = None,
    tags: list[str] | None = None,
    license: str | None = None,
) -> Found:
    if not slug and not name:
        raise Invalid("project is required: the project name used in URLs (and name, its display name)")
    slug = check_slug(slug, "project") if slug else slug_for_name(name, "project")
    workspace = editable_workspace(session, principal, owner)
    # The contract lists no 409 for this route, so a taken slug is a 400 naming it.
    if repo.by_slug(session, workspace.id, slug) is not None:
        raise Invalid(_taken(workspace, slug))
    project = Project(
        id=new_id("prj"),
        workspace_id=workspace.id,
        slug=slug,
        name=(name or slug).strip(),
        description=description or "",
        visibility=visibility or "private",
        metadata_=metadata,
        tags=tags,
        license=license,
    )
    session.add(project)
    _flush_new_slug(session, workspace, slug, Invalid)
    activity.record(session, workspace.id, principal.user_id, "project.created", "project", project.id, project.slug)
    return Found(project, workspace)


def find(session: Session, principal: Principal | None, owner: str, slug: str) -> Found:
    return _readable(session, principal, repo.located_by_slug(session, owner, slug), f"{owner}/{slug}")


def find_by_id(session: Session, principal: Principal | None, project_id: str) -> Found:
    return _readable(session, principal, repo.located_by_id(session, project_id), project_id)


def _readable(session: Session, principal: Principal | None, found, label: str) -> Found:
    if found is None:
        raise NotFound(f"Project '{label}' not found")
    located = Found(*found)
    public = located.project.visibility == "public"
    accounts.require_read(session, principal, located.workspace, public=public, what=f"Project '{label}'")
    return located


def require_editor(session: Session, principal: Principal, found: Found) -> None:
    public = found.project.visibility == "public"
    accounts.require_write(session, principal, found.workspace, public=public, what="Project")


# --- reading -----------------------------------------------------------------------------------


def list_for(session: Session, principal: Principal | None, owner: str, limit: int) -> tuple[list[dict], int]:
    """The owner's projects the caller may see (private ones only for members), newest first."""
    workspace = accounts_repo.workspace_by_username(session, owner)
    if workspace is None:
        raise NotFound(f"Owner '{owner}' not found")
    member = accounts.can_read(session, principal, workspace)
    projects, total = repo.live_in_workspace(session, workspace.id, public_only=not member, limit=limit)
    models = defaultdict(list)
    for model in repo.live_models(session, [p.id for p in projects], public_only=not member):
        models[model.project_id].append(model)
    stars = repo.star_counts(session, [p.id for p in projects], principal.user_id if principal else None)
    return [summary(p, workspace, models[p.id], stars[p.id]) for p in projects], total


def detail(session: Session, principal: Principal | None, found: Found) -> dict:
    """The contract's ``ProjectDetailResponse``: the project, the models the caller may see, ``isOwner``."""
    member = accounts.can_read(session, principal, found.workspace)
    project = found.project
    models = repo.live_models(session, [project.id], public_only=not member)
    stars = repo.star_counts(session, [project.id], principal.user_id if principal else None)[project.id]
    return {
        "project": {**summary(project, found.workspace, models, stars), "metadata": project.metadata_ or {}},
        "models": [model_summary(m) for m in models],
        "isOwner": principal is not None and found.workspace.owner_id == principal.user_id,
    }


def summary(project: Project, workspace: Workspace, models: list[Model], stars: tuple[int, bool]) -> dict:
    """The contract's ``Project``."""
    out: dict[str, Any] = {
        "id": project.id,
        "owner": workspace.username,
        "project": project.slug,
        "name": project.name,
        "description": project.description,
        "visibility": project.visibility,
        "tags": project.tags or [],
        "modelCount": len(models),
        "modelNames": [m.name for m in models],
        "totalBytes": sum(m.weights_size or 0 for m in models),
        "starCount": stars[0],
        "isStarred": stars[1],
        "archived": project.archived,
        "region": REGION,
        "createdAt": clock.iso(project.created_at),
        "updatedAt": clock.iso(project.updated_at),
    }
    optional = {
        "license": project.license,
        "iconColor": project.icon_color,
        "iconLetter": project.icon_letter,
        "viewPreferences": project.view_preferences,
        "clonedFrom": project.cloned_from,
    }
    out.update({k: v for k, v in optional.items() if v})
    tasks = {m.task for m in models if m.task}
    if len(tasks) == 1:
        out["task"] = tasks.pop()
    return out


def model_summary(model: Model) -> dict:
    """The contract's ``ProjectModelSummary``."""
    out: dict[str, Any] = {
        "id": model.id,
        "model": model.slug,
        "name": model.name,
        "status": model.status,
        "epochCount": 0,
        "hasWeights": bool(model.weights_sha256),
        "createdAt": clock.iso(model.created_at),
        "updatedAt": clock.iso(model.updated_at),
    }
    if model.color:
        out["color"] = model.color
    if model.task:
        out["task"] = model.task
    if model.weights_size is not None:
        out["file"] = {"size": model.weights_size}
    if model.metrics and all(isinstance(v, int | float) and not isinstance(v, bool) for v in model.metrics.values()):
        out["metrics"] = model.metrics
    return out


# --- changing ----------------------------------------------------------------------------------

_PLAIN = {"description": "description", "metadata": "metadata_", "tags": "tags", "license": "license", "archived": "archived",
          "iconColor": "icon_color"}


def update(session: Session, principal: Principal, found: Found, fields: dict[str, Any]) -> dict:
    """Apply a PATCH. Starring needs only read access; every other change needs the editor role.

    A new display name also renames the project in URLs (the contract's rule); 409 if that name is taken.
    """
    project, workspace = found.project, found.workspace
    changes = {k: v for k, v in fields.items() if k != "starred"}
    if changes or "starred" not in fields:
        require_editor(session, principal, found)
    if "name" in changes and changes["name"].strip() != project.name:
        name = changes["name"].strip()
        slug = slug_for_name(name, project.slug)
        if slug != project.slug and repo.by_slug(session, workspace.id, slug) is not None:
            raise Conflict(f"Project '{slug}' already exists in workspace '{workspace.username}'")
        project.name, project.slug = name, slug
    for key, attr in _PLAIN.items():
        if key in changes:
            setattr(project, attr, changes[key])
    if "visibility" in changes:
        project.visibility = changes["visibility"]
        repo.set_models_visibility(session, project.id, project.visibility)
    if "iconLetter" in changes:
        project.icon_letter = changes["iconLetter"] or None
    if "viewPreferences" in changes:
        project.view_preferences = changes["viewPreferences"].model_dump(exclude_none=True) or None
    if changes:
        project.updated_at = clock.now()
        _flush_new_slug(session, workspace, project.slug, Conflict)
    if "starred" in fields:
        repo.set_star(session, project.id, principal.user_id, fields["starred"])
        if not changes:
            count, mine = repo.star_counts(session, [project.id], principal.user_id)[project.id]
            return {"starred": mine, "starCount": count}
    return {"success": True, "project": project.slug}


def trash(session: Session, principal: Principal, found: Found) -> int:
    """Move the project and its live models to the trash; how many models went with it."""
    require_editor(session, principal, found)
    now = clock.now()
    found.project.deleted_at = now
    from yolohost.training import service as training  # training imports the models module, which imports this

    model_ids = repo.trash_models(session, found.project.id, now)
    training.stop_for_deleted(session, model_ids)
    activity.record(session, found.workspace.id, principal.user_id, "project.deleted", "project", found.project.id,
                    found.project.slug, {"cascadedModels": len(model_ids)})
    session.flush()
    return len(model_ids)


def clone(
    session: Session,
    storage: Storage,
    principal: Principal,
    source: Found,
    fields: dict[str, Any],
    copied: list[str],
) -> tuple[Found, int]:
    """Copy a readable project and its completed models (or the ``models`` named) into a workspace the
    caller can edit, weights included. Storage keys written are appended to ``copied`` for cleanup."""
    from yolohost.models import service as models  # models import this module; import at call time

    workspace = editable_workspace(session, principal, fields.get("owner"))
    slug = fields.get("project") or source.project.slug
    if repo.by_slug(session, workspace.id, slug) is not None:
        raise Invalid(_taken(workspace, slug) + "; pass another name as `project`")
    src = source.project
    project = Project(
        id=new_id("prj"),
        workspace_id=workspace.id,
        slug=slug,
        name=fields.get("name") or src.name,
        description=fields.get("description", src.description),
        visibility=fields.get("visibility") or "private",
        metadata_=src.metadata_,
        tags=src.tags,
        license=fields.get("license") or src.license,
        icon_color=src.icon_color,
        icon_letter=src.icon_letter,
        view_preferences=src.view_preferences,
        cloned_from=src.id,
    )
    session.add(project)
    _flush_new_slug(session, workspace, slug, Invalid)
    member = accounts.can_read(session, principal, source.workspace)
    candidates = repo.live_models(session, [src.id], public_only=not member)
    chosen = _models_to_clone(candidates, fields.get("models"), source)
    for model in reversed(chosen):  # oldest first, so the newest stays newest
        models.copy_into(session, storage, model, project, workspace, slug=model.slug, name=model.name,
                         description=model.description, copied=copied)
    activity.record(session, workspace.id, principal.user_id, "project.cloned", "project", project.id, project.slug,
                    {"from": source.uri, "models": len(chosen)})
    session.flush()
    return Found(project, workspace), len(chosen)


def _models_to_clone(candidates: list[Model], wanted: list[str] | None, source: Found) -> list[Model]:
    if wanted is None:
        return [m for m in candidates if m.status == "completed"]
    by_key = {m.slug: m for m in candidates} | {m.id: m for m in candidates}
    missing = [w for w in wanted if w not in by_key]
    if missing:
        raise Invalid(f"models: '{missing[0]}' is not a model of project '{source.uri}'")
    chosen = {by_key[w].id: by_key[w] for w in wanted}
    return [m for m in candidates if m.id in chosen]


# --- the trash ---------------------------------------------------------------------------------


def trashed(session: Session, project_id: str) -> Found | None:
    found = repo.located_by_id(session, project_id, trashed=True)
    return Found(*found) if found else None


def restore(session: Session, found: Found) -> int:
    """Bring a trashed project back with the models trashed with it; how many models came back.

    The slug must be free again (400 naming it: the contract's restore lists no 409)."""
    project, workspace = found.project, found.workspace
    if repo.by_slug(session, workspace.id, project.slug) is not None:
        raise Invalid(
            f"Cannot restore: project '{project.slug}' already exists in workspace '{workspace.username}'; "
            "rename or delete that one first"
        )
    project.deleted_at = None
    models = repo.models_trashed_with(session, project.id)
    for model in models:
        model.deleted_at = None
        model.deleted_with_project = False
    _flush_new_slug(session, workspace, project.slug, Invalid)
    return len(models)


def purge(session: Session, found: Found) -> list[str]:
    """Delete a trashed project and all its models for good; the ids of the models deleted."""
    model_ids = repo.all_model_ids(session, found.project.id)
    repo.delete_forever(session, found.project)
    return model_ids
