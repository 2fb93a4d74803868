"""Settings from the environment (`LEARNHUB_*`), with embedded-SQLite defaults."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where a generated signing key is kept when none is configured (next to the SQLite file).
GENERATED_SECRET_FILE = ".learnhub-jwt-secret"


def served_at(host: str, port: int) -> str:
    """The base URL of a server listening on `host` and `port`, as a browser on this machine
    reaches it: one listening on every address is reached on the loopback one."""
    reached = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in reached and not reached.startswith("["):
        reached = f"[{reached}]"  # an IPv6 address in a URL
    return f"http://{reached}:{port}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNHUB_", env_file=".env", extra="ignore")

    # The embedded default: a SQLite file in the working directory.
    database_url: str = "sqlite+aiosqlite:///./learnhub.db"
    # Streaming replicas of the PostgreSQL primary that serve read-only requests: one URL or
    # several separated by commas (ignored on SQLite). A replica that lags more than
    # read_replica_max_lag_seconds is passed over for that request; one that cannot be reached
    # is passed over for read_replica_retry_seconds. The bound stays well below how long a
    # client keeps its last write's position (db/replicas.py), which is what makes a replica
    # within the bound safe for a client whose position has expired.
    read_replica_url: str | None = None
    # database_url leads to a pooler in transaction mode (PgBouncer's pool_mode=transaction):
    # each transaction may run on another server connection, so the driver keeps no prepared
    # statement beyond a transaction and reads run inside one (docs/decisions.md).
    db_transaction_pooler: bool = False
    # Where migrations connect when database_url goes through such a pooler: they need a
    # session of their own (lock and statement timeouts, CREATE INDEX CONCURRENTLY). Unset:
    # database_url.
    migration_database_url: str | None = None
    read_replica_max_lag_seconds: float = Field(default=10.0, ge=0, le=60)
    read_replica_retry_seconds: float = Field(default=5.0, ge=0, le=3600)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # Connections opened beyond db_pool_size under load, closed again when returned. 0: the
    # pool keeps every connection it opens and requests beyond pool_size wait for one.
    db_max_overflow: int = Field(default=0, ge=0, le=200)
    db_echo: bool = False
    slow_query_ms: float = Field(default=200.0, ge=0)
    # How often `learnhub audit watch` (started next to the API by `learnhub serve`, never
    # inside its workers) checks audit completeness incrementally (0: serve starts none).
    audit_check_interval_seconds: float = Field(default=300.0, ge=0)
    # PostgreSQL migrations: how long a revision waits for a lock and runs one statement
    # (0: no limit), and how often a revision that gave up waiting for a lock is retried.
    migration_lock_timeout_seconds: float = Field(default=5.0, ge=0)
    migration_statement_timeout_seconds: float = Field(default=60.0, ge=0)
    migration_lock_retries: int = Field(default=3, ge=0, le=100)
    migration_retry_backoff_seconds: float = Field(default=1.0, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # `learnhub serve`'s worker processes; 0: one per core this process may run on
    # (PostgreSQL; SQLite serves one). Reads scale with workers (bench/RESULTS.md).
    workers: int = Field(default=0, ge=0, le=256)
    # A worker's start-up objects out of the garbage collector's reach once it has started
    # (gc.freeze): a full collection walked them for 100-200 ms with every request waiting.
    freeze_startup_objects: bool = True
    # With several workers uvicorn kills one that does not answer its health ping in time. A
    # new worker answers only after its fresh interpreter has imported the app, which takes
    # more than uvicorn's default 5 s on a busy host (workers were killed and respawned in a
    # loop, never serving); so a longer default.
    worker_healthcheck_timeout_seconds: int = Field(default=30, ge=1, le=600)
    # How long an idle keep-alive connection stays open. uvicorn's default of 5 s equals
    # common clients' own idle expiry (httpx: 5 s), so a client reusing a connection just
    # as the server closes it got a transport error under load; load balancers want the
    # backend to outlast their idle timeout (often 60 s) for the same reason.
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    log_level: str = "info"
    log_json: bool = True
    # How long a shared HTTP cache may serve an anonymous catalog or course page without
    # asking again, and then keep serving it while it revalidates in the background.
    # Revalidation is exact (the ETag moves with every change the page shows), so these
    # bound how old a cached page can be, nothing else; 0 and 0 mean: always ask.
    http_cache_max_age_seconds: int = Field(default=5, ge=0, le=86400)
    http_cache_stale_while_revalidate_seconds: int = Field(default=30, ge=0, le=86400)

    # Tokens. Without a configured secret one is generated once and kept in a file, so
    # several workers and restarts agree on it.
    jwt_secret: str | None = Field(default=None, min_length=32)
    jwt_issuer: str = "learnhub"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, ge=300)

    # Login throttling: failures allowed per window, per account and per client address.
    login_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)

    # Password reset: how long an e-mailed token stays usable, how many may be asked for per
    # account and window (more are ignored silently), and the page its link opens (the
    # token is appended as `?token=`).
    password_reset_ttl_seconds: int = Field(default=1800, ge=60, le=86400)
    password_reset_max_per_window: int = Field(default=3, ge=1, le=100)
    password_reset_window_seconds: int = Field(default=3600, ge=60)
    # None: the web app's own page at the address this server answers on (`host` and `port`,
    # which `learnhub serve --host/--port` hand to its workers), so the link works whatever
    # port the server was started on. Behind a proxy or a public name, set it.
    password_reset_url: str | None = None
    # Every answer to a reset request waits until this many milliseconds have passed, so a
    # known address (token written and mailed) and an unknown one answer alike in time too.
    password_reset_min_response_ms: int = Field(default=400, ge=0, le=10_000)

    # Outgoing mail: "log" writes each message to the log (development and the demo),
    # "smtp" sends it through the SMTP server below. smtp_security: "none", "starttls"
    # (upgrade a plain connection) or "tls" (implicit TLS, usually port 465).
    mail_transport: Literal["log", "smtp"] = "log"
    mail_from: str = "LearnHub <no-reply@learnhub.invalid>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # The broker the outbox relay publishes to.
    nats_url: str = "nats://127.0.0.1:4222"

    # A video counts as completed once this share of it was really watched.
    completion_ratio: float = Field(default=0.9, gt=0, le=1)
    # Credited watch time never exceeds max_playback_rate x the wall-clock seconds since the
    # learner's first heartbeat for the video, plus one tolerance (SPEC 5, Progress).
    max_playback_rate: float = Field(default=2.0, ge=1, le=16)
    progress_tolerance_seconds: float = Field(default=10.0, ge=0, le=3600)

    # The AI tutor: "offline" answers from the course's own material; "openai" calls an
    # OpenAI-compatible chat-completions endpoint at tutor_api_url.
    tutor_provider: Literal["offline", "openai"] = "offline"
    # How either provider finds the passages it answers from: "bm25" (words), "semantic"
    # (sentence embeddings) or "hybrid" (both fused); the last two need learnhub[semantic].
    tutor_retrieval: Literal["bm25", "semantic", "hybrid"] = "bm25"
    tutor_api_url: str = "http://127.0.0.1:11434/v1"
    tutor_api_key: SecretStr | None = None
    tutor_model: str = "gpt-4o-mini"
    tutor_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    tutor_daily_message_limit: int = Field(default=50, ge=1, le=100_000)
    tutor_retention_days: int = Field(default=90, ge=1)
    tutor_history_turns: int = Field(default=6, ge=0, le=50)

    # Where video files live (the media storage's local directory; the demo writes its clips
    # here): relative to the working directory, like the embedded SQLite file.
    media_dir: str = "./media"
    # The largest video file the studio (and the API's upload route) accepts, in MiB.
    max_upload_mb: int = Field(default=200, ge=1, le=100_000)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    # Request limits
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    def password_reset_link(self) -> str:
        """The page a password reset mail links to (its token appended as `?token=`)."""
        if self.password_reset_url:
            return self.password_reset_url
        return f"{served_at(self.host, self.port)}/password-reset/confirm"

    def migration_url(self) -> str:
        return self.migration_database_url or self.database_url

    @property
    def read_replica_urls(self) -> list[str]:
        return [url.strip() for url in (self.read_replica_url or "").split(",") if url.strip()]

    def signing_secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret
        path = Path(GENERATED_SECRET_FILE)
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
