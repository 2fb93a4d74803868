"""The demo catalog is a data file shipped in the package: it loads into typed records with
the domain's enums, and a malformed file fails with where and what, before anything is
written."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from learnhub.domain.enums import DifficultyLevel, QuestionType
from learnhub.ops.demo_catalog import (
    CATALOG_PATH,
    DemoCatalogError,
    demo_instructors,
    load_demo_catalog,
    parse_demo_catalog,
)


def shipped() -> dict:
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def test_the_shipped_catalog_is_package_data_and_loads_with_domain_enums():
    # Read through the package's resources, as an installed wheel would be.
    text = resources.files("learnhub.ops").joinpath("demo_catalog.json").read_text("utf-8")
    instructors = parse_demo_catalog(json.loads(text))
    assert instructors == demo_instructors()
    courses = [c for i in instructors for c in i.courses]
    assert len(instructors) == 4 and len(courses) == 11
    assert all(isinstance(c.difficulty, DifficultyLevel) for c in courses)
    questions = [q for c in courses for s in c.sections for z in s.quizzes for q in z.questions]
    assert questions and all(isinstance(q.type, QuestionType) for q in questions)
    assert {q.type for q in questions} == set(QuestionType)
    assert all(v.transcript for c in courses for s in c.sections for v in s.videos)


def _broken(edit) -> dict:
    data = copy.deepcopy(shipped())
    edit(data)
    return data


def _course(data: dict) -> dict:
    return data["instructors"][0]["courses"][0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: _course(d).update(difficulty="wizard"),
            "instructors[0].courses[0].difficulty: 'wizard' is not one of beginner",
        ),
        (lambda d: _course(d).pop("title"), "instructors[0].courses[0]: missing field 'title'"),
        (
            lambda d: _course(d).update(colour="red"),
            "instructors[0].courses[0]: unknown field(s) colour",
        ),
        (
            lambda d: _course(d)["sections"][0]["videos"][0].update(duration_seconds="540"),
            "courses[0].sections[0].videos[0].duration_seconds: expected int, got str",
        ),
        (
            lambda d: _course(d)["sections"][0]["videos"][0].update(duration_seconds=True),
            "duration_seconds: expected int, got bool",
        ),
        (lambda d: _course(d).update(tags=["python", 3]), "courses[0].tags[1]: expected str"),
        (lambda d: d.update(instructors={}), "instructors: expected list, got dict"),
    ],
)
def test_a_malformed_catalog_names_the_place_and_the_problem(edit, message):
    with pytest.raises(DemoCatalogError) as caught:
        parse_demo_catalog(_broken(edit), "demo_catalog.json")
    assert message in str(caught.value)
    assert str(caught.value).startswith("demo_catalog.json")


def test_a_quiz_question_type_outside_the_domain_enum_is_refused():
    def edit(data: dict) -> None:
        for instructor in data["instructors"]:
            for course in instructor["courses"]:
                for section in course["sections"]:
                    for quiz in section["quizzes"]:
                        quiz["questions"][0]["type"] = "essay"
                        return

    with pytest.raises(DemoCatalogError, match="'essay' is not one of single_choice"):
        parse_demo_catalog(_broken(edit))


def test_a_file_that_is_not_json_fails_clearly(tmp_path):
    broken = tmp_path / "catalog.json"
    broken.write_text('{"instructors": [', encoding="utf-8")
    with pytest.raises(DemoCatalogError, match=r"catalog\.json: cannot read the demo catalog"):
        load_demo_catalog(broken)
    with pytest.raises(DemoCatalogError, match="cannot read the demo catalog"):
        load_demo_catalog(tmp_path / "missing.json")
