"""The rules of models: create, find with read/write checks, attach a checkpoint, describe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
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


def describe(located: Located) -> dict:
    """The contract's ``Model``."""
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
        "starCount": 0,
        "isStarred": False,
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
    return out
