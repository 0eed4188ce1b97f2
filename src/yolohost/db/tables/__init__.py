"""Every ORM table, imported here so the metadata is complete wherever it is used."""

from yolohost.db.tables.accounts import ApiKey, User, Workspace, WorkspaceMember
from yolohost.db.tables.activity import ActivityEvent, ActivityMark
from yolohost.db.tables.datasets import Dataset, DatasetVersion, Image
from yolohost.db.tables.embeddings import ImageEmbedding
from yolohost.db.tables.exports import Export
from yolohost.db.tables.follows import Follow
from yolohost.db.tables.invites import Invite
from yolohost.db.tables.jobs import Job
from yolohost.db.tables.models import Model
from yolohost.db.tables.projects import Project
from yolohost.db.tables.training import TrainingRun
from yolohost.db.tables.uploads import UploadSession
from yolohost.db.tables.usage import UsageRecord

__all__ = ["ActivityEvent", "ActivityMark", "ApiKey", "Dataset", "DatasetVersion", "Export", "Follow", "Image", "ImageEmbedding", "Invite", "Job", "Model", "Project", "TrainingRun", "UploadSession", "UsageRecord", "User", "Workspace", "WorkspaceMember"]
