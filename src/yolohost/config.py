"""Settings: read once from the environment (prefix ``YOLOHOST_``) into one object."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

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

    # How often the "last used" times of API keys are written (batched, off the request path).
    key_last_used_flush_seconds: float = Field(default=5.0, gt=0)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'yolohost.db').resolve()}"

    def rate_limit(self, category: str) -> int:
        """The budget of one category per window; 0 means unlimited."""
        if not self.rate_limits_enabled:
            return 0
        return getattr(self, f"rate_limit_{category}")
