"""Routers hold no transaction control and build no query: the request boundary commits
(`api.deps.get_uow`), use cases that keep work despite an error say so in their service, and
queries live in repositories. A router calling commit, rollback, select, text or execute
(or importing SQLAlchemy) fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import learnhub.api.routers

ROUTERS = Path(learnhub.api.routers.__file__).parent
# Transaction control and query building, by the name they are called with.
FORBIDDEN_CALLS = frozenset(
    {
        "commit",
        "rollback",
        "flush",
        "execute",
        "scalar",
        "scalars",
        "select",
        "text",
        "keep_despite_error",
        "release_transaction",
    }
)


def called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def violations(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call) and called_name(node) in FORBIDDEN_CALLS:
            found.append(f"{filename}:{node.lineno} calls {called_name(node)}()")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found.append(f"{filename}:{node.lineno} imports {node.module}")
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("sqlalchemy") for a in node.names
        ):
            found.append(f"{filename}:{node.lineno} imports sqlalchemy")
    return sorted(found)


def test_routers_neither_commit_nor_build_queries() -> None:
    files = sorted(ROUTERS.glob("*.py"))
    assert len(files) > 5, "the routers package moved: point ROUTERS at it"
    found = [v for path in files for v in violations(path.read_text(), path.name)]
    assert found == [], "the request boundary commits; queries belong in repositories"


def test_the_check_sees_each_kind_of_violation() -> None:
    source = (
        "from sqlalchemy import text\n"
        "async def endpoint(uow):\n"
        "    await uow.session.execute(text('SELECT 1'))\n"
        "    await uow.commit()\n"
        "    await uow.rollback()\n"
    )
    assert violations(source, "bad.py") == [
        "bad.py:1 imports sqlalchemy",
        "bad.py:3 calls execute()",
        "bad.py:3 calls text()",
        "bad.py:4 calls commit()",
        "bad.py:5 calls rollback()",
    ]
