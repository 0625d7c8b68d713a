"""Configuration from environment variables only, with safe local defaults.

Production refuses to start on a default secret, so a forgotten variable is a
crash at boot rather than a forgeable token in the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
DEFAULT_INTERNAL_API_KEY = "dev-insecure-internal-key"
# A valid Fernet key so local runs work out of the box; production must set its own.
DEFAULT_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYiE="

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class InsecureConfiguration(RuntimeError):
    """Raised at start-up when production settings are unsafe."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _split_roots(raw: str) -> list[str]:
    return [str(Path(p).expanduser().resolve()) for p in raw.split(":") if p.strip()]


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    broker_url: str
    secret_key: str
    encryption_key: str
    internal_api_key: str
    internal_api_url: str
    scan_roots: list[str] = field(default_factory=list)
    port: int = 8000
    max_content_length: int = 10 * 1024 * 1024
    internal_max_content_length: int = 200 * 1024 * 1024
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    ratelimit_enabled: bool = True
    webhook_allowlist: list[str] = field(default_factory=list)
    scan_stale_minutes: float = 30
    scan_file_budget_seconds: float = 3.0
    history_retention_days: int = 30
    login_failure_limit: int = 10
    login_lockout_seconds: int = 900
    ws_max_sockets_per_principal: int = 20
    ws_max_sockets_per_org: int = 500
    ws_send_queue_size: int = 1000

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_production_safety(self) -> None:
        if not self.is_production:
            return
        problems = []
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if self.encryption_key == DEFAULT_ENCRYPTION_KEY:
            problems.append("ENCRYPTION_KEY must be set (a Fernet key)")
        if self.internal_api_key == DEFAULT_INTERNAL_API_KEY or len(self.internal_api_key) < 24:
            problems.append("INTERNAL_API_KEY must be set to a random value of at least 24 characters")
        if problems:
            raise InsecureConfiguration("Refusing to start with ENV=production: " + "; ".join(problems))


def load_settings() -> Settings:
    var_dir = PROJECT_ROOT / "var"
    port = int(_env("PORT", "8000"))
    redis_url = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = Settings(
        env=_env("ENV", "development"),
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'trusera.db'}"),
        redis_url=redis_url,
        broker_url=_env("BROKER_URL", redis_url),
        secret_key=_env("SECRET_KEY", DEFAULT_SECRET_KEY),
        encryption_key=_env("ENCRYPTION_KEY", DEFAULT_ENCRYPTION_KEY),
        internal_api_key=_env("INTERNAL_API_KEY", DEFAULT_INTERNAL_API_KEY),
        internal_api_url=_env("INTERNAL_API_URL", f"http://127.0.0.1:{port}/api/v1"),
        scan_roots=_split_roots(_env("SCAN_ROOTS", str(Path.cwd()))),
        port=port,
        max_content_length=int(_env("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024))),
        access_token_minutes=int(_env("ACCESS_TOKEN_MINUTES", "15")),
        refresh_token_days=int(_env("REFRESH_TOKEN_DAYS", "30")),
        ratelimit_enabled=_env("RATELIMIT_ENABLED", "true").lower() != "false",
        webhook_allowlist=[h for h in _env("WEBHOOK_ALLOWLIST", "").split(",") if h.strip()],
        scan_stale_minutes=float(_env("SCAN_STALE_MINUTES", "30")),  # fractions: tests use seconds
        scan_file_budget_seconds=float(_env("SCAN_FILE_BUDGET_SECONDS", "3")),
        history_retention_days=int(_env("HISTORY_RETENTION_DAYS", "30")),
        login_failure_limit=int(_env("LOGIN_FAILURE_LIMIT", "10")),
        login_lockout_seconds=int(_env("LOGIN_LOCKOUT_SECONDS", "900")),
        ws_max_sockets_per_principal=int(_env("WS_MAX_SOCKETS_PER_PRINCIPAL", "20")),
        ws_max_sockets_per_org=int(_env("WS_MAX_SOCKETS_PER_ORG", "500")),
        ws_send_queue_size=int(_env("WS_SEND_QUEUE_SIZE", "1000")),
    )
    settings.check_production_safety()
    return settings


_settings: Settings | None = None


def get_settings() -> Settings:
    """Settings are read once per process; tests call ``reset_settings`` after changing the environment."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    global _settings
    _settings = None
