"""The web app (`learnhub.web`) stands where the API's routers stand (issue 16): its pages
call services through the request's unit of work and hold no query, no transaction control
and no model import. Read from the source, no database."""

from __future__ import annotations

from pathlib import Path

import learnhub.web
from tests.unit.test_layers import imported
from tests.unit.test_router_boundary import violations

WEB = Path(learnhub.web.__file__).parent
# Value types the pages pass to services (a keyset page request), not queries.
ALLOWED_LOWER = {"learnhub.repositories.filters", "learnhub.repositories.filters.CursorPagination"}


def web_modules() -> list[Path]:
    return sorted(WEB.rglob("*.py"))


def test_pages_neither_commit_nor_build_queries() -> None:
    found = [v for path in web_modules() for v in violations(path.read_text(), path.name)]
    assert found == []


def test_pages_import_services_not_repositories_or_models() -> None:
    found = [
        f"{path.name} imports {module}"
        for path in web_modules()
        for module in imported(path)
        if module.split(".")[1] in ("repositories", "models", "db", "ops", "workers")
        and module not in ALLOWED_LOWER
    ]
    assert found == []


def test_templates_load_nothing_from_outside() -> None:
    # No CDN: every script, style and font comes from the app (`/static`).
    for template in sorted((WEB / "templates").rglob("*.html")):
        text = template.read_text()
        assert "http://" not in text and "https://" not in text, template.name
        assert "<script>" not in text and " on" + "click=" not in text, template.name
        assert " style=" not in text, template.name  # the CSP allows no inline style
