"""Permission names are spelt once, in `domain/permissions.py`: everything else imports the
constants. A permission string literal anywhere else in src (a typo there would be a check
that never passes, or a role that silently grants nothing) fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import learnhub
from learnhub.domain import permissions

SRC = Path(learnhub.__file__).parent
HOME = Path(permissions.__file__).resolve()
AREAS = sorted({code.split(":")[0] for code in permissions.PERMISSIONS})
# Any `<area>:<action>` string, not only the names that exist today: a misspelt one counts.
PERMISSION_LIKE = re.compile(rf"(?:{'|'.join(AREAS)}):[a-z_]+")


def literals(source: str, filename: str) -> list[str]:
    return [
        f"{filename}:{node.lineno} {node.value!r}"
        for node in ast.walk(ast.parse(source, filename))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and PERMISSION_LIKE.fullmatch(node.value)
    ]


def test_permission_names_are_spelt_only_in_domain_permissions() -> None:
    files = [p for p in sorted(SRC.rglob("*.py")) if p.resolve() != HOME]
    found = [hit for p in files for hit in literals(p.read_text(), str(p.relative_to(SRC)))]
    assert found == [], "import the name from learnhub.domain.permissions"


def test_every_permission_matches_the_pattern_the_check_looks_for() -> None:
    assert all(PERMISSION_LIKE.fullmatch(code) for code in permissions.PERMISSIONS)


def test_the_check_sees_a_literal_but_not_prose() -> None:
    source = (
        'READ = "audit:read"\n'
        'TYPO = "courses:autor"\n'
        'def f():\n    """Needs `audit:read` (administrators)."""\n'
    )
    assert literals(source, "bad.py") == ["bad.py:1 'audit:read'", "bad.py:2 'courses:autor'"]
