"""Soft delete cannot leak (SPEC 3, pitfalls 1-3), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from learnhub.domain.errors import Conflict, NotFound
from learnhub.models import User, UserSession
from learnhub.repositories.base import BaseRepository
from learnhub.repositories.filters import Eq
from learnhub.repositories.user import UserRepository
from tests.integration.helpers import audit_entries, register, unique_email


class SessionRepository(BaseRepository[UserSession]):
    model = UserSession


def new_session(user: User, token: str) -> UserSession:
    return UserSession(
        user_id=user.id, refresh_token_hash=token, expires_at=datetime.now(UTC) + timedelta(days=1)
    )


async def add_sessions(uow, user, *tokens):
    async with uow:
        repo = uow.repo(SessionRepository)
        created = [await repo.create(new_session(user, t)) for t in tokens]
        await uow.commit()
    return created


async def soft_delete(uow, repo_cls, entity_id):
    async with uow:
        await uow.repo(repo_cls).delete(entity_id)
        await uow.commit()


async def test_soft_deleted_row_is_invisible_to_queries_and_counts(uow, session):
    keep, gone = await register(uow), await register(uow)
    await soft_delete(uow, UserRepository, gone.id)

    repo = UserRepository(session)
    assert await repo.get_by_id(gone.id) is None
    with pytest.raises(NotFound):
        await repo.get(gone.id)
    ids = {u.id for u in (await repo.get_all(pagination=None)).items}
    assert keep.id in ids and gone.id not in ids
    assert await repo.count([Eq(User.id, gone.id)]) == 0
    # Plain ORM statements written anywhere get the same filter.
    assert (await session.execute(select(User).where(User.id == gone.id))).first() is None
    count = select(func.count()).select_from(User).where(User.id == gone.id)
    assert (await session.execute(count)).scalar_one() == 0
    # session.get() too, once the identity map does not hold the row.
    assert await session.get(User, gone.id) is None


async def test_include_deleted_is_an_explicit_opt_in(uow, session):
    user = await register(uow)
    await soft_delete(uow, UserRepository, user.id)
    repo = UserRepository(session)
    found = await repo.get_by_id(user.id, include_deleted=True)
    assert found is not None and found.deleted_at is not None
    assert await repo.count([Eq(User.id, user.id)], include_deleted=True) == 1
    stmt = select(User).where(User.id == user.id).execution_options(include_deleted=True)
    assert (await session.execute(stmt)).scalar_one().id == user.id


async def test_get_by_id_does_not_leak_from_identity_map_in_same_session(uow):
    """Pitfall 1: the row was loaded, then soft-deleted, in one session."""
    user = await register(uow)
    async with uow:
        repo = uow.repo(UserRepository)
        loaded = await repo.get(user.id)
        assert loaded.id == user.id
        await repo.delete(user.id)
        assert await repo.get_by_id(user.id) is None
        assert await uow.session.get(User, user.id) is None
        stmt = select(UserSession).options(joinedload(UserSession.user))
        assert all(
            s.user is None or s.user.id != user.id
            for s in (await uow.session.execute(stmt)).scalars()
        )


async def test_relationship_loads_skip_soft_deleted_children(uow, session):
    user = await register(uow)
    live, dead = await add_sessions(uow, user, unique_email("t1"), unique_email("t2"))
    await soft_delete(uow, SessionRepository, dead.id)

    for loader in (selectinload(User.sessions), joinedload(User.sessions)):
        session.expunge_all()
        stmt = select(User).where(User.id == user.id).options(loader)
        loaded = (await session.execute(stmt)).unique().scalar_one()
        assert [s.id for s in loaded.sessions] == [live.id]


async def test_relationship_load_of_soft_deleted_parent_is_none(uow, session):
    user = await register(uow)
    (login,) = await add_sessions(uow, user, unique_email("tok"))
    await soft_delete(uow, SessionRepository, login.id)
    # restore the session row but delete the user: many-to-one must not show a deleted user
    async with uow:
        await uow.repo(SessionRepository).restore(login.id)
        await uow.commit()
    async with uow:
        # Deleting the user cascades to its sessions; restore only the session (include_deleted
        # load) to get a live child of a deleted parent.
        await uow.repo(UserRepository).delete(user.id)
        await uow.commit()
    for loader in (selectinload(UserSession.user), joinedload(UserSession.user)):
        session.expunge_all()
        stmt = (
            select(UserSession)
            .where(UserSession.id == login.id)
            .options(loader)
            .execution_options(include_deleted=True)
        )
        loaded = (await session.execute(stmt)).unique().scalar_one()
        # include_deleted applies to the whole statement, so the parent shows as deleted
        assert loaded.user is not None and loaded.user.deleted_at is not None
        session.expunge_all()
        stmt = select(UserSession).where(UserSession.id == login.id).options(loader)
        assert (await session.execute(stmt)).unique().scalar_one_or_none() is None


async def test_any_and_has_filters_ignore_soft_deleted_rows(uow, session):
    """Pitfall 2: relationship-existence subqueries get the criteria too."""
    user = await register(uow)
    (login,) = await add_sessions(uow, user, unique_email("t"))
    stmt = select(User.id).where(User.id == user.id, User.sessions.any())
    assert (await session.execute(stmt)).scalar_one_or_none() == user.id
    await soft_delete(uow, SessionRepository, login.id)
    session.expunge_all()
    assert (await session.execute(stmt)).scalar_one_or_none() is None

    other = await register(uow)
    (their_login,) = await add_sessions(uow, other, unique_email("t"))
    has_stmt = select(UserSession.id).where(
        UserSession.id == their_login.id, UserSession.user.has(User.email == other.email)
    )
    assert (await session.execute(has_stmt)).scalar_one_or_none() == their_login.id
    async with uow:
        # a bulk update of the child alone would be refused; delete the parent (cascades)
        # then restore only the child through include_deleted to isolate has()
        await uow.repo(UserRepository).delete(other.id)
        await uow.repo(SessionRepository).restore(their_login.id)
        await uow.commit()
    session.expunge_all()
    assert (await session.execute(has_stmt)).scalar_one_or_none() is None


async def test_partial_unique_index_ignores_soft_deleted_rows(uow, session):
    email = unique_email()
    first = await register(uow, email)
    await soft_delete(uow, UserRepository, first.id)
    second = await register(uow, email)  # the deleted row does not block the address
    assert second.id != first.id
    # Restoring the old row now collides with the live one: a clear conflict.
    with pytest.raises(Conflict):
        async with uow:
            await uow.repo(UserRepository).restore(first.id)
            await uow.commit()


async def test_cascade_soft_delete_and_restore_brings_back_exactly_its_children(uow, session):
    """Pitfall 3: a child deleted earlier on its own stays deleted after the parent's restore."""
    user = await register(uow)
    early, late = await add_sessions(uow, user, unique_email("a"), unique_email("b"))
    await soft_delete(uow, SessionRepository, early.id)
    await soft_delete(uow, UserRepository, user.id)

    rows = await session.execute(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .execution_options(include_deleted=True)
    )
    by_id = {s.id: s for s in rows.scalars()}
    parent = await UserRepository(session).get(user.id, include_deleted=True)
    assert by_id[late.id].deleted_at is not None
    assert by_id[late.id].delete_batch_id == parent.delete_batch_id
    assert by_id[early.id].delete_batch_id != parent.delete_batch_id

    async with uow:
        await uow.repo(UserRepository).restore(user.id)
        await uow.commit()
    session.expunge_all()
    visible = await session.execute(select(UserSession.id).where(UserSession.user_id == user.id))
    assert set(visible.scalars()) == {late.id}
    restored = await UserRepository(session).get(user.id)
    assert restored.deleted_at is None and restored.delete_batch_id is None
    # Every row the cascade touched is audited.
    assert [e.action for e in await audit_entries(session, late.id)] == [
        "create",
        "soft_delete",
        "restore",
    ]
    assert [e.action for e in await audit_entries(session, early.id)] == ["create", "soft_delete"]


async def test_hard_delete_removes_owned_children_through_foreign_keys(uow, session):
    user = await register(uow)
    (login,) = await add_sessions(uow, user, unique_email("x"))
    async with uow:
        await uow.repo(UserRepository).hard_delete(user.id)
        await uow.commit()
    stmt = (
        select(UserSession)
        .where(UserSession.id == login.id)
        .execution_options(include_deleted=True)
    )
    assert (await session.execute(stmt)).first() is None  # ON DELETE CASCADE fired
    assert [e.action for e in await audit_entries(session, user.id)][-1] == "hard_delete"
    assert [e.action for e in await audit_entries(session, login.id)][-1] == "hard_delete"


async def test_bulk_delete_through_repository_is_filtered_and_audited(uow, session):
    user = await register(uow)
    sessions = await add_sessions(uow, user, *(unique_email(str(i)) for i in range(3)))
    await soft_delete(uow, SessionRepository, sessions[0].id)
    async with uow:
        deleted = await uow.repo(SessionRepository).bulk_delete([Eq(UserSession.user_id, user.id)])
        await uow.commit()
    assert deleted == 2  # the already-deleted one is not touched again
    for s in sessions[1:]:
        assert [e.action for e in await audit_entries(session, s.id)] == ["create", "soft_delete"]
