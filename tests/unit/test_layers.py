"""Where code lives (issue 14): `services/` holds use cases only, operations and background
workers sit above everything else, the domain stands alone, and no module grows past about
400 lines. Read from the source (imports parsed, function-level ones included), no database."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

import learnhub

SRC = Path(learnhub.__file__).parent
MAX_LINES = 400
# Modules allowed past MAX_LINES, each with the reason it is not split (yet).
LONG_MODULES: dict[str, str] = {}
# Modules of services/ that are not use cases themselves but the small helpers of one.
SERVICE_HELPERS = {
    "services/base.py": "the base class of every service",
    "services/passwords.py": "password hashing for the auth and user use cases",
    "services/tokens.py": "token encoding for the auth use case",
}
# Composition roots: they wire the application and may start workers. A package (the
# `learnhub` command, one module per command group) counts as a whole.
COMPOSITION_ROOTS = {"cli", "api/app.py"}
# The floors of the house, lowest first: a module imports its own package or a lower floor,
# never a higher one (api -> services -> repositories -> db -> models -> domain). Settings,
# logging and metrics are the ground every floor stands on.
FLOORS = {
    "domain": 0,
    "config": 0,
    "logging": 0,
    "metrics": 0,
    "models": 1,
    "events": 1,
    "tutor_providers": 1,
    "media": 1,
    "db": 2,
    "repositories": 3,
    "services": 4,
    "ops": 5,
    "workers": 5,
    "api": 6,
    # The web app for learners (issue 16): pages beside the API, on the same services.
    "web": 6,
    "cli": 7,
}
# Markers of operations work that belongs in ops/ (bulk loading, query plans), not services.
OPS_MARKERS = ("EXPLAIN", "COPY ", "copy_records_to_table", "BulkLoader")


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def imported(path: Path) -> set[str]:
    """Every learnhub module `path` imports, wherever the import statement is."""
    found: set[str] = set()
    package = ["learnhub", *path.relative_to(SRC).with_suffix("").parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "learnhub" or m.startswith("learnhub.")}


def under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def floor(module_path: str) -> str:
    """The floor of `learnhub/<first part>`: a package, or a top-level module."""
    return module_path.split("/")[0].removesuffix(".py")


def composition_root(module_path: str) -> bool:
    return module_path in COMPOSITION_ROOTS or floor(module_path) in COMPOSITION_ROOTS


def layer_violations() -> list[str]:
    problems = []
    for path in modules():
        here = name(path)
        imports = imported(path)
        if here != "__init__.py":
            own = FLOORS[floor(here)]  # a new package must be given its floor
            problems += [
                f"{here} imports {m} (up from floor {own} to {FLOORS[theirs]})"
                for m in imports
                if (theirs := m.split(".")[1] if "." in m else "") in FLOORS
                and FLOORS[theirs] > own
            ]
        if here.startswith("domain/"):
            problems += [
                f"{here} imports {m} (the domain imports only the domain)"
                for m in imports
                if not under(m, "learnhub.domain") and m != "learnhub"
            ]
        if here.split("/")[0] in ("ops", "workers") or composition_root(here):
            continue
        problems += [
            f"{here} imports {m} (only ops, workers and the composition roots may)"
            for m in imports
            if under(m, "learnhub.ops") or under(m, "learnhub.workers") or under(m, "learnhub.cli")
        ]
    # The app factory starts event handlers, but the api serves requests: no operations code.
    problems += [
        f"api/app.py imports {m}" for m in imported(SRC / "api/app.py") if under(m, "learnhub.ops")
    ]
    return problems


def service_violations() -> list[str]:
    problems = []
    for path in sorted((SRC / "services").glob("*.py")):
        here = name(path)
        if path.name == "__init__.py" or here in SERVICE_HELPERS:
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        services = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id.endswith("Service") for b in node.bases)
        ]
        if not services:
            problems.append(f"{here} defines no service (a use case is a BaseService subclass)")
        problems += [f"{here} holds operations work ({m!r})" for m in OPS_MARKERS if m in source]
    return problems


def long_modules() -> list[str]:
    return [
        f"{name(path)}: {lines} lines"
        for path in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and name(path) not in LONG_MODULES
    ]


def test_imports_run_downwards_and_the_domain_stands_alone():
    assert layer_violations() == []


def test_services_hold_use_cases_only():
    assert service_violations() == []


def test_no_module_is_over_400_lines_but_the_listed_ones():
    assert long_modules() == []


def test_the_allowlists_name_real_modules_that_still_need_them():
    # An entry outlives its reason once the module is split or gone: the list shrinks with it.
    for listed in LONG_MODULES:
        path = SRC / listed
        assert path.exists(), listed
        assert len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES, listed
    for listed in SERVICE_HELPERS:
        assert (SRC / listed).exists(), listed


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("services/x.py", "from learnhub.workers.relay import OutboxRelay\n", layer_violations),
        ("repositories/x.py", "from learnhub.services.base import BaseService\n", layer_violations),
        ("models/x.py", "from learnhub.db.uow import UnitOfWork\n", layer_violations),
        ("repositories/x.py", "def f():\n    import learnhub.ops.seed\n", layer_violations),
        ("api/routers/x.py", "from learnhub.ops import demo\n", layer_violations),
        ("services/x.py", "from learnhub.cli.common import console\n", layer_violations),
        ("api/x.py", "from learnhub.workers.relay import OutboxRelay\n", layer_violations),
        ("domain/x.py", "from learnhub.models.types import UTCDateTime\n", layer_violations),
        ("domain/x.py", "from ..db import audit\n", layer_violations),
        ("services/x.py", "def helper():\n    pass\n", service_violations),
        (
            "services/x.py",
            "class XService(BaseService):\n    q = 'EXPLAIN SELECT 1'\n",
            service_violations,
        ),
        ("services/x.py", "x = 1\n" * (MAX_LINES + 1), long_modules),
    ],
)
def test_each_rule_catches_a_breach(tmp_path, monkeypatch, module, source, rule):
    # The rules run on a copy of the package with one offending module added.
    copy = tmp_path / "learnhub"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / module).parent.mkdir(parents=True, exist_ok=True)
    (copy / module).write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "SRC", copy)
    assert any(module in problem for problem in rule()), rule()


def test_every_module_of_the_command_package_is_a_composition_root(tmp_path, monkeypatch):
    # A new command group in cli/ may start workers and run operations, as the rest of it does.
    copy = tmp_path / "learnhub"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "cli/x.py").write_text(
        "from learnhub.ops import demo\nfrom learnhub.workers.relay import OutboxRelay\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "SRC", copy)
    assert not [problem for problem in layer_violations() if "cli/x.py" in problem]
