"""The interactive API docs, `/docs` (Swagger UI) and `/redoc`, served whole by the app.

FastAPI's defaults load Swagger UI, ReDoc, a favicon and Google Fonts from CDNs, so the pages
are blank on a machine without internet. Here every asset comes from the installed
`fastapi-standalone-docs` wheel (pinned in pyproject.toml), mounted under `/docs-assets`; the
HTML is still FastAPI's own (`get_swagger_ui_html`, `get_redoc_html`), pointed at those URLs.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from learnhub.api.deps import BEARER, OPTIONAL_BEARER

ASSETS_URL = "/docs-assets"
# fastapi/favicon.png, swagger/swagger-ui-bundle.js + swagger-ui.css, redoc/redoc.standalone.js
ASSETS_DIR = Path(str(files("fastapi_standalone_docs") / "static"))

REQUIRED_SCHEME = BEARER.scheme_name
OPTIONAL_SCHEME = OPTIONAL_BEARER.scheme_name

SWAGGER_UI_PARAMETERS = {
    # The token entered under "Authorize" survives a reload of the page.
    "persistAuthorization": True,
    # Swagger UI would otherwise send the document to an online validator for a badge.
    "validatorUrl": None,
}


def install(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve the assets and the two pages; `app` must be built with docs_url=None and
    redoc_url=None so FastAPI does not add its CDN-backed pages."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def assets(request: Request) -> str:
        return root(request) + ASSETS_URL

    def openapi_url(request: Request) -> str:
        return root(request) + (app.openapi_url or "")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = assets(request)
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{base}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{base}/fastapi/favicon.png",
            oauth2_redirect_url=None,  # bearer tokens only: no OAuth2 flow to come back from
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = assets(request)
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{base}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{base}/fastapi/favicon.png",
            with_google_fonts=False,
        )

    @app.get(f"{redoc_url}/logo-mini.svg", include_in_schema=False)
    async def redoc_logo() -> FileResponse:
        # The packaged ReDoc asks for its logo at the page's own path + "/logo-mini.svg"
        # (the package's replacement for the CDN URL upstream ReDoc uses).
        return FileResponse(ASSETS_DIR / "redoc" / "logo-mini.svg", media_type="image/svg+xml")


def document_security(document: dict[str, Any]) -> dict[str, Any]:
    """Operations that take a token without needing one (`deps.OPTIONAL_BEARER`) accept the
    anonymous caller too: OpenAPI says so with an empty requirement next to bearerAuth."""
    schemes = document.get("components", {}).get("securitySchemes", {})
    if schemes.pop(OPTIONAL_SCHEME, None) is not None:
        schemes.setdefault(REQUIRED_SCHEME, _bearer_scheme())
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            requirements = operation.get("security")
            if not requirements or not any(OPTIONAL_SCHEME in r for r in requirements):
                continue
            named = [r for r in requirements if OPTIONAL_SCHEME not in r]
            if {REQUIRED_SCHEME: []} in named:
                # A token needed somewhere in the dependencies is needed, whatever else.
                operation["security"] = named
            else:
                operation["security"] = [{}, {REQUIRED_SCHEME: []}, *named]
    return document


def _bearer_scheme() -> dict[str, Any]:
    return BEARER.model.model_dump(by_alias=True, exclude_none=True)
