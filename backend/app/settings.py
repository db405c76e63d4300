"""Configuration, read from the environment (prefix ``APP_``) or a ``.env`` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
