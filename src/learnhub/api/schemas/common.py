from __future__ import annotations

import uuid
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from learnhub.api.schemas.examples import INSTRUCTOR, NEXT_CURSOR, example, first_example
from learnhub.repositories.filters import MAX_CURSOR_LENGTH

T = TypeVar("T")


# Control characters the API never stores: C0 but tab, newline and carriage return, DEL, and
# the C1 block (NUL cannot be stored in PostgreSQL text; the others are never meant).
_CONTROL_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# For query parameters (FastAPI validates these with a pattern).
NO_CONTROL_PATTERN = rf"^[^{_CONTROL_CLASS}]*$"
# Text that must hold more than white space (the services strip titles, names and the like).
WORDS_PATTERN = rf"^[^{_CONTROL_CLASS}]*[^\s{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*$"
# A list's `cursor` query parameter, as `next_cursor` gave it.
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, pattern=NO_CONTROL_PATTERN)]
# Admin lists of soft-deleted rows (to find what to restore): `only` lists the deleted rows
# instead of the live ones; `exclude` (the default) is the live list.
Deleted = Annotated[
    Literal["exclude", "only"],
    Query(description="`only`: the soft-deleted rows instead (administrators only)"),
]

# Free text: the pattern is declared in the OpenAPI document and enforced by validation.
Text = Annotated[str, Field(pattern=NO_CONTROL_PATTERN)]
# Text that must not be blank: titles, names, questions, options, tags, objectives.
Words = Annotated[str, Field(pattern=WORDS_PATTERN)]


def _json_integer(value: Any) -> Any:
    """JSON Schema's `integer` (and `number`): 3 and 3.0 are integers; `true` and `"3"` are
    not (pydantic's lax mode took them as 1 and 3, and its strict mode refused 3.0, which
    the schema allows)."""
    if isinstance(value, bool | str | bytes):
        raise ValueError("must be a JSON number, not a boolean or a string")
    return value


# Integers of request bodies: `Annotated[int, Field(<bounds>), JSON_INTEGER]`, the bounds
# inside, before the validator, so the document shows them as `minimum`/`maximum` (booleans
# are StrictBool: JSON Schema never coerces either).
JSON_INTEGER = BeforeValidator(_json_integer)
# Numbers of request bodies likewise: JSON Schema's `number` refuses booleans and strings.
JSON_NUMBER = BeforeValidator(_json_integer)
Version = Annotated[int, Field(ge=1, description="the version being changed"), JSON_INTEGER]
# Integers with their bounds declared in the document (see JSON_INTEGER): a place in an
# ordered list (sections, videos, quizzes), a duration in seconds (videos, quiz time limits).
Position = Annotated[int, Field(ge=0, le=10_000), JSON_INTEGER]
Seconds = Annotated[int, Field(ge=1, le=7 * 24 * 3600), JSON_INTEGER]


class Input(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PersonOut(Output):
    """Someone as everybody may see them, next to their id (`instructor_id`, `user_id`):
    `display_name` is null once the account is deleted."""

    model_config = example(INSTRUCTOR)

    id: uuid.UUID
    display_name: str | None

    @classmethod
    def named(cls, user_id: uuid.UUID, display_name: str | None) -> dict[str, Any]:
        return {"id": user_id, "display_name": display_name}


def _page_example(schema: dict[str, Any], page: type[BaseModel]) -> None:
    """A page of `PageOut[Item]` shows Item's own example, with a cursor to the next page."""
    args = page.__pydantic_generic_metadata__["args"]
    item = first_example(args[0]) if args else None
    if item is not None:
        schema["examples"] = [{"items": [item], "next_cursor": NEXT_CURSOR}]


class PageOut(BaseModel, Generic[T]):
    model_config = ConfigDict(json_schema_extra=_page_example)

    items: list[T]
    next_cursor: str | None


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine-readable `code`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/not_found",
                    "title": "Not Found",
                    "status": 404,
                    "code": "not_found",
                    "detail": "course not found",
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (400, 401, 403, 404, 409, 412, 413, 422, 429)
}
