"""The tutor's retrieval evaluation stays runnable and honest: the set is large enough, every
expected passage exists in the demo catalog, `python -m bench.tutor_retrieval` reports every
mode it can run, and the default retrieval does not fall below the old one (the numbers
themselves live in bench/RESULTS.md). No database: it runs on the catalog's text alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.tutor_retrieval import load_cases, material, video_id

from learnhub.ops.demo_catalog import demo_instructors

ROOT = Path(__file__).resolve().parents[2]


def test_the_evaluation_set_asks_about_passages_that_exist():
    cases = load_cases()
    assert len(cases) >= 40
    assert len({c.question for c in cases}) == len(cases)
    courses = {c.title: c for i in demo_instructors() for c in i.courses}
    for case in cases:
        passages = material(courses[case.course])
        vid = video_id(case.course, case.video)
        # Exactly one passage of the expected video holds the expected phrase.
        assert sum(p.video_id == vid and case.expect in p.text for p in passages) == 1, case
        if case.focus:
            assert any(p.video_id == video_id(case.course, case.focus) for p in passages)
    assert sum(c.focus is not None for c in cases) >= 2  # "this video" questions are in it


def test_the_benchmark_reports_each_mode(tmp_path: Path):
    out = tmp_path / "scores.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.tutor_retrieval", "--modes", "baseline,bm25", "--json", out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| baseline | " in proc.stdout and "| bm25 | " in proc.stdout
    scores = {s["mode"]: s for s in json.loads(out.read_text())}
    for score in scores.values():
        assert score["cases"] >= 40
        assert 0 <= score["hit_at_1"] <= score["hit_at_3"] <= 1
        assert score["hit_at_1"] <= score["mrr"] <= 1
    assert scores["bm25"]["hit_at_1"] >= scores["baseline"]["hit_at_1"]
    assert scores["bm25"]["answered"] > scores["baseline"]["answered"]
