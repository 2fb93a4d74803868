"""UserService and RoleService against in-memory fakes (SPEC 4: services are unit-tested
against fake repositories; the request or command boundary commits, never a service)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import (
    ConcurrencyConflict,
    Conflict,
    InvalidValue,
    NotFound,
    PermissionDenied,
)
from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES, INSTRUCTOR, PERMISSIONS, STUDENT
from learnhub.domain.principal import Principal
from learnhub.events.events import UserRegistered
from learnhub.models.user import Permission, Role, User
from learnhub.services.passwords import verify_password
from learnhub.services.privacy import PrivacyService
from learnhub.services.user import (
    AccountService,
    RoleService,
    UserAdminService,
    UserChanges,
    UserService,
)
from tests.unit.fakes import FakeUnitOfWork

PASSWORD = "correct horse battery staple"


@pytest.fixture
def uow() -> Iterator[FakeUnitOfWork]:
    uow = FakeUnitOfWork()
    yield uow
    # Whatever the test did, success or failure: services never commit on their own.
    assert uow.committed is False


@pytest.fixture
async def seeded(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """A unit of work whose fake tables hold the built-in roles and permissions."""
    await RoleService(uow).ensure_builtin_roles()
    assert uow.users.create_calls == 0
    assert uow.events == []
    return uow


async def register(uow: FakeUnitOfWork, email: str = "alice@example.com", **kwargs: object) -> User:
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("display_name", "Alice")
    return await UserService(uow).register(email, **kwargs)  # type: ignore[arg-type]


def assert_nothing_written(uow: FakeUnitOfWork) -> None:
    assert uow.users.create_calls == 0
    assert uow.users.created == []
    assert uow.users.rows == {}
    assert uow.events == []


# ---- register ----------------------------------------------------------------------------


class TestRegister:
    async def test_creates_user_with_normalised_email_and_name(
        self, seeded: FakeUnitOfWork
    ) -> None:
        user = await register(seeded, "  Alice.Smith@Example.COM ", display_name="  Alice  ")

        assert user.email == "alice.smith@example.com"
        assert user.display_name == "Alice"
        assert isinstance(user.id, uuid.UUID)
        assert seeded.users.created == [user]
        assert await seeded.users.get_by_email("alice.smith@example.com") is user
        assert await UserService(seeded).get(user.id) is user

    async def test_password_is_stored_as_an_argon2_hash(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded, password=PASSWORD)

        assert user.password_hash != PASSWORD
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, PASSWORD)
        assert not verify_password(user.password_hash, PASSWORD + "!")
        assert not verify_password(user.password_hash, PASSWORD.upper())

    async def test_same_password_gets_different_salted_hashes(self, seeded: FakeUnitOfWork) -> None:
        first = await register(seeded, "one@example.com", password=PASSWORD)
        second = await register(seeded, "two@example.com", password=PASSWORD)
        assert first.password_hash != second.password_hash

    async def test_default_role_is_student(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded)

        assert [r.name for r in user.roles] == [STUDENT]
        (student,) = await seeded.roles.get_by_names([STUDENT])
        assert user.roles[0] is student  # the stored role, not a new one
        assert len(seeded.roles.created) == len(BUILTIN_ROLES)

    async def test_empty_role_list_means_student(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded, roles=[])
        assert [r.name for r in user.roles] == [STUDENT]

    async def test_explicit_roles(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded, roles=[INSTRUCTOR, STUDENT])
        assert sorted(r.name for r in user.roles) == [INSTRUCTOR, STUDENT]

    async def test_records_exactly_one_user_registered_event(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded, "Alice@Example.com")

        assert len(seeded.events) == 1
        (event,) = seeded.events
        assert isinstance(event, UserRegistered)
        assert event.user_id == user.id
        assert event.aggregate_id == user.id
        assert event.email == "alice@example.com"
        payload = event.payload()
        assert PASSWORD not in str(payload)
        assert user.password_hash not in str(payload)

    async def test_two_registrations_record_one_event_each(self, seeded: FakeUnitOfWork) -> None:
        first = await register(seeded, "one@example.com")
        second = await register(seeded, "two@example.com")
        assert [(type(e), e.user_id) for e in seeded.events] == [  # type: ignore[attr-defined]
            (UserRegistered, first.id),
            (UserRegistered, second.id),
        ]

    @pytest.mark.parametrize(
        "again", ["alice@example.com", "ALICE@EXAMPLE.COM", "  Alice@Example.Com\t"]
    )
    async def test_duplicate_email_is_a_conflict_whatever_the_case(
        self, seeded: FakeUnitOfWork, again: str
    ) -> None:
        first = await register(seeded, "Alice@example.com")

        with pytest.raises(Conflict) as info:
            await register(seeded, again, display_name="Someone Else")

        assert not isinstance(info.value, ConcurrencyConflict)
        # Refused by the service's own check, before any write was attempted.
        assert seeded.users.create_calls == 1
        assert seeded.users.created == [first]
        assert list(seeded.users.rows.values()) == [first]
        assert len(seeded.events) == 1

    async def test_unknown_role_is_invalid(self, seeded: FakeUnitOfWork) -> None:
        with pytest.raises(InvalidValue) as info:
            await register(seeded, roles=[STUDENT, "wizard"])

        assert "wizard" in info.value.message
        assert_nothing_written(seeded)

    async def test_roles_must_exist_in_the_store(self, uow: FakeUnitOfWork) -> None:
        # Nothing seeded: even the default role is unknown.
        with pytest.raises(InvalidValue):
            await register(uow)
        assert_nothing_written(uow)

    @pytest.mark.parametrize("password", ["", "short", "1234567", " " * 7])
    async def test_too_short_password_is_invalid(
        self, seeded: FakeUnitOfWork, password: str
    ) -> None:
        with pytest.raises(InvalidValue):
            await register(seeded, password=password)
        assert_nothing_written(seeded)

    async def test_too_long_password_is_invalid(self, seeded: FakeUnitOfWork) -> None:
        with pytest.raises(InvalidValue):
            await register(seeded, password="x" * 257)
        assert_nothing_written(seeded)

    @pytest.mark.parametrize("password", ["12345678", "y" * 256])
    async def test_password_length_bounds_are_inclusive(
        self, seeded: FakeUnitOfWork, password: str
    ) -> None:
        user = await register(seeded, password=password)
        assert verify_password(user.password_hash, password)

    @pytest.mark.parametrize("name", ["", " ", "   ", "\t\n"])
    async def test_blank_display_name_is_invalid(self, seeded: FakeUnitOfWork, name: str) -> None:
        with pytest.raises(InvalidValue):
            await register(seeded, display_name=name)
        assert_nothing_written(seeded)

    async def test_display_name_length_bounds(self, seeded: FakeUnitOfWork) -> None:
        with pytest.raises(InvalidValue):
            await register(seeded, "long@example.com", display_name="n" * 101)
        assert_nothing_written(seeded)
        user = await register(seeded, "max@example.com", display_name=" " + "n" * 100 + " ")
        assert user.display_name == "n" * 100

    @pytest.mark.parametrize("email", ["", "alice", "alice@", "a b@example.com", "a@@example.com"])
    async def test_malformed_email_is_invalid(self, seeded: FakeUnitOfWork, email: str) -> None:
        with pytest.raises(InvalidValue):
            await register(seeded, email)
        assert_nothing_written(seeded)

    async def test_register_never_commits(self, seeded: FakeUnitOfWork) -> None:
        await register(seeded)
        assert seeded.committed is False
        assert seeded.rolled_back is False


# ---- get / update_profile ----------------------------------------------------------------


class TestProfile:
    async def test_get_unknown_user_is_not_found(self, seeded: FakeUnitOfWork) -> None:
        with pytest.raises(NotFound):
            await UserService(seeded).get(uuid.uuid4())

    async def test_update_profile_with_current_version(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded)
        assert user.version == 1

        updated = await UserService(seeded).update_profile(
            user.id, "  Alice Smith ", expected_version=1
        )

        assert updated is user
        assert updated.display_name == "Alice Smith"
        assert updated.version == 2
        assert seeded.users.updated == [(user.id, {"display_name": "Alice Smith"})]

    async def test_update_profile_with_stale_version_is_a_conflict(
        self, seeded: FakeUnitOfWork
    ) -> None:
        user = await register(seeded)
        service = UserService(seeded)
        await service.update_profile(user.id, "Alice v2", expected_version=1)

        with pytest.raises(ConcurrencyConflict) as info:
            await service.update_profile(user.id, "Alice from a stale form", expected_version=1)

        assert info.value.details["expected_version"] == 1
        assert info.value.details["current_version"] == 2
        assert user.display_name == "Alice v2"
        assert user.version == 2

    async def test_update_profile_without_version_is_last_write_wins(
        self, seeded: FakeUnitOfWork
    ) -> None:
        user = await register(seeded)
        await UserService(seeded).update_profile(user.id, "Alice v2")
        assert user.display_name == "Alice v2"

    @pytest.mark.parametrize("name", ["", "   ", "n" * 101])
    async def test_update_profile_validates_the_name(
        self, seeded: FakeUnitOfWork, name: str
    ) -> None:
        user = await register(seeded)
        with pytest.raises(InvalidValue):
            await UserService(seeded).update_profile(user.id, name, expected_version=1)
        assert user.display_name == "Alice"
        assert user.version == 1
        assert seeded.users.updated == []

    async def test_update_profile_of_unknown_user_is_not_found(
        self, seeded: FakeUnitOfWork
    ) -> None:
        with pytest.raises(NotFound):
            await UserService(seeded).update_profile(uuid.uuid4(), "Nobody")


# ---- built-in roles ----------------------------------------------------------------------


class TestEnsureBuiltinRoles:
    async def test_creates_every_permission_and_role(self, uow: FakeUnitOfWork) -> None:
        roles = await RoleService(uow).ensure_builtin_roles()

        permissions = {p.code: p for p in uow.permissions.live()}
        assert set(permissions) == set(PERMISSIONS)
        assert {code: p.description for code, p in permissions.items()} == PERMISSIONS
        assert all(isinstance(p, Permission) for p in permissions.values())

        assert sorted(r.name for r in roles) == sorted(BUILTIN_ROLES)
        assert {r.id for r in roles} == {r.id for r in uow.roles.live()}
        for role in roles:
            assert isinstance(role, Role)
            description, codes = BUILTIN_ROLES[role.name]
            assert role.description == description
            assert {p.code for p in role.permissions} == codes
            # Linked to the stored permission rows, not to copies.
            assert all(p is permissions[p.code] for p in role.permissions)
        admin = next(r for r in roles if r.name == ADMIN)
        assert {p.code for p in admin.permissions} == set(PERMISSIONS)
        assert uow.events == []

    async def test_is_idempotent(self, uow: FakeUnitOfWork) -> None:
        service = RoleService(uow)
        first = await service.ensure_builtin_roles()
        created_roles = list(uow.roles.created)
        created_permissions = list(uow.permissions.created)

        second = await service.ensure_builtin_roles()

        assert uow.roles.created == created_roles  # nothing new
        assert uow.permissions.created == created_permissions
        assert len(uow.roles.live()) == len(BUILTIN_ROLES)
        assert len(uow.permissions.live()) == len(PERMISSIONS)
        assert {r.id for r in second} == {r.id for r in first}
        assert uow.roles.updated == []
        assert uow.permissions.updated == []

    async def test_only_missing_entries_are_created(self, uow: FakeUnitOfWork) -> None:
        existing_permission = await uow.permissions.create(
            Permission(code="courses:read", description="Browse the catalog")
        )
        existing_role = await uow.roles.create(
            Role(name=STUDENT, description="Learner", permissions=[existing_permission])
        )

        roles = await RoleService(uow).ensure_builtin_roles()

        assert len(uow.permissions.created) == len(PERMISSIONS)
        assert len(uow.roles.created) == len(BUILTIN_ROLES)
        assert existing_role in roles
        codes = [p.code for p in uow.permissions.live()]
        assert sorted(codes) == sorted(PERMISSIONS)  # no duplicate "courses:read"
        instructor = next(r for r in roles if r.name == INSTRUCTOR)
        assert existing_permission in instructor.permissions
        # The role stored before gains the built-in permissions it lacked, once.
        assert {p.code for p in existing_role.permissions} == BUILTIN_ROLES[STUDENT][1]
        assert existing_role.permissions.count(existing_permission) == 1

    async def test_never_commits(self, uow: FakeUnitOfWork) -> None:
        await RoleService(uow).ensure_builtin_roles()
        await RoleService(uow).ensure_builtin_roles()
        assert uow.committed is False


# ---- authorization: the services check, from the principal they are made for --------------


def principal_of(*roles: str) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        session_id=None,
        roles=frozenset(roles),
        permissions=frozenset(p for r in roles for p in BUILTIN_ROLES[r][1]),
    )


class TestAuthorization:
    @pytest.mark.parametrize("role", [STUDENT, INSTRUCTOR])
    def test_only_administrators_get_the_admin_service(
        self, uow: FakeUnitOfWork, role: str
    ) -> None:
        with pytest.raises(PermissionDenied):
            UserAdminService(uow, principal_of(role))
        assert UserAdminService(uow, principal_of(ADMIN)).admin.roles == {ADMIN}

    @pytest.mark.parametrize("service", [AccountService, PrivacyService])
    def test_own_account_services_need_read_self(
        self, uow: FakeUnitOfWork, service: type[AccountService] | type[PrivacyService]
    ) -> None:
        with pytest.raises(PermissionDenied):
            service(uow, principal_of())  # no role left: no permission at all
        assert service(uow, principal_of(STUDENT)).owner.roles == {STUDENT}

    async def test_the_owner_cannot_change_their_own_status(self, seeded: FakeUnitOfWork) -> None:
        user = await register(seeded)
        owner = Principal(user.id, None, frozenset({STUDENT}), BUILTIN_ROLES[STUDENT][1])
        with pytest.raises(InvalidValue):
            await AccountService(seeded, owner).update(UserChanges(status=UserStatus.SUSPENDED), 1)
        assert seeded.users.updated == []
