"""Configuration from environment variables only, with safe local defaults.

No secret ships in the source: a secret the environment does not set is generated on first start
and kept in ``$DATA_DIR/secrets.json`` (mode 0600), like Grafana's or Gitea's, and every later
start reuses it. A value that once shipped as a default is refused in every mode, so a forgotten
variable is a crash at boot rather than a forgeable token in the field.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

# Values that shipped in the source of earlier versions: anyone can read them, so they are refused.
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
DEFAULT_INTERNAL_API_KEY = "dev-insecure-internal-key"
DEFAULT_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWVuY3J5cHRpb24ta2V5LTMyYiE="
KNOWN_DEFAULT_SECRETS = {
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "INTERNAL_API_KEY": DEFAULT_INTERNAL_API_KEY,
    "ENCRYPTION_KEY": DEFAULT_ENCRYPTION_KEY,
}
SECRET_NAMES = tuple(KNOWN_DEFAULT_SECRETS)
SECRETS_FILE_NAME = "secrets.json"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Connections one process keeps to PostgreSQL, and opens beyond them at a peak: one per concurrent request
# of a gevent API process (32), and the Celery producers the same requests hold (common.celery_client).
DB_POOL_SIZE = 32
DB_POOL_OVERFLOW = 8


class InsecureConfiguration(RuntimeError):
    """Raised at start-up when production settings are unsafe."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _at_least_one(name: str, default: int) -> int:
    """A bound of work running at once: 0 would run none of it, ever."""
    value = _count(name, default)
    if value < 1:
        raise InsecureConfiguration(f"Refusing to start: {name} must be 1 or more (is {value}).")
    return value


REGISTRATION_MODES = ("open", "invite", "closed")


def _registration() -> str:
    """Who may create an account with ``POST /auth/register``: anyone (``open``), the holder of an
    invitation's code for the address (``invite``), nobody (``closed``: SSO and operators only). A
    misspelt value is refused at start rather than read as ``open``."""
    value = _env("REGISTRATION", "open").strip().lower()
    if value not in REGISTRATION_MODES:
        raise InsecureConfiguration(
            f"Refusing to start: REGISTRATION must be one of {', '.join(REGISTRATION_MODES)} (is {value!r})."
        )
    return value


def _count(name: str, default: int) -> int:
    """A per-organization bound read from the environment: a negative one is refused at start, as it bounds
    nothing (``SCANS_IN_FLIGHT_PER_ORG=-1`` made PostgreSQL reject every scan creation's ``LIMIT``: 500s,
    and every schedule dispatch failed)."""
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InsecureConfiguration(
            f"Refusing to start: {name} must be a whole number, 0 or more (is {raw!r})."
        )
    return value


def _new_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "INTERNAL_API_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),  # a Fernet key
    }


def _read_secrets_file(path: Path) -> dict[str, str]:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureConfiguration(f"{path} is readable by other users; run: chmod 600 {path}")
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        stored = None
    if not isinstance(stored, dict) or not all(
        isinstance(stored.get(name), str) and stored[name] for name in SECRET_NAMES
    ):
        raise InsecureConfiguration(
            f"{path} is not valid JSON or lacks one of {', '.join(SECRET_NAMES)}; remove it to regenerate"
        )
    return stored


def persisted_secrets(data_dir: Path) -> dict[str, str]:
    """The secrets generated on first start, created atomically so that processes starting together
    (``make run``) all end up with the same ones: the file is written in full under a private name,
    then hard-linked into place, which fails for every process but the first."""
    path = data_dir / SECRETS_FILE_NAME
    if path.exists():
        return _read_secrets_file(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    draft = data_dir / f".{SECRETS_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(_new_secrets(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race: all read its file
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return _read_secrets_file(path)


def secrets_missing_from_environment() -> list[str]:
    """The secrets this process would generate (or read from the data directory) instead of
    taking them from the environment, which every process of a multi-host deployment shares."""
    return [name for name in SECRET_NAMES if not os.environ.get(name)]


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
    public_url: str = "http://127.0.0.1:8000"
    # Set when PUBLIC_URL is given: links sent away (SSO redirect_uri) are built from it, not the Host header.
    public_url_configured: bool = False
    scan_roots: list[str] = field(default_factory=list)
    scan_roots_per_organization: bool = False
    port: int = 8000
    max_content_length: int = 10 * 1024 * 1024
    internal_max_content_length: int = 200 * 1024 * 1024
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # An SSO session refreshes this long after its sign-in at the IdP; then its user signs in there again.
    sso_session_hours: int = 12
    # Team organizations one user may hold as admin: each has its own quotas and rate limits.
    organizations_per_user: int = 20
    # Live API keys one user may hold in one organization: each key has its own rate-limit window.
    api_keys_per_user: int = 50
    invitation_days: int = 14
    # Who may register (REGISTRATION_MODES): every account is one more personal workspace with every
    # per-organization share, so an operator may make accounts cost an invitation.
    registration: str = "open"
    ratelimit_enabled: bool = True
    outbound_allowlist: list[str] = field(default_factory=list)
    scan_stale_minutes: float = 30
    scan_file_budget_seconds: float = 3.0
    scan_budget_seconds: float = 1800.0
    scan_memory_bytes: int = 1024**3
    history_retention_days: int = 30
    login_failure_limit: int = 10
    login_lockout_seconds: int = 900
    login_account_failure_limit: int = 500
    login_network_failure_limit: int = 100
    trusted_proxies: int = 0
    metrics_token: str = ""
    metrics_cache_seconds: float = 15
    health_cache_seconds: float = 5
    ws_max_sockets_per_principal: int = 20
    ws_max_sockets_per_org: int = 500
    ws_send_queue_size: int = 1000
    ws_recheck_seconds: float = 30
    evidence_max_bytes: int = 5 * 1024 * 1024
    evidence_bytes_per_org: int = 1024 * 1024 * 1024
    exports_in_flight_per_org: int = 10
    exports_kept_per_org: int = 200
    evaluations_in_flight_per_org: int = 10
    scans_in_flight_per_org: int = 20
    # Schedules one organization may keep: the beat's dispatcher reads every due one each minute for all
    # organizations, so one organization's unbounded rows would slow every other's runs.
    schedules_per_org: int = 500
    # Scans one organization may have running at once across the scans workers (2 in compose): the others
    # wait their turn on the queue, so one organization's slow remotes cannot hold every worker.
    scans_running_per_org: int = 1
    # The whole of one n8n instance's scan, every page and request included: past it the scan fails.
    n8n_scan_deadline_seconds: float = 600.0
    # Requests waiting on a remote a tenant chose (connection tests, a webhook's test, SSO sign-in): at
    # most this many per organization across the API, and per API process of all organizations.
    outbound_requests_per_org: int = 2
    outbound_requests_per_process: int = 4
    repository_max_bytes: int = 500 * 1024 * 1024
    repository_max_files: int = 100_000
    repository_clone_timeout_seconds: float = 300
    import_max_content_length: int = 25 * 1024 * 1024
    # An upload's JSON values at most, counted from its bytes (``common.bom.upload.json_values_at_most``):
    # the ingest worker holds up to ~200 bytes per value decoded, so 1.5 million is ~300 MB at most.
    import_max_values: int = 1_500_000

    @property
    def webhook_allowlist(self) -> list[str]:
        """The former name of ``outbound_allowlist``."""
        return self.outbound_allowlist

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_secrets(self) -> None:
        """In every mode: a secret that once shipped in the source forges tokens for anyone."""
        values = {
            "SECRET_KEY": self.secret_key,
            "INTERNAL_API_KEY": self.internal_api_key,
            "ENCRYPTION_KEY": self.encryption_key,
        }
        known = [name for name, value in values.items() if value == KNOWN_DEFAULT_SECRETS[name]]
        if known:
            raise InsecureConfiguration(
                f"Refusing to start: {', '.join(known)} is a value published in Trusera's source; "
                "unset it to have a random one generated, or set a random value of your own."
            )

    def check_production_safety(self) -> None:
        self.check_secrets()
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


def _secrets(data_dir: Path) -> dict[str, str]:
    """Each secret from the environment, else from the data directory (generated there once),
    unless ``GENERATE_SECRETS=false`` (the Docker image) demands them all from the environment."""
    missing = secrets_missing_from_environment()
    if missing and _env("GENERATE_SECRETS", "true").lower() == "false":
        raise InsecureConfiguration(
            f"Refusing to start: {', '.join(missing)} must be set (GENERATE_SECRETS=false); every "
            "process of the deployment needs the same random values, e.g. from `openssl rand -base64 32`."
        )
    stored = persisted_secrets(data_dir) if missing else {}
    return {name: os.environ.get(name) or stored[name] for name in SECRET_NAMES}


def load_settings() -> Settings:
    var_dir = Path(_env("DATA_DIR", str(PROJECT_ROOT / "var")))
    port = int(_env("PORT", "8000"))
    redis_url = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    secret_values = _secrets(var_dir)
    settings = Settings(
        env=_env("ENV", "development"),
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'trusera.db'}"),
        redis_url=redis_url,
        broker_url=_env("BROKER_URL", redis_url),
        secret_key=secret_values["SECRET_KEY"],
        encryption_key=secret_values["ENCRYPTION_KEY"],
        internal_api_key=secret_values["INTERNAL_API_KEY"],
        internal_api_url=_env("INTERNAL_API_URL", f"http://127.0.0.1:{port}/api/v1"),
        public_url=_env("PUBLIC_URL", f"http://127.0.0.1:{port}"),
        public_url_configured=bool(os.environ.get("PUBLIC_URL")),
        scan_roots=_split_roots(_env("SCAN_ROOTS", str(Path.cwd()))),
        scan_roots_per_organization=_env("SCAN_ROOTS_PER_ORGANIZATION", "false").lower() == "true",
        port=port,
        max_content_length=int(_env("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024))),
        access_token_minutes=int(_env("ACCESS_TOKEN_MINUTES", "15")),
        refresh_token_days=int(_env("REFRESH_TOKEN_DAYS", "30")),
        sso_session_hours=int(_env("SSO_SESSION_HOURS", "12")),
        organizations_per_user=int(_env("ORGANIZATIONS_PER_USER", "20")),
        api_keys_per_user=int(_env("API_KEYS_PER_USER", "50")),
        invitation_days=int(_env("INVITATION_DAYS", "14")),
        registration=_registration(),
        ratelimit_enabled=_env("RATELIMIT_ENABLED", "true").lower() != "false",
        # WEBHOOK_ALLOWLIST is the setting's former name, still honoured when the new one is unset.
        outbound_allowlist=[
            h for h in _env("OUTBOUND_ALLOWLIST", _env("WEBHOOK_ALLOWLIST", "")).split(",") if h.strip()
        ],
        scan_stale_minutes=float(_env("SCAN_STALE_MINUTES", "30")),  # fractions: tests use seconds
        scan_file_budget_seconds=float(_env("SCAN_FILE_BUDGET_SECONDS", "3")),
        # below the scans task's time limit (celeryconfig.py), with room for a clone and the submission
        scan_budget_seconds=float(_env("SCAN_BUDGET_SECONDS", "1800")),
        # what a scan in the scans worker's own process may add to it (``worker.memory_cap``); 0: no cap
        scan_memory_bytes=int(_env("SCAN_MEMORY_BYTES", str(1024**3))),
        history_retention_days=int(_env("HISTORY_RETENTION_DAYS", "30")),
        login_failure_limit=int(_env("LOGIN_FAILURE_LIMIT", "10")),
        login_lockout_seconds=int(_env("LOGIN_LOCKOUT_SECONDS", "900")),
        login_account_failure_limit=int(_env("LOGIN_ACCOUNT_FAILURE_LIMIT", "500")),
        login_network_failure_limit=int(_env("LOGIN_NETWORK_FAILURE_LIMIT", "100")),
        trusted_proxies=int(_env("TRUSTED_PROXIES", "0")),
        # The bearer token Prometheus scrapes /metrics with; unset, /metrics answers nobody.
        metrics_token=_env("METRICS_TOKEN", ""),
        metrics_cache_seconds=float(_env("METRICS_CACHE_SECONDS", "15")),
        health_cache_seconds=float(_env("HEALTH_CACHE_SECONDS", "5")),
        ws_max_sockets_per_principal=int(_env("WS_MAX_SOCKETS_PER_PRINCIPAL", "20")),
        ws_max_sockets_per_org=int(_env("WS_MAX_SOCKETS_PER_ORG", "500")),
        ws_send_queue_size=int(_env("WS_SEND_QUEUE_SIZE", "1000")),
        ws_recheck_seconds=float(_env("WS_RECHECK_SECONDS", "30")),
        evidence_max_bytes=int(_env("EVIDENCE_MAX_BYTES", str(5 * 1024 * 1024))),
        evidence_bytes_per_org=int(_env("EVIDENCE_BYTES_PER_ORG", str(1024 * 1024 * 1024))),
        exports_in_flight_per_org=_count("EXPORTS_IN_FLIGHT_PER_ORG", 10),
        exports_kept_per_org=_count("EXPORTS_KEPT_PER_ORG", 200),
        evaluations_in_flight_per_org=_count("EVALUATIONS_IN_FLIGHT_PER_ORG", 10),
        scans_in_flight_per_org=_count("SCANS_IN_FLIGHT_PER_ORG", 20),
        schedules_per_org=_count("SCHEDULES_PER_ORG", 500),
        scans_running_per_org=_at_least_one("SCANS_RUNNING_PER_ORG", 1),
        n8n_scan_deadline_seconds=float(_env("N8N_SCAN_DEADLINE_SECONDS", "600")),
        outbound_requests_per_org=_count("OUTBOUND_REQUESTS_PER_ORG", 2),
        outbound_requests_per_process=_count("OUTBOUND_REQUESTS_PER_PROCESS", 4),
        repository_max_bytes=int(_env("REPOSITORY_MAX_BYTES", str(500 * 1024 * 1024))),
        repository_max_files=int(_env("REPOSITORY_MAX_FILES", "100000")),
        repository_clone_timeout_seconds=float(_env("REPOSITORY_CLONE_TIMEOUT_SECONDS", "300")),
        import_max_content_length=int(_env("IMPORT_MAX_CONTENT_LENGTH", str(25 * 1024 * 1024))),
        import_max_values=_count("IMPORT_MAX_VALUES", 1_500_000),
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
