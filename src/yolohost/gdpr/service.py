"""The rules of ``/api/gdpr``: export an account as a job, delete an account or one team for good.

- Export: a ``gdpr_export`` job writes a ZIP of the account (see ``export``); only the user who
  asked can read the job. A second request while one is queued or running returns that one.
- Delete: synchronous. Every row of the account (or of the team) goes in one transaction, found
  by walking the schema (see ``footprint``); its files go right after the commit. Deleting the
  account takes the workspaces it owns with it, team workspaces included; memberships in other
  people's teams go, those teams stay. It needs ``confirmationWord: "DELETE"``.
- The instance owner (``YOLOHOST_OWNER``, created on the first start) administers the server: its
  account cannot be deleted here (403); its teams can.
- Nothing is deleted while a job of the account is running (409): it would write files and rows
  after they were removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.roles import Role
from yolohost.accounts.service import Principal
from yolohost.db.tables import Invite, Job, User, Workspace
from yolohost.gdpr import files, footprint
from yolohost.gdpr.export import EXPORT
from yolohost.gdpr.footprint import Footprint
from yolohost.jobs import repository as jobs_repo
from yolohost.jobs import service as jobs
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yolohost.kit.storage import Storage

ACTIONS = ("export", "delete")
CONFIRMATION_WORD = "DELETE"


@dataclass(frozen=True, slots=True)
class Body:
    action: str
    confirmation_word: str | None = None
    team_username: str | None = None


@dataclass(frozen=True, slots=True)
class Deleted:
    counts: dict[str, int]  # rows deleted, by table
    keys: list[str]  # storage keys to remove once the transaction committed


def parse(raw) -> Body:
    if not isinstance(raw, dict):
        raise Invalid('body: expected a JSON object such as {"action": "export"}')
    action = raw.get("action")
    if action not in ACTIONS:
        raise Invalid(f"action must be one of {', '.join(ACTIONS)}; got {action!r}")
    for name in ("confirmationWord", "teamUsername"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise Invalid(f"{name} must be a string")
    team = raw.get("teamUsername")
    if team is not None and not team.strip():  # never read a blank team as "the whole account"
        raise Invalid("teamUsername must not be blank; leave it out to delete the account")
    return Body(action, raw.get("confirmationWord"), team)


def check_confirmation(word: str | None) -> None:
    if word is None:
        raise Invalid(f'confirmationWord is required to delete: send "{CONFIRMATION_WORD}"')
    if word != CONFIRMATION_WORD:
        raise Invalid(f'confirmationWord must be "{CONFIRMATION_WORD}" to delete; got {word!r}')


# --- export ---------------------------------------------------------------------------------------


def start_export(session: Session, principal: Principal) -> Job:
    pending = session.scalar(select(Job).where(Job.kind == EXPORT, Job.user_id == principal.user_id,
                                               Job.status.in_(("queued", "running")))
                             .order_by(Job.created_at.desc()).limit(1))
    if pending is not None:
        return pending
    workspace = accounts_repo.personal_workspace(session, principal.user_id)
    return jobs.enqueue(session, EXPORT, {"userId": principal.user_id}, user_id=principal.user_id,
                        workspace_id=workspace.id if workspace else None, subject_id=principal.user_id)


def export_job(session: Session, principal: Principal, job_id: str) -> Job:
    """The caller's own export job; anyone else's (or any other kind of job) is 404."""
    job = jobs_repo.get(session, job_id)
    if job is None or job.kind != EXPORT or job.user_id != principal.user_id:
        raise NotFound(f"GDPR job '{job_id}' not found")
    return job


def archive_key(job: Job) -> str | None:
    return (job.result or {}).get("key") if job.status == "completed" else None


# --- delete ---------------------------------------------------------------------------------------


def delete_account(session: Session, storage: Storage, principal: Principal, instance_owner: str) -> Deleted:
    user = accounts_repo.user_by_id(session, principal.user_id)
    if user.username == instance_owner:
        raise Forbidden(f"'{user.username}' is the instance owner (YOLOHOST_OWNER) and administers this server: "
                        "its account cannot be deleted through the API. Its teams can (teamUsername).")
    roots = {User.__table__: {(user.id,)}}
    addressed = [Invite.accepted_by_id == user.id]
    if user.email:
        addressed.append(func.lower(Invite.email) == user.email.lower())
    invites = {(i,) for i in session.scalars(select(Invite.id).where(or_(*addressed)))}
    if invites:  # invites in other teams that name the person: accepted by them or sent to their address
        roots[Invite.__table__] = invites
    return _delete(session, storage, roots, {user.id})


def delete_team(session: Session, storage: Storage, principal: Principal, team_username: str) -> Deleted:
    workspace = accounts_repo.workspace_by_username(session, team_username)
    role = accounts.role_in(session, workspace, principal.user_id) if workspace else None
    if role is None:
        raise NotFound(f"Team '{team_username}' not found")
    if workspace.kind != "team":
        raise Invalid(f"teamUsername: '{team_username}' is a personal workspace; leave teamUsername out to delete "
                      "your account")
    if role is not Role.owner:
        raise Forbidden(f"Only the owner of '{team_username}' can delete it (you are {role.name})")
    return _delete(session, storage, {Workspace.__table__: {(workspace.id,)}}, {workspace.id})


def _refuse_running_jobs(session: Session, fp: Footprint) -> None:
    ids = sorted(pk[0] for pk in fp.owned.get(Job.__table__, ()))
    running = []
    for start in range(0, len(ids), 400):
        running += session.scalars(select(Job.id).where(Job.id.in_(ids[start:start + 400]), Job.status == "running"))
    if running:
        raise Conflict(f"{len(running)} job(s) of this account are still running ({', '.join(sorted(running)[:5])}): "
                       "wait for them to finish or cancel them, then delete again")


def _delete(session: Session, storage: Storage, roots: dict, subjects: set[str]) -> Deleted:
    fp = footprint.settle(session, footprint.walk(session, roots), subjects)
    _refuse_running_jobs(session, fp)
    blobs = {(i.sha256, i.ext) for i in files.images(session, fp)}
    blobs |= files.snapshot_blobs(storage, files.owned_dataset_ids(fp))
    keys = files.id_folders(storage, fp.ids()) + files.column_keys(session, storage, fp)
    counts = fp.counts()
    footprint.erase(session, fp)
    keys += files.unshared_blob_keys(session, storage, blobs)
    return Deleted(counts, sorted(set(keys)))


def remove_files(storage: Storage, keys: list[str]) -> int:
    """Delete the stored files (after the commit: a rolled-back delete keeps them); returns how many went."""
    count = 0
    for key in keys:
        count += sum(1 for _ in files.files_under(storage, key))
        storage.delete_tree(key)
    return count
