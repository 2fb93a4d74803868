"""The FastAPI application factory."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Mount, Route, compile_path
from starlette.types import Receive, Scope, Send

from learnhub import __version__
from learnhub.api import docs, hot_reads, problems
from learnhub.api.deps import (
    POSITION_COOKIE,
    POSITION_HEADER,
    reset_policy,
    throttle_policy,
    token_settings,
)
from learnhub.api.middleware import (
    CommitPositionMiddleware,
    ConditionalGetMiddleware,
    ReplicaReadRetryMiddleware,
    RequestContextMiddleware,
)
from learnhub.api.query_parameters import one_value_per_query_parameter
from learnhub.api.routers import (
    attempts,
    audit,
    auth,
    content,
    courses,
    learning,
    ops,
    reviews,
    roster,
    tutor,
    users,
)
from learnhub.api.schemas.examples import restore_examples
from learnhub.config import Settings, get_settings
from learnhub.db.driver_pool import DriverPool
from learnhub.db.engine import create_engine, create_session_factory, is_sqlite, reads_on_driver
from learnhub.db.replicas import POSITION_TTL_SECONDS, ReplicaSet
from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.domain.progress import CreditPolicy
from learnhub.events.bus import EventBus
from learnhub.logging import configure_logging
from learnhub.services.tutor import TutorPolicy
from learnhub.tutor_providers import build_provider
from learnhub.web import mount as web
from learnhub.workers.handlers import register_handlers

API_PREFIX = "/api/v1"
# The routes that take a video file: the studio's add-video form and the API's upload.
UPLOAD_PATHS = re.compile(
    rf"^(/studio/sections/[^/]+/videos|{re.escape(API_PREFIX)}/sections/[^/]+/videos/upload)$"
)
UPLOAD_FORM_SLACK_BYTES = 1024 * 1024
log = structlog.get_logger(__name__)


def _wants_replicas(settings: Settings) -> bool:
    """Read replicas are configured and the primary is PostgreSQL (an embedded SQLite
    database has none: the setting is ignored)."""
    return bool(settings.read_replica_urls) and not is_sqlite(settings.database_url)


def _replicas(settings: Settings, primary: AsyncEngine) -> ReplicaSet | None:
    """The read replicas, when wanted."""
    if not _wants_replicas(settings):
        if settings.read_replica_urls:
            log.warning("read_replicas_ignored", reason="the database is SQLite")
        return None
    return ReplicaSet.create(
        primary,
        settings.read_replica_urls,
        max_lag_seconds=settings.read_replica_max_lag_seconds,
        retry_seconds=settings.read_replica_retry_seconds,
        **_engine_options(settings),
    )


def _engine_options(settings: Settings) -> dict[str, Any]:
    """How the app's engines are built, the primary's and each replica's alike."""
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "echo": settings.db_echo,
        "slow_query_ms": settings.slow_query_ms,
        "transaction_pooler": settings.db_transaction_pooler,
    }


# The app's own middleware: what each does for a request, a hot read does for itself.
_MIDDLEWARE_HOT_READS_COVER = frozenset(
    {
        RequestContextMiddleware,
        ConditionalGetMiddleware,
        CommitPositionMiddleware,
        ReplicaReadRetryMiddleware,
    }
)


class LearnHubAPI(FastAPI):
    """FastAPI with the hot reads at its door (api/hot_reads.py): a request one of them takes
    is answered before any layer of the app; each layer (FastAPI's own, Starlette's error
    handling, the middleware below) cost the anonymous course page a few microseconds of
    its ~300 (bench/RESULTS.md), and a hot read does for itself what they would do for it.
    Every other request goes through the whole app."""

    hot_reads: hot_reads.HotReads | None = None

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """A middleware the hot reads do not do the work of (CORS, compression, tracing
        added by a deployer) would never see their requests: they are turned off then, and
        every request goes through the whole app."""
        if middleware_class not in _MIDDLEWARE_HOT_READS_COVER and self.hot_reads is not None:
            log.warning("hot_reads_off", reason=f"{middleware_class.__name__} is installed")
            self.hot_reads = None
        super().add_middleware(middleware_class, *args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.hot_reads is not None:
            if self.root_path:
                scope["root_path"] = self.root_path
            read = self.hot_reads.read_for(scope)
            if read is not None:
                scope["app"] = self
                await read.handle(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, **_engine_options(settings))
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.replicas = _replicas(settings, engine)
        # The hot reads' own connections (db/driver_pool.py), where they read on the driver.
        app.state.driver_pool = None
        if app.state.replicas is None and reads_on_driver(engine):
            app.state.driver_pool = DriverPool(engine, settings.db_pool_size, None)
            await app.state.driver_pool.open()
        # No background work here: a worker's CPU belongs to requests. Audit completeness is
        # checked by `learnhub audit watch` (SPEC 8), which `learnhub serve` starts.
        # What the worker built to start (about 200k objects: modules, models, routes,
        # schemas) lives as long as the worker: out of the collector's reach, a full
        # collection no longer walks it. Each one walked it for 100-200 ms with every
        # request in flight waiting, the catalog's p99 under load (bench/RESULTS.md).
        if settings.freeze_startup_objects:
            gc.collect()  # only what is alive now: garbage frozen would never be freed
            gc.freeze()
        try:
            yield
        finally:
            if app.state.replicas is not None:
                await app.state.replicas.dispose()
            if app.state.driver_pool is not None:
                await app.state.driver_pool.close()
            await engine.dispose()
            await app.state.tutor_provider.close()

    app = LearnHubAPI(
        title="LearnHub",
        version=__version__,
        description="The backend of an online learning platform.",
        lifespan=lifespan,
        # Replaced by docs.install: the same pages with every asset served from here.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks, off: the app's observability is its Prometheus
        # metrics and structured logs (docs/deployment.md), and the hooks' check for a
        # configured provider cost every request a few microseconds (bench/RESULTS.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.bus = EventBus()
    # Handlers open their own unit of work on whatever session factory the app has then.
    register_handlers(app.state.bus, lambda: UnitOfWork(app.state.session_factory), settings)
    app.state.token_settings = token_settings(settings)
    app.state.throttle_policy = throttle_policy(settings)
    app.state.reset_policy = reset_policy(settings)
    app.state.tutor_provider = build_provider(settings)
    app.state.tutor_policy = TutorPolicy(
        daily_message_limit=settings.tutor_daily_message_limit,
        retention_days=settings.tutor_retention_days,
        history_turns=settings.tutor_history_turns,
    )
    # Heartbeats read the time from here (tests put a clock of their own in its place).
    app.state.clock = utc_now
    app.state.credit_policy = CreditPolicy(
        completion_ratio=settings.completion_ratio,
        max_playback_rate=settings.max_playback_rate,
        tolerance_seconds=settings.progress_tolerance_seconds,
    )
    problems.install(app)
    web.install(app, settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = docs.document_security(
                restore_examples(problems.document_problem_responses(document))
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    docs.install(app)
    templates: dict[int, str] = {}
    # Every (path pattern, methods) served, for the `Allow` header of a 405.
    methods_by_path: list[tuple[re.Pattern[str], frozenset[str]]] = []
    # Every API route's (path pattern, template): a request refused before routing (its body
    # too large) is still counted under the route its path names.
    templates_by_path: list[tuple[re.Pattern[str], str]] = []
    # Routes are tried in order, one regular expression each: the hottest reads first (the
    # catalog and course pages, then the learner's). No two areas serve the same path.
    areas = (courses, content, learning, reviews, attempts, auth, users, roster, tutor, audit)
    # The API before the pages (their paths never overlap: /api/v1/... against the rest).
    routers = [(ops.router, ""), *((r.router, API_PREFIX) for r in areas)]
    routers += [(r, "") for r in web.routers()]
    for router, prefix in routers:
        # The API's routes refuse a query parameter given twice that they take once.
        refused = [Depends(one_value_per_query_parameter)] if prefix == API_PREFIX else None
        app.include_router(router, prefix=prefix, dependencies=refused)
        templates.update({id(r): prefix + getattr(r, "path", "") for r in router.routes})
        for route in router.routes:
            if isinstance(route, APIRoute):
                pattern = compile_path(prefix + route.path)[0]
                methods_by_path.append((pattern, frozenset(route.methods or ())))
                templates_by_path.append((pattern, prefix + route.path))
    # FastAPI's own /openapi.json is a plain route, the static files are mounts: the router
    # names only their endpoint in the scope, so their templates are found by it (metrics
    # and log lines name them by their path, not "unmatched").
    templates.update(
        {id(r.endpoint): r.path for r in app.router.routes if type(r) is Route}
        | {id(r.app): r.path for r in app.router.routes if isinstance(r, Mount)}
    )
    # FastAPI's own pages (/openapi.json, /docs, /redoc) are plain routes of the app.
    methods_by_path.extend(
        (r.path_regex, frozenset(r.methods or ()))
        for r in app.router.routes
        if isinstance(r, Route) and r.methods
    )
    app.state.methods_by_path = methods_by_path
    # The replicas' two layers only where there are replicas: every request pays for each
    # layer it passes through (the hot reads' budget is counted in microseconds).
    replicated = _wants_replicas(settings)
    # At the door: the anonymous catalog and course pages (their API routes answer whatever
    # they do not take); named in metrics and logs by their API route.
    app.hot_reads = hot_reads.HotReads(hot_reads.hot_reads_at(API_PREFIX, settings))
    if replicated:
        # Innermost: a read run again on the primary goes through everything else once.
        app.add_middleware(ReplicaReadRetryMiddleware)
    app.add_middleware(ConditionalGetMiddleware)
    if replicated:
        app.add_middleware(
            CommitPositionMiddleware,
            header=POSITION_HEADER,
            cookie=POSITION_COOKIE,
            max_age_seconds=POSITION_TTL_SECONDS,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        route_templates=templates,
        templates_by_path=templates_by_path,
        upload_paths=UPLOAD_PATHS,
        # The file and the form's other fields (a transcript, at most a few hundred kB).
        max_upload_body_bytes=settings.max_upload_bytes + UPLOAD_FORM_SLACK_BYTES,
        upload_refusal=f"the file is larger than the upload limit of {settings.max_upload_mb} MB",
    )
    return app
