"""BaseRepository: typed filters, sorts, keyset and offset pagination, counts, field guards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import InvalidCursor, InvalidValue, NotFound
from learnhub.models import User
from learnhub.repositories.filters import (
    CursorPagination,
    Eq,
    In,
    IsNull,
    OffsetPagination,
    Range,
    Search,
)
from learnhub.repositories.user import UserRepository

TIE = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def make_users(session, n: int, *, tag: str, created_at: datetime = TIE) -> list[User]:
    repo = UserRepository(session)
    users = []
    for i in range(n):
        users.append(
            await repo.create(
                User(
                    email=f"{tag}{i:03d}@example.com",
                    display_name=f"{tag} {i}",
                    password_hash="x",
                    created_at=created_at,
                )
            )
        )
    return users


async def test_keyset_pages_through_ties_without_gaps_or_repeats(session):
    users = await make_users(session, 23, tag="tie")
    repo = UserRepository(session)
    seen, cursor, pages = [], None, 0
    while True:
        page = await repo.get_all(
            [Search([User.email], "tie")], CursorPagination(limit=5, cursor=cursor), sort="newest"
        )
        seen.extend(u.id for u in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        # A row inserted between pages, at the same sort value, must not shift the pages.
        if pages == 2:
            late = await make_users(session, 1, tag="tiezz")
    assert pages == 5
    # Every tied row exactly once, newest first with ties broken by id (descending). The row
    # inserted mid-way has a newer id, so it sorts before the cursor and never shifts a page.
    assert seen == sorted((u.id for u in users), reverse=True)
    assert late[0].id not in seen


async def test_ascending_sort_and_offset_pagination(session):
    users = await make_users(session, 7, tag="asc")
    repo = UserRepository(session)
    page = await repo.get_all(
        [Search([User.email], "asc0")], CursorPagination(limit=3), sort="email"
    )
    assert [u.email for u in page.items] == [u.email for u in users[:3]]
    rest = await repo.get_all(
        [Search([User.email], "asc0")],
        CursorPagination(limit=10, cursor=page.next_cursor),
        sort="email",
    )
    assert [u.email for u in rest.items] == [u.email for u in users[3:]]
    assert rest.next_cursor is None
    offset = await repo.get_all(
        [Search([User.email], "asc0")], OffsetPagination(limit=2, offset=4), sort="email"
    )
    assert [u.email for u in offset.items] == [u.email for u in users[4:6]]


async def test_typed_filters(session):
    users = await make_users(session, 4, tag="flt")
    repo = UserRepository(session)
    await repo.update(users[0].id, {"status": UserStatus.SUSPENDED})
    base = [Search([User.email], "flt")]
    assert await repo.count(base) == 4
    assert await repo.count([*base, Eq(User.status, UserStatus.SUSPENDED)]) == 1
    assert await repo.count([*base, In(User.id, [users[1].id, users[2].id])]) == 2
    assert await repo.count([*base, Range(User.version, minimum=2)]) == 1
    assert await repo.count([*base, IsNull(User.last_login_at)]) == 4


@pytest.mark.parametrize("needle", ["%", "_", "\\", "' OR 1=1 --", "🙂", "\x00x"[1:]])
async def test_search_treats_metacharacters_as_literals(session, needle):
    await make_users(session, 2, tag="meta")
    repo = UserRepository(session)
    expected = 2 if needle in "meta000@example.com meta001@example.com" else 0
    assert (
        await repo.count([Search([User.email], "meta"), Search([User.email], needle)]) == expected
    )


async def test_bad_cursor_and_sort_are_domain_errors(session):
    repo = UserRepository(session)
    with pytest.raises(InvalidCursor):
        await repo.get_all(pagination=CursorPagination(cursor="not-a-cursor"))
    await make_users(session, 3, tag="cur")
    page = await repo.get_all(
        [Search([User.email], "cur")], CursorPagination(limit=1), sort="email"
    )
    with pytest.raises(InvalidCursor):  # a cursor is bound to its sort order
        await repo.get_all(pagination=CursorPagination(cursor=page.next_cursor), sort="newest")
    with pytest.raises(InvalidValue):
        await repo.get_all(sort="nonsense")


async def test_protected_and_unknown_fields_are_refused(session):
    (user,) = await make_users(session, 1, tag="prot")
    repo = UserRepository(session)
    for field in ("id", "version", "deleted_at", "created_by", "no_such_field"):
        with pytest.raises(InvalidValue):
            await repo.update(user.id, {field: None})
    with pytest.raises(NotFound):
        await repo.delete(user.id.__class__(int=0))
