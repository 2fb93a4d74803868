"""Built-in roles on a real database: a role stored by an earlier release (here: the student
role losing a permission, as if it had been created before the permission existed) gains the
permissions the code now gives it, in the role-permission table, once."""

from __future__ import annotations

from sqlalchemy import delete, select

from learnhub.db.uow import UnitOfWork
from learnhub.domain.permissions import BUILTIN_ROLES, STUDENT, USERS_READ_PROFILES
from learnhub.models.user import Permission, Role, role_permissions
from learnhub.services.user import RoleService


async def _student_codes(uow: UnitOfWork) -> list[str]:
    rows = await uow.session.execute(
        select(Permission.code)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .join(Role, Role.id == role_permissions.c.role_id)
        .where(Role.name == STUDENT)
    )
    return sorted(rows.scalars())


async def test_an_older_builtin_role_gains_new_permissions(uow: UnitOfWork) -> None:
    async with uow:
        await RoleService(uow).ensure_builtin_roles()
        student = (await uow.session.execute(select(Role.id).where(Role.name == STUDENT))).scalar()
        profiles = (
            await uow.session.execute(
                select(Permission.id).where(Permission.code == USERS_READ_PROFILES)
            )
        ).scalar()
        await uow.session.execute(
            delete(role_permissions).where(
                role_permissions.c.role_id == student,
                role_permissions.c.permission_id == profiles,
            )
        )
        uow.session.expunge_all()
        assert USERS_READ_PROFILES not in await _student_codes(uow)

        await RoleService(uow).ensure_builtin_roles()
        await uow.session.flush()
        await RoleService(uow).ensure_builtin_roles()  # again: nothing doubles
        await uow.session.flush()

        assert await _student_codes(uow) == sorted(BUILTIN_ROLES[STUDENT][1])
