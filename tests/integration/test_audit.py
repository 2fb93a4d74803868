"""The audit trail (SPEC 3, pitfall 4) on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from learnhub.domain.context import acting_as
from learnhub.domain.errors import UnauditedWrite
from learnhub.domain.ids import new_id
from learnhub.models import AuditLog, User
from learnhub.repositories.audit import AuditLogRepository
from learnhub.repositories.filters import In
from learnhub.repositories.user import UserRepository
from learnhub.services.user import UserService
from tests.integration.helpers import audit_entries, register, unique_email


async def test_create_records_actor_request_and_redacts_secrets(uow, session):
    admin = await register(uow)
    with acting_as(admin.id, request_id="req-123"):
        user = await register(uow)
    (entry,) = await audit_entries(session, user.id)
    assert entry.action == "create"
    assert entry.entity_type == "user"
    assert entry.actor_id == admin.id
    assert entry.request_id == "req-123"
    assert entry.changes["email"] == [None, user.email]
    assert entry.changes["password_hash"] == [None, "[redacted]"]
    assert user.password_hash not in str(entry.changes)
    assert user.created_by == admin.id and user.updated_by == admin.id


async def test_update_records_only_changed_fields_old_and_new(uow, session):
    user = await register(uow, display_name="Old Name")
    editor = await register(uow)
    with acting_as(editor.id):
        async with uow:
            await UserService(uow).update_profile(user.id, "New Name")
            await UserService(uow).update_profile(user.id, "New Name")  # no-op: no entry
            await uow.commit()
    entries = await audit_entries(session, user.id)
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {
        "display_name": ["Old Name", "New Name"],
        "updated_by": [None, str(editor.id)],
    }
    assert entries[1].actor_id == editor.id


async def test_one_transaction_shares_one_transaction_id(uow, session):
    async with uow:
        service = UserService(uow)
        a = await service.register(unique_email(), "password-1", "A")
        b = await service.register(unique_email(), "password-2", "B")
        await uow.commit()
    c = await register(uow)
    ta = (await audit_entries(session, a.id))[0].transaction_id
    tb = (await audit_entries(session, b.id))[0].transaction_id
    tc = (await audit_entries(session, c.id))[0].transaction_id
    assert ta == tb != tc


async def test_rolled_back_work_leaves_no_audit_rows(uow, session):
    email = unique_email()
    async with uow:
        user = await UserService(uow).register(email, "password-1", "A")
        # no commit: the unit of work rolls back
    assert await audit_entries(session, user.id) == []
    assert await UserRepository(session).get_by_email(email) is None


async def test_bulk_update_through_repository_is_audited_per_row(uow, session):
    users = [await register(uow, display_name="Same") for _ in range(3)]
    async with uow:
        changed = await uow.repo(UserRepository).bulk_update(
            [In(User.id, [u.id for u in users[:2]])], {"display_name": "Renamed"}
        )
        await uow.commit()
    assert changed == 2
    for user in users[:2]:
        entries = await audit_entries(session, user.id)
        assert entries[-1].action == "update"
        assert entries[-1].changes == {"display_name": ["Same", "Renamed"]}
    assert [e.action for e in await audit_entries(session, users[2].id)] == ["create"]


@pytest.mark.parametrize(
    "statement",
    [
        lambda: update(User).where(User.display_name == "x").values(display_name="y"),
        lambda: delete(User).where(User.display_name == "x"),
        lambda: insert(User).values(email="a@b.co", display_name="x", password_hash="h"),
    ],
)
async def test_unaudited_orm_bulk_writes_are_refused(session, statement):
    with pytest.raises(UnauditedWrite):
        await session.execute(statement())


async def test_audit_log_is_append_only_in_the_database(uow, connection):
    user = await register(uow)
    for sql in (
        "UPDATE audit_log SET action = 'update' WHERE entity_id = :id",
        "DELETE FROM audit_log WHERE entity_id = :id",
    ):
        savepoint = await connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(
                text(sql),
                {"id": user.id if connection.dialect.name == "postgresql" else user.id.hex},
            )
        await savepoint.rollback()


async def test_verify_finds_writes_that_bypassed_the_audit(uow, session, connection):
    user = await register(uow)
    repo = AuditLogRepository(session)
    checked, gaps = await repo.verify()
    assert checked >= 1
    assert [g for g in gaps if g.entity_id == user.id] == []

    # A raw SQL write (what a bulk tool or a console session might do) slips past the ORM...
    await session.execute(
        text("UPDATE users SET display_name = 'Sneaky' WHERE email = :e"), {"e": user.email}
    )
    _, gaps = await repo.verify()
    assert [(g.entity_id, g.problem.split(" ")[0]) for g in gaps if g.entity_id == user.id] == [
        (user.id, "display_name")
    ]


async def test_verify_reports_rows_without_any_entry(session):
    table = User.__table__
    stray = new_id()
    # Core insert on the table (not the ORM entity) is how an unaudited row would appear.
    await session.execute(
        table.insert().values(
            id=stray,
            email=unique_email(),
            display_name="Ghost",
            password_hash="x",
            status="active",
            version=1,
        )
    )
    _, gaps = await AuditLogRepository(session).verify()
    assert [(g.entity_id, g.problem) for g in gaps if g.entity_id == stray] == [
        (stray, "no audit entry")
    ]


async def test_verify_accepts_soft_delete_restore_and_hard_delete(uow, session):
    user, other = await register(uow), await register(uow)
    async with uow:
        repo = uow.repo(UserRepository)
        await repo.delete(user.id)
        await repo.restore(user.id)
        await repo.delete(other.id)
        await uow.commit()
    async with uow:
        await uow.repo(UserRepository).hard_delete(other.id)
        await uow.commit()
    _, gaps = await AuditLogRepository(session).verify()
    assert [g for g in gaps if g.entity_id in (user.id, other.id)] == []
    rows = await session.execute(
        select(AuditLog.action)
        .where(AuditLog.entity_id == other.id)
        .order_by(AuditLog.occurred_at, AuditLog.id)
    )
    assert list(rows.scalars()) == ["create", "soft_delete", "hard_delete"]


async def test_role_membership_changes_are_audited(uow, session):
    user = await register(uow)
    async with uow:
        roles = await uow.repo(UserRepository).get(user.id)
        from learnhub.repositories.user import RoleRepository

        instructor = (await uow.repo(RoleRepository).get_by_names(["instructor"]))[0]
        roles.roles.append(instructor)
        await uow.commit()
    last = (await audit_entries(session, user.id))[-1]
    assert last.action == "update"
    old, new = last.changes["roles"]
    assert str(instructor.id) in new and str(instructor.id) not in old
