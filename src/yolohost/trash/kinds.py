"""The kinds of resources the trash holds: models, projects and datasets."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yolohost.datasets import repository as datasets_repo
from yolohost.datasets import service as datasets
from yolohost.models import repository as models_repo
from yolohost.models import service as models
from yolohost.projects import repository as projects_repo
from yolohost.projects import service as projects
from yolohost.trash.registry import Entry, Kind, Purged, Trashed, register


def _model_entries(session: Session, workspace_id: str) -> list[Entry]:
    return [
        Entry(
            id=m.id, type="model", name=m.name, slug=m.slug, trashed_at=m.deleted_at, size_bytes=m.weights_size or 0,
            parent={"_id": p.id, "name": p.name, "slug": p.slug},
        )
        for m, p in models_repo.trashed_alone_in_workspace(session, workspace_id)
    ]


def _locate_model(session: Session, model_id: str) -> Trashed | None:
    located = models.trashed(session, model_id)
    return Trashed(located, located.workspace, located.model.deleted_at) if located else None


def _restore_model(session: Session, located: models.Located) -> None:
    models.restore(session, located)
    return None


def _purge_model(session: Session, located: models.Located, storage) -> Purged:
    models.purge(session, located)
    return Purged([models.files_prefix(located.model.id)])


def _project_entries(session: Session, workspace_id: str) -> list[Entry]:
    entries = []
    for p in projects_repo.trashed_in_workspace(session, workspace_id):
        cascaded = projects_repo.models_trashed_with(session, p.id)
        entries.append(
            Entry(
                id=p.id, type="project", name=p.name, slug=p.slug, trashed_at=p.deleted_at,
                size_bytes=sum(m.weights_size or 0 for m in cascaded), cascaded_count=len(cascaded),
            )
        )
    return entries


def _locate_project(session: Session, project_id: str) -> Trashed | None:
    found = projects.trashed(session, project_id)
    return Trashed(found, found.workspace, found.project.deleted_at) if found else None


def _purge_project(session: Session, found: projects.Found, storage) -> Purged:
    model_ids = projects.purge(session, found)
    return Purged([models.files_prefix(i) for i in model_ids], cascaded_models=len(model_ids))


register(Kind("model", "models", "models", _model_entries, _locate_model, _restore_model, _purge_model))
register(Kind("project", "projects", "projects", _project_entries, _locate_project, projects.restore, _purge_project))


def _dataset_entries(session: Session, workspace_id: str) -> list[Entry]:
    entries = []
    for d in datasets_repo.trashed_in_workspace(session, workspace_id):
        size = datasets_repo.totals(session, d.id)[2]
        entries.append(Entry(id=d.id, type="dataset", name=d.name, slug=d.slug, trashed_at=d.deleted_at, size_bytes=size))
    return entries


def _locate_dataset(session: Session, dataset_id: str) -> Trashed | None:
    located = datasets.trashed(session, dataset_id)
    return Trashed(located, located.workspace, located.dataset.deleted_at) if located else None


def _restore_dataset(session: Session, located: datasets.Located) -> None:
    datasets.restore(session, located)
    return None


def _purge_dataset(session: Session, located: datasets.Located, storage) -> Purged:
    return Purged(datasets.purge(session, storage, located))


register(Kind("dataset", "datasets", "datasets", _dataset_entries, _locate_dataset, _restore_dataset, _purge_dataset))
