"""Settings from the environment (`LEARNHUB_*`), with embedded-SQLite defaults."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNHUB_", env_file=".env", extra="ignore")

    # The embedded default: a SQLite file in the working directory.
    database_url: str = "sqlite+aiosqlite:///./learnhub.db"
    read_replica_url: str | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_echo: bool = False
    slow_query_ms: float = Field(default=200.0, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
