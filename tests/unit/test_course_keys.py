"""What is an id and what a slug in `GET /courses/{id_or_slug}`, and who passes a public
permission's check (domain rules, no database)."""

from __future__ import annotations

import uuid

import pytest

from learnhub.domain import course_rules
from learnhub.domain.errors import InvalidValue, NotAuthenticated, PermissionDenied
from learnhub.domain.ids import parse_id
from learnhub.domain.permissions import AUDIT_READ, USERS_READ_PROFILES
from learnhub.domain.principal import Principal, require_open

ID = uuid.UUID("0193a5b2-0003-7000-8000-00000000c0c0")


@pytest.mark.parametrize(
    "text",
    [
        str(ID),
        str(ID).upper(),
        ID.hex,
        "{" + str(ID) + "}",
        "urn:uuid:" + str(ID),
    ],
)
def test_the_forms_of_an_id(text: str) -> None:
    assert parse_id(text) == ID


@pytest.mark.parametrize(
    "text",
    ["my-course", "deadbeef-deadbeef-deadbeef-deadbeef", "{" + str(ID), str(ID) + "}", ""],
)
def test_anything_else_is_not_an_id(text: str) -> None:
    assert parse_id(text) is None


def test_slugs_never_look_like_ids() -> None:
    assert course_rules.addressable_slug("python-basics", given=True) == "python-basics"
    with pytest.raises(InvalidValue):
        course_rules.addressable_slug(ID.hex, given=True)
    assert course_rules.addressable_slug(str(ID), given=False) == f"{ID}-course"
    assert course_rules.is_slug("python-basics") and not course_rules.is_slug("Python")
    assert not course_rules.is_slug("a" * 221) and not course_rules.is_slug("a--b")


def test_a_public_permission_lets_everyone_through() -> None:
    nobody = Principal(uuid.uuid4(), None, frozenset(), frozenset())
    require_open(None, USERS_READ_PROFILES)
    require_open(nobody, USERS_READ_PROFILES)  # whatever the stored roles grant
    with pytest.raises(NotAuthenticated):
        require_open(None, AUDIT_READ)
    with pytest.raises(PermissionDenied):
        require_open(nobody, AUDIT_READ)
