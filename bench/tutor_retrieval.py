"""How well the tutor finds the passage that answers a question, per retrieval mode, on the
evaluation set `bench/tutor_eval.json` (questions over the demo catalog's transcripts, each
with the passage that answers it).

    python -m bench.tutor_retrieval                  # every mode whose dependencies are here
    python -m bench.tutor_retrieval --misses         # also list the cases a mode got wrong
    python -m bench.tutor_retrieval --write-results  # also replace the block in RESULTS.md

A case is asked as the tutor asks it: over its course's material (description and
transcripts), in a conversation about the case's `focus` video when it has one. A passage is
a hit when it is from the expected video and contains the expected phrase. Reported per mode:
hit rate at 1 and at 3, mean reciprocal rank (of the first hit in the top 10), `answered`
(the share whose first passage is a hit and that the mode judged covered: what the learner
gets), how many cases the mode said the material does not cover, and the mean time per
question. `baseline` is the retrieval before issue 15 (`bench/tutor_baseline.py`) on its
own 60-word passages; `semantic` and `hybrid` need the optional extra
(`pip install 'learnhub[semantic]'`) and are left out, with a note, without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import tutor_baseline
from learnhub.ops.demo_catalog import DemoCourse, demo_instructors
from learnhub.tutor_providers.base import Passage
from learnhub.tutor_providers.retrieval import Retriever, transcript_passages

ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT / "bench" / "tutor_eval.json"
RESULTS = ROOT / "bench" / "RESULTS.md"
MODES = ("baseline", "bm25", "semantic", "hybrid")
DEPTH = 10  # reciprocal rank counts a hit this deep
NAMESPACE = uuid.UUID("6f1c1d2e-15a1-4c6e-9a55-7475746f7273")


@dataclass(frozen=True, slots=True)
class Case:
    course: str
    question: str
    video: str
    expect: str
    focus: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    mode: str
    cases: int
    hit_at_1: float
    hit_at_3: float
    mrr: float
    answered: float  # the first passage is a hit and the mode judged the question covered
    not_covered: int
    ms_per_question: float
    misses: tuple[str, ...]


# What a mode is, for this script: the passages it ranks, and the ranking with whether the
# material was judged to cover the question.
Ranker = Callable[[Sequence[Passage], str, uuid.UUID | None], tuple[list[Passage], bool]]


def load_cases(path: Path = EVAL_SET) -> list[Case]:
    return [Case(**c) for c in json.loads(path.read_text())["cases"]]


def video_id(course: str, video: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{course}/{video}")


def material(course: DemoCourse, legacy: bool = False) -> list[Passage]:
    """The course's passages as the tutor service builds them (see TutorService._material)."""
    passages = [Passage(text=course.description, source_title=course.title)]
    for section in course.sections:
        for v in section.videos:
            vid = video_id(course.title, v.title)
            if legacy:
                passages += tutor_baseline.legacy_passages(vid, v.title, v.transcript)
            else:
                passages += transcript_passages(vid, v.title, v.duration_seconds, v.transcript)
    return [p for p in passages if p.text.strip()]


def is_hit(passage: Passage, case: Case) -> bool:
    return passage.video_id == video_id(case.course, case.video) and case.expect in passage.text


def rankers() -> tuple[dict[str, Ranker], dict[str, str]]:
    """The modes that can run here, and why the others cannot."""

    def baseline(ps: Sequence[Passage], q: str, focus: uuid.UUID | None):
        return tutor_baseline.rank(ps, q, focus)

    def of(retriever: Retriever) -> Ranker:
        def run(ps: Sequence[Passage], q: str, focus: uuid.UUID | None):
            found = retriever.retrieve(ps, q, focus)
            return [r.passage for r in found.ranked], found.covered

        return run

    available: dict[str, Ranker] = {"baseline": baseline, "bm25": of(Retriever())}
    skipped: dict[str, str] = {}
    try:
        from learnhub.tutor_providers.semantic import MiniLMEmbedder, SemanticUnavailable

        # One model per mode: a shared cache would hand the second mode the first one's
        # question vectors, and its time per question would leave out the embedding.
        embedders = [MiniLMEmbedder(), MiniLMEmbedder()]
    except SemanticUnavailable as exc:
        skipped = {"semantic": str(exc), "hybrid": str(exc)}
    else:
        available["semantic"] = of(Retriever("semantic", embedders[0]))
        available["hybrid"] = of(Retriever("hybrid", embedders[1]))
    return available, skipped


def evaluate(mode: str, rank: Ranker, cases: Sequence[Case]) -> Score:
    courses = {c.title: c for i in demo_instructors() for c in i.courses}
    legacy = mode == "baseline"
    passages = {title: material(course, legacy) for title, course in courses.items()}
    if mode in ("semantic", "hybrid"):  # embed each course once first: time the questions
        for title in passages:
            rank(passages[title], title, None)
    at1 = at3 = answered = 0
    reciprocal = 0.0
    not_covered = 0
    misses = []
    started = time.perf_counter()
    for case in cases:
        focus = video_id(case.course, case.focus) if case.focus else None
        ranked, covered = rank(passages[case.course], case.question, focus)
        first = next((i for i, p in enumerate(ranked[:DEPTH], 1) if is_hit(p, case)), None)
        at1 += first == 1
        at3 += first is not None and first <= 3
        reciprocal += 1 / first if first else 0.0
        not_covered += not covered
        answered += first == 1 and covered
        if first != 1 or not covered:
            got = f"{ranked[0].source_title}: {ranked[0].text[:60]}" if ranked else "nothing"
            said = "" if covered else " (said: not covered)"
            misses.append(f"{case.question!r} -> rank {first or '-'}{said}; first: {got}")
    elapsed = time.perf_counter() - started
    n = len(cases)
    return Score(
        mode,
        n,
        at1 / n,
        at3 / n,
        reciprocal / n,
        answered / n,
        not_covered,
        elapsed * 1000 / n,
        tuple(misses),
    )


def table(scores: Sequence[Score], skipped: dict[str, str]) -> str:
    lines = [
        "| mode | cases | hit@1 | hit@3 | MRR | answered | said not covered | ms / question |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        lines.append(
            f"| {s.mode} | {s.cases} | {s.hit_at_1:.3f} | {s.hit_at_3:.3f} | {s.mrr:.3f} | "
            f"{s.answered:.3f} | {s.not_covered} | {s.ms_per_question:.1f} |"
        )
    for mode, why in skipped.items():
        lines.append(f"| {mode} | - | - | - | - | - | - | not run: {why} |")
    return "\n".join(lines)


def write_results(text: str) -> None:
    start, end = "<!-- bench:tutor_retrieval:start -->", "<!-- bench:tutor_retrieval:end -->"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    block = f"{start}\nCommit {commit}, `python -m bench.tutor_retrieval`:\n\n{text}\n{end}"
    current = RESULTS.read_text()
    if start in current and end in current:
        before, rest = current.split(start, 1)
        updated = before + block + rest.split(end, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n## Tutor retrieval\n\n" + block + "\n"
    RESULTS.write_text(updated)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset")
    parser.add_argument("--misses", action="store_true", help="list each mode's misses")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the scores as JSON")
    args = parser.parse_args(argv)
    wanted = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(wanted) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}; known: {', '.join(MODES)}")
    cases = load_cases()
    available, skipped = rankers()
    scores = [evaluate(m, available[m], cases) for m in wanted if m in available]
    skipped = {m: why for m, why in skipped.items() if m in wanted}
    text = table(scores, skipped)
    print(text)
    if args.misses:
        for s in scores:
            print(f"\n{s.mode}: {len(s.misses)} not first")
            for miss in s.misses:
                print(f"  {miss}")
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(s) for s in scores], indent=1))
    if args.write_results:
        write_results(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
