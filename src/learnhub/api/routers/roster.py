"""A course's roster for its instructor and admins, as JSON pages or one CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from learnhub.api.deps import Caller, Limit, Uow
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor, PageOut
from learnhub.api.schemas.learning import RosterEntryOut, RosterUser
from learnhub.repositories.filters import CursorPagination
from learnhub.services.roster import RosterEntry, RosterService

router = APIRouter(tags=["learning"], responses=PROBLEM_RESPONSES)

CSV_COLUMNS = (
    "enrollment_id",
    "user_id",
    "display_name",
    "email",
    "status",
    "enrolled_at",
    "completed_at",
    "percent",
    "last_activity_at",
)
# A cell a spreadsheet would read as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell: empty for None, ISO 8601 for times; text a spreadsheet would run as a
    formula gets a leading apostrophe, so it shows as typed."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # as in the JSON answers: UTC, with a Z
        text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(entries: Sequence[RosterEntry]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n, e in enumerate(entries, 1):
        r = e.row
        writer.writerow(
            csv_cell(v)
            for v in (
                r.id,
                r.user_id,
                r.display_name,
                e.email,
                r.status.value,
                r.enrolled_at,
                r.completed_at,
                e.percent,
                r.last_activity_at,
            )
        )
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def entry_out(e: RosterEntry) -> RosterEntryOut:
    r = e.row
    return RosterEntryOut(
        enrollment_id=r.id,
        user=RosterUser(id=r.user_id, display_name=r.display_name, email=e.email),
        status=r.status,
        enrolled_at=r.enrolled_at,
        completed_at=r.completed_at,
        percent=e.percent,
        last_activity_at=r.last_activity_at,
    )


@router.get(
    "/courses/{course_id}/enrollments",
    summary="List a course's learners (its instructor and admins)",
    dependencies=[KnownQueryOnly],
    response_model=PageOut[RosterEntryOut],
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": (
                        "enrollment_id,user_id,display_name,email,status,enrolled_at,"
                        "completed_at,percent,last_activity_at\r\n"
                        "0193a5b2-0009-7000-8000-000000003333,"
                        "0193a5b2-0001-7000-8000-00000000a0a0,Ada,,active,"
                        "2026-03-02T09:30:00Z,,40.0,2026-03-09T17:05:12Z\r\n"
                    ),
                }
            },
            "description": "a page of learners (JSON), or all of them with `format=csv`",
        }
    },
)
async def course_roster(
    course_id: uuid.UUID,
    caller: Caller,
    uow: Uow,
    format: Annotated[
        Literal["json", "csv"],
        Query(description="`csv`: every learner in one CSV download (limit and cursor unused)"),
    ] = "json",
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Any:
    """The course's learners, newest enrolment first, with status, progress percent and last
    activity: for the course's instructor and admins (403 for others who can see the
    course, 404 when it does not exist for the caller). Learners' email addresses are shown
    to administrators only.

    `?format=csv` answers every learner at once as `text/csv` (an attachment, UTF-8, one
    header row; cells starting with `=`, `+`, `-` or `@` get a leading `'` so that a
    spreadsheet shows them instead of running them)."""
    service = RosterService(uow)
    if format == "csv":
        entries = await service.export(caller, course_id)
        return StreamingResponse(
            csv_lines(entries),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="course-{course_id}-learners.csv"'
            },
        )
    page = await service.page(caller, course_id, CursorPagination(limit, cursor))
    return PageOut(items=[entry_out(e) for e in page.items], next_cursor=page.next_cursor)
