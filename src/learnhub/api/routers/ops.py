"""Operations endpoints, at the root (not under /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from learnhub.api.problems import problem
from learnhub.api.schemas.examples import METRICS, json_example
from learnhub.db.engine import ping
from learnhub.metrics import exposition
from learnhub.services.monitoring import refresh_audit_completeness, refresh_outbox_backlog

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    summary="Liveness: the process answers",
    responses=json_example({"status": "ok"}),
)
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: the database answers",
    responses={**json_example({"status": "ready"}), 503: {"description": "database unreachable"}},
)
async def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers."""
    try:
        await ping(request.app.state.engine)
    except Exception as exc:  # any failure means "not ready", never a 500
        return problem(503, "database_unavailable", type(exc).__name__)
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses=json_example(METRICS, CONTENT_TYPE_LATEST),
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (public). The outbox backlog is counted now; audit completeness
    is what `learnhub audit watch` last stored (NaN before its first check)."""
    await refresh_outbox_backlog(request.app.state.session_factory)
    await refresh_audit_completeness(request.app.state.session_factory)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
