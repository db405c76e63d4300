"""Configuration, read from the environment (prefix ``APP_``) or a ``.env`` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # Where `npm run build` writes the SPA; the backend serves it when it exists.
    frontend_dir: Path = REPOSITORY_ROOT / "frontend" / "dist"
    log_level: LogLevel = "info"
    # Worker processes for `python -m app`; more than one needs APP_REDIS_URL for chat to span them.
    workers: int = Field(default=1, ge=1)
    # Chat across processes: a redis:// or rediss:// URL; without it, chat stays in-process.
    redis_url: str | None = None
    # Messages waiting for one chat client before it counts as too slow and is closed (1013).
    chat_outbox_limit: int = Field(default=256, ge=1)
    # How long a process's presence entries outlive it in Redis if it dies without leaving.
    chat_presence_ttl: float = Field(default=30.0, gt=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
