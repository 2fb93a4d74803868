"""Under `serve --workers N` the admin's health page counts every worker's actions and
statements, as /metrics does (prometheus_client's multiprocess mode), not only those of the
worker that happens to answer it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from learnhub.metrics import MULTIPROCESS_DIR

WORKER = """
from learnhub.metrics import SOFT_DELETES, statement_duration
SOFT_DELETES.labels(entity="course").inc({deletes})
for _ in range({statements}):
    statement_duration("SELECT", "courses").observe(0.002)
"""

PAGE = """
import json
from learnhub.metrics import DB_QUERY_DURATION, SOFT_DELETES, families
from learnhub.services.health import by_entity, statement_times
shown = families(SOFT_DELETES, DB_QUERY_DURATION)
times = [(t.operation, t.table, t.statements) for t in statement_times(shown[DB_QUERY_DURATION])]
print(json.dumps({"deletes": by_entity(shown[SOFT_DELETES]), "times": times}))
"""


def run(code: str, folder: Path) -> str:
    # A process of its own each: the multiprocess mode is chosen when prometheus_client is
    # imported, and each worker writes its values to files named by its process id.
    env = {**os.environ, MULTIPROCESS_DIR: str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_health_page_counts_every_workers_values(tmp_path: Path) -> None:
    run(WORKER.format(deletes=2, statements=3), tmp_path)
    run(WORKER.format(deletes=5, statements=4), tmp_path)
    shown = json.loads(run(PAGE, tmp_path).strip().splitlines()[-1])
    assert shown["deletes"] == {"course": 7}
    assert shown["times"] == [["SELECT", "courses", 7]]
