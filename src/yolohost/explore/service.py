"""The rules of explore: what anyone may find (public, live projects and datasets) and how it is shown.

Search pages by ``offset`` with ``limit`` results per type (20 by default, as the reference says);
``hasMore`` tells whether either type has more past this page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.datasets import repository as datasets_repo
from yolohost.datasets import service as datasets
from yolohost.datasets.labels import DATASET_TASKS
from yolohost.db.tables import Dataset, Project, Workspace
from yolohost.explore import repository as repo
from yolohost.explore.repository import Filters
from yolohost.kit import clock
from yolohost.kit.errors import Invalid, Unauthorized
from yolohost.projects import repository as projects_repo

SAMPLE_IMAGES = 4
LABEL_KEYS = ("classId", "bbox", "segments", "keypoints", "obb", "skeletonId")
SIDEBAR_ITEMS = 5

#: A storage key -> a signed URL anyone can fetch (endpoints sign with the app's key).
Signer = Callable[[str], str]


def filters(principal: Principal | None, *, q: str, task: str | None, author: str | None, starred: bool) -> Filters:
    tasks = tuple(t.strip() for t in (task or "").split(",") if t.strip())
    unknown = [t for t in tasks if t not in DATASET_TASKS]
    if unknown:
        raise Invalid(f"task: {unknown[0]!r} is not a YOLO task; use a comma list of {', '.join(DATASET_TASKS)}")
    if starred and principal is None:
        raise Unauthorized("starred=true lists what the caller starred: send an API key")
    return Filters(q=q.strip(), tasks=tasks, author=author or None, starred_by=principal.user_id if starred else None)


def search(session: Session, principal: Principal | None, f: Filters, *, type_: str, sort: str, offset: int, limit: int,
           sign: Signer) -> dict:
    """The contract's ``ExploreSearchResponse``."""
    found_projects = repo.projects(session, f, sort, offset, limit + 1) if type_ in ("all", "projects") else []
    found_datasets = repo.datasets(session, f, sort, offset, limit + 1) if type_ in ("all", "datasets") else []
    has_more = len(found_projects) > limit or len(found_datasets) > limit
    return {
        "projects": project_items(session, principal, found_projects[:limit]),
        "datasets": [dataset_item(session, d, ws, sign) for d, ws in found_datasets[:limit]],
        "hasMore": has_more,
    }


def project_items(session: Session, principal: Principal | None, rows: list[tuple[Project, Workspace]]) -> list[dict]:
    ids = [p.id for p, _ in rows]
    models = defaultdict(list)
    for model in repo.public_models(session, ids):
        models[model.project_id].append(model)
    stars = projects_repo.star_counts(session, ids, principal.user_id if principal else None)
    return [_project_item(p, ws, models[p.id], stars[p.id][0]) for p, ws in rows]


def _project_item(project: Project, workspace: Workspace, models: list, star_count: int) -> dict:
    item = {
        "id": project.id,
        "project": project.slug,
        "name": project.name,
        "description": project.description,
        "owner": workspace.username,
        "visibility": project.visibility,
        "modelCount": len(models),
        "modelNames": [m.name for m in models],
        "totalBytes": sum(m.weights_size or 0 for m in models),
        "starCount": star_count,
        "updatedAt": clock.iso(project.updated_at),
    }
    if project.icon_color:
        item["iconColor"] = project.icon_color
    if project.icon_letter:
        item["iconLetter"] = project.icon_letter
    return item


def dataset_item(session: Session, dataset: Dataset, workspace: Workspace, sign: Signer) -> dict:
    images, _, size, _ = datasets_repo.totals(session, dataset.id)
    item = {
        "id": dataset.id,
        "dataset": dataset.slug,
        "name": dataset.name,
        "description": dataset.description,
        "owner": workspace.username,
        "visibility": dataset.visibility,
        "imageCount": images,
        "classCount": len(dataset.class_names),
        "classNames": list(dataset.class_names),
        "task": dataset.task,
        "totalBytes": size,
        "splits": datasets_repo.split_counts(session, dataset.id),
        "starCount": 0,
        "sampleImages": [
            {
                "url": sign(datasets.thumb_key(i.sha256)),
                "imageUrl": sign(datasets.blob_key(i.sha256, "." + i.ext)),
                "width": i.width,
                "height": i.height,
                "labels": [{k: lb[k] for k in LABEL_KEYS if k in lb} for lb in i.labels],
            }
            for i in repo.sample_images(session, dataset.id, SAMPLE_IMAGES)
        ],
        "updatedAt": clock.iso(dataset.updated_at),
    }
    if dataset.tags:
        item["tags"] = list(dataset.tags)
    if dataset.kpt_shape:
        item["kptShape"] = list(dataset.kpt_shape)
    return item


def sidebar(session: Session, principal: Principal | None, sign: Signer) -> dict:
    """What the Explore sidebar features: the most starred projects, the largest datasets, the most
    prolific authors and the tasks of the public datasets (not in the contract: yolohost's shape)."""
    f = Filters()
    return {
        "featuredProjects": project_items(session, principal, repo.projects(session, f, "stars", 0, SIDEBAR_ITEMS)),
        "featuredDatasets": [dataset_item(session, d, ws, sign)
                             for d, ws in repo.datasets(session, f, "count-desc", 0, SIDEBAR_ITEMS)],
        "topAuthors": [{"username": ws.username, "fullName": ws.name, "accountType": ws.kind,
                        "projectCount": np_, "datasetCount": nd}
                       for ws, np_, nd in repo.top_authors(session, SIDEBAR_ITEMS)],
        "tasks": [{"task": task, "datasetCount": n} for task, n in repo.task_counts(session)],
    }
