"""Settings: read once from the environment (prefix ``YOLOHOST_``) into one object."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Rate-limit categories of the Platform reference and their default budget per minute.
DEFAULT_RATE_LIMITS: dict[str, int] = {
    "default": 100,
    "predict": 20,
    "export": 20,
    "download": 30,
    "training": 10,
    "upload": 10,
}


class Settings(BaseSettings):
    """Every knob of a yolohost process. Unset values give the one-machine embedded default."""

    model_config = SettingsConfigDict(env_prefix="YOLOHOST_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite in data_dir
    redis_url: str | None = None  # default: rate-limit counters in the process
    owner: str = "admin"

    # Rate limits, requests per window per API key and category; 0 turns a category off.
    rate_limits_enabled: bool = True
    rate_limit_window_seconds: float = 60.0
    rate_limit_default: int = DEFAULT_RATE_LIMITS["default"]
    rate_limit_predict: int = DEFAULT_RATE_LIMITS["predict"]
    rate_limit_export: int = DEFAULT_RATE_LIMITS["export"]
    rate_limit_download: int = DEFAULT_RATE_LIMITS["download"]
    rate_limit_training: int = DEFAULT_RATE_LIMITS["training"]
    rate_limit_upload: int = DEFAULT_RATE_LIMITS["upload"]

    # Signed download links: HMAC key (default: generated once into data_dir/secret.key),
    # how long a link works, and the public base URL (default: the URL the request came to).
    secret_key: str | None = None
    signed_url_ttl_seconds: int = Field(default=3600, gt=0)
    public_url: str | None = None

    # Inference: how many loaded models stay in memory, threads for decoding and inference,
    # the largest accepted upload, and how long fetching a `source` URL may take.
    model_cache_size: int = Field(default=4, ge=1)
    inference_threads: int = Field(default=4, ge=1)
    max_upload_mb: int = Field(default=100, ge=1)
    source_fetch_timeout_seconds: float = Field(default=15.0, gt=0)
    # The runtime a prediction runs on when the request names none (its `runtime` argument): "pt", the
    # checkpoint; "auto", the fastest completed export of the current weights that fits the request
    # (OpenVINO, then ONNX), else the checkpoint.
    predict_runtime: Literal["pt", "auto"] = "pt"

    # Model exports: the largest exported file a remote export worker may upload.
    max_export_mb: int = Field(default=4096, ge=1)

    # Dataset sources: the largest archive or NDJSON fetched from a sourceUrl, what an archive may
    # expand to (a zip bomb stops here), and how many entries it may hold.
    max_archive_mb: int = Field(default=20480, ge=1)
    max_archive_expanded_mb: int = Field(default=40960, ge=1)
    max_archive_members: int = Field(default=500_000, ge=1)

    # Dataset analysis (embeddings, clustering layout, similar images): the image model whose
    # `YOLO(...).embed(images)` gives the vectors (its second-to-last layer, average-pooled). A path to an
    # Ultralytics .pt checkpoint, or `ul://owner/project/model` naming a model stored here. Unset: analysis
    # is refused with 409. Vectors of different checkpoints are never compared with each other.
    embedding_model: str | None = None

    # Background jobs: worker processes `yolohost serve` starts (0: run `yolohost worker` yourself),
    # how often idle workers look for work, heartbeats, and when a silent job counts as dead.
    job_workers: int = Field(default=1, ge=0)
    # Workers that run only training (0: the job workers train too, and everything waits behind a run).
    training_workers: int = Field(default=1, ge=0)
    job_poll_seconds: float = Field(default=0.5, gt=0)
    job_heartbeat_seconds: float = Field(default=2.0, gt=0)
    job_stale_seconds: float = Field(default=60.0, gt=0)

    # Where training and export commands run: "local" (a process beside the job worker) or "ray" (a Ray
    # task on the cluster at ray_address; unset: a local Ray started on first use). Ray nodes call back
    # over HTTP, so public_url must be reachable from them.
    job_backend: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    ray_task_cpus: float = Field(default=1.0, gt=0)

    # How often the "last used" times of API keys are written (batched, off the request path).
    key_last_used_flush_seconds: float = Field(default=5.0, gt=0)
    # How often metered predict calls are added to the usage records (batched, off the request path).
    usage_flush_seconds: float = Field(default=5.0, gt=0)

    # How long trashed projects, datasets and models stay restorable.
    trash_retention_days: int = Field(default=30, ge=1)
    # How often job workers purge what outlived the retention (0: never; `yolohost trash purge` does it by hand).
    trash_purge_interval_seconds: float = Field(default=3600.0, ge=0)

    # Storage quota per workspace in MB (0: unlimited): uploads that would go over it are refused.
    storage_quota_mb: int = Field(default=0, ge=0)

    # How long a workspace invite token can be accepted (there is no mail: the token is returned to the inviter).
    invite_ttl_hours: int = Field(default=168, ge=1)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yolohost.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def rate_limit(self, category: str) -> int:
        """The budget of one category per window; 0 means unlimited."""
        if not self.rate_limits_enabled:
            return 0
        return getattr(self, f"rate_limit_{category}")
