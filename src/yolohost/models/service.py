"""The rules of models: create, find with read/write checks, attach a checkpoint, describe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.activity import service as activity
from yolohost.db.tables import Model, Project, Workspace
from yolohost.inference.engine import ModelRef
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid, NotFound
from yolohost.kit.ids import check_slug, new_id, slugify
from yolohost.kit.storage import Storage
from yolohost.models import repository as repo
from yolohost.projects import repository as projects_repo
from yolohost.projects import service as projects

WEIGHTS_NAME = "best.pt"
TASKS = ("detect", "segment", "semantic", "classify", "pose", "obb")


@dataclass(frozen=True, slots=True)
class Located:
    model: Model
    project: Project
    workspace: Workspace

    @property
    def uri(self) -> str:
        return f"{self.workspace.username}/{self.project.slug}/{self.model.slug}"


def weights_key(model_id: str) -> str:
    return f"models/{model_id}/{WEIGHTS_NAME}"


def files_prefix(model_id: str) -> str:
    """Every stored file of a model lives under this key."""
    return f"models/{model_id}"


def workspace_for(session: Session, principal: Principal, owner: str | None) -> Workspace:
    """The workspace named ``owner``, or the caller's personal one."""
    if owner:
        workspace = accounts_repo.workspace_by_username(session, owner)
        if workspace is None:
            raise NotFound(f"Workspace '{owner}' not found")
        return workspace
    return accounts_repo.personal_workspace(session, principal.user_id)


def project_for(session: Session, principal: Principal, owner: str | None, project: str) -> tuple[Workspace, Project]:
    """A project to create a model in: an existing project id, or a slug created if missing."""
    existing = projects_repo.by_id(session, project)
    if existing is not None:
        workspace = accounts_repo.workspace_by_id(session, existing.workspace_id)
        accounts.require_write(session, principal, workspace, public=existing.visibility == "public", what="Project")
        return workspace, existing
    workspace = workspace_for(session, principal, owner)
    accounts.require_write(session, principal, workspace, what="Workspace")
    return workspace, projects.get_or_create(session, workspace, project)


def create(
    session: Session,
    principal: Principal,
    *,
    project: str,
    owner: str | None = None,
    slug: str | None = None,
    name: str | None = None,
    task: str | None = None,
    description: str | None = None,
) -> Located:
    if task is not None and task not in TASKS:
        raise Invalid(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    if name is not None and not (1 <= len(name.strip()) <= 100):
        raise Invalid("name must be 1-100 characters")
    slug = check_slug(slug, "model") if slug else slugify(name or "model")
    workspace, proj = project_for(session, principal, owner, project)
    if repo.by_slug(session, proj.id, slug) is not None:
        raise Conflict(f"Model '{slug}' already exists in project '{proj.slug}'")
    model = Model(
        id=new_id("mdl"),
        workspace_id=workspace.id,
        project_id=proj.id,
        slug=slug,
        name=(name or slug).strip(),
        description=description or "",
        task=task,
        status="untrained",
    )
    session.add(model)
    session.flush()
    activity.record(session, workspace.id, principal.user_id, "model.created", "model", model.id, f"{proj.slug}/{slug}")
    return Located(model, proj, workspace)


def find(session: Session, principal: Principal | None, owner: str, project: str, model: str) -> Located:
    found = repo.located_by_slugs(session, owner, project, model)
    return _readable(session, principal, found, f"{owner}/{project}/{model}")


def find_by_id(session: Session, principal: Principal | None, model_id: str) -> Located:
    return _readable(session, principal, repo.located_by_id(session, model_id), model_id)


def _readable(session: Session, principal: Principal | None, found, label: str) -> Located:
    if found is None:
        raise NotFound(f"Model '{label}' not found")
    located = Located(*found)
    accounts.require_read(session, principal, located.workspace, public=located.model.visibility == "public", what=f"Model '{label}'")
    return located


def require_editor(session: Session, principal: Principal, located: Located) -> None:
    accounts.require_write(
        session, principal, located.workspace, public=located.model.visibility == "public", what="Model"
    )


def attach_weights(session: Session, storage: Storage, located: Located, checkpoint: Path, info) -> Model:
    """Store a checkpoint (already inspected: ``info``) as the model's weights, replacing any before."""
    model = located.model
    if model.task and model.task != info.task:
        raise Invalid(f"checkpoint task '{info.task}' does not match the model's task '{model.task}'")
    size, digest = storage.put_file(weights_key(model.id), checkpoint)
    model.task = info.task
    model.class_names = info.class_names
    model.imgsz = info.imgsz
    model.weights_size = size
    model.weights_sha256 = digest
    model.status = "completed"
    model.updated_at = clock.now()
    session.flush()
    return model


def engine_ref(storage: Storage, located: Located) -> ModelRef:
    """What the inference engine needs; 400 if the model has no weights yet."""
    if not located.model.weights_sha256:
        raise Invalid(f"Model '{located.uri}' has no weights yet; upload a checkpoint first")
    return ModelRef(
        id=located.model.id,
        uri=located.uri,
        weights=storage.path(weights_key(located.model.id)),
        digest=located.model.weights_sha256,
    )


def describe(located: Located, stars: tuple[int, bool] = (0, False)) -> dict:
    """The contract's ``Model`` (plus ``metadata``, which only the detail response carries)."""
    m = located.model
    out = {
        "id": m.id,
        "owner": located.workspace.username,
        "project": located.project.slug,
        "projectName": located.project.name,
        "model": m.slug,
        "visibility": m.visibility,
        "name": m.name,
        "description": m.description,
        "status": m.status,
        "hasWeights": bool(m.weights_sha256),
        "starCount": stars[0],
        "isStarred": stars[1],
        "createdAt": clock.iso(m.created_at),
        "updatedAt": clock.iso(m.updated_at),
        "metadata": m.metadata_ or {},
    }
    if m.task:
        out["task"] = m.task
    if m.class_names is not None:
        out["classNames"] = m.class_names
    if m.weights_size is not None:
        out["file"] = {"size": m.weights_size}
    if m.train_args:
        out["trainArgs"] = m.train_args
    if m.metrics:
        out["metrics"] = m.metrics
    for key, value in (("color", m.color), ("license", m.license), ("clonedFrom", m.cloned_from)):
        if value:
            out[key] = value
    return out


# --- listing, changing, trashing, cloning ------------------------------------------------------


def stars(session: Session, principal: Principal, model_id: str) -> tuple[int, bool]:
    return repo.star_counts(session, [model_id], principal.user_id)[model_id]


def list_in_project(session: Session, principal: Principal | None, found: projects.Found, limit: int) -> list[dict]:
    """The project's models the caller may see (private ones only for members), newest first, as ``Model``s."""
    member = accounts.can_read(session, principal, found.workspace)
    models = repo.live_in_project(session, found.project.id, public_only=not member, limit=limit)
    counts = repo.star_counts(session, [m.id for m in models], principal.user_id if principal else None)
    out = []
    for model in models:
        item = describe(Located(model, found.project, found.workspace), counts[model.id])
        item.pop("metadata")  # the list's ``Model`` has no metadata
        out.append(item)
    return out


_PLAIN = {"description": "description", "metadata": "metadata_", "status": "status", "license": "license",
          "visibility": "visibility", "color": "color"}


def update(session: Session, principal: Principal, located: Located, fields: dict[str, Any]) -> dict:
    """Apply a PATCH. Starring needs only read access; every other change needs the editor role.

    As for projects, a new display name renames the model in URLs (409 if taken); ``projectId``
    moves it into another project of the same workspace."""
    model = located.model
    changes = {k: v for k, v in fields.items() if k != "starred"}
    if changes or "starred" not in fields:
        require_editor(session, principal, located)
    project = located.project
    if "projectId" in changes and changes["projectId"] != project.id:
        project = _move_target(session, located, changes["projectId"])
    slug = model.slug
    if "name" in changes and changes["name"].strip() != model.name:
        model.name = changes["name"].strip()
        slug = projects.slug_for_name(model.name, model.slug)
    if project.id != model.project_id or slug != model.slug:
        other = repo.by_slug(session, project.id, slug)
        if other is not None and other.id != model.id:
            raise Conflict(f"Model '{slug}' already exists in project '{project.slug}'")
        model.project_id, model.slug = project.id, slug
    for key, attr in _PLAIN.items():
        if key in changes:
            setattr(model, attr, changes[key])
    if changes:
        model.updated_at = clock.now()
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent request took the slug first
            raise Conflict(f"Model '{slug}' already exists in project '{project.slug}'") from exc
    if "starred" in fields:
        repo.set_star(session, model.id, principal.user_id, fields["starred"])
        if not changes:
            count, mine = stars(session, principal, model.id)
            return {"starred": mine, "starCount": count}
    return {"success": True, "model": model.slug}


def _move_target(session: Session, located: Located, project_id: str) -> Project:
    target = projects_repo.by_id(session, project_id)
    if target is None or target.workspace_id != located.workspace.id:
        raise Invalid(f"projectId: no project '{project_id}' in workspace '{located.workspace.username}'")
    return target


def trash(session: Session, principal: Principal, located: Located) -> None:
    """Move the model to the trash (restorable for the retention period)."""
    from yolohost.training import service as training  # training imports this module

    require_editor(session, principal, located)
    located.model.deleted_at = clock.now()
    located.model.deleted_with_project = False
    training.stop_for_deleted(session, [located.model.id])
    activity.record(session, located.workspace.id, principal.user_id, "model.deleted", "model", located.model.id,
                    f"{located.project.slug}/{located.model.slug}")
    session.flush()


def copy_into(
    session: Session,
    storage: Storage,
    source: Model,
    project: Project,
    workspace: Workspace,
    *,
    slug: str,
    name: str,
    description: str,
    copied: list[str],
) -> Model:
    """A new model in ``project`` with the source's checkpoint and what was read from it.
    The storage prefix written is appended to ``copied`` (for cleanup if the transaction fails)."""
    has_weights = bool(source.weights_sha256)
    model = Model(
        id=new_id("mdl"),
        workspace_id=workspace.id,
        project_id=project.id,
        slug=slug,
        name=name,
        description=description,
        visibility=project.visibility,
        status="completed" if has_weights else "untrained",
        task=source.task,
        class_names=source.class_names,
        imgsz=source.imgsz,
        metadata_=source.metadata_,
        train_args=source.train_args,
        metrics=source.metrics,
        color=source.color,
        license=source.license,
        cloned_from=source.id,
    )
    if has_weights:
        copied.append(files_prefix(model.id))
        model.weights_size, model.weights_sha256 = storage.put_file(
            weights_key(model.id), storage.path(weights_key(source.id))
        )
    session.add(model)
    return model


def clone(
    session: Session, storage: Storage, principal: Principal, source: Located, fields: dict[str, Any], copied: list[str]
) -> Located:
    """Copy a readable model into an existing project of a workspace the caller can edit (weights too)."""
    workspace = projects.editable_workspace(session, principal, fields.get("owner"), what="models")
    project = projects_repo.by_slug(session, workspace.id, fields["project"])
    if project is None:
        raise NotFound(f"Project '{workspace.username}/{fields['project']}' not found")
    name = fields.get("name") or source.model.name
    slug = fields.get("model") or (projects.slug_for_name(name, source.model.slug) if fields.get("name") else source.model.slug)
    check_slug(slug, "model")
    # The contract lists no 409 for a clone, so a taken name is a 400 naming it.
    taken = f"model: '{slug}' already exists in project '{workspace.username}/{project.slug}'; pass another as `model`"
    if repo.by_slug(session, project.id, slug) is not None:
        raise Invalid(taken)
    model = copy_into(session, storage, source.model, project, workspace, slug=slug, name=name,
                      description=fields.get("description", source.model.description), copied=copied)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Invalid(taken) from exc
    activity.record(session, workspace.id, principal.user_id, "model.cloned", "model", model.id, f"{project.slug}/{slug}",
                    {"from": source.uri})
    return Located(model, project, workspace)


# --- the trash ---------------------------------------------------------------------------------


def trashed(session: Session, model_id: str) -> Located | None:
    found = repo.trashed_by_id(session, model_id)
    return Located(*found) if found else None


def restore(session: Session, located: Located) -> None:
    """Bring a model trashed on its own back; its project must be live and its slug free (else 400)."""
    model, project = located.model, located.project
    if model.deleted_with_project:
        raise Invalid(f"Model '{model.slug}' went to the trash with project '{project.slug}': restore the project")
    if project.deleted_at is not None:
        raise Invalid(f"Cannot restore: project '{project.slug}' is in the trash; restore the project first")
    taken = f"Cannot restore: model '{model.slug}' already exists in project '{project.slug}'; rename or delete that one first"
    if repo.by_slug(session, project.id, model.slug) is not None:
        raise Invalid(taken)
    model.deleted_at = None
    try:
        session.flush()
    except IntegrityError as exc:
        raise Invalid(taken) from exc


def purge(session: Session, located: Located) -> None:
    """Delete a trashed model's row for good (its files go after the commit: ``files_prefix``)."""
    session.delete(located.model)
    session.flush()
