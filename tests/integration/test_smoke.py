from learnhub.models import User
from learnhub.repositories.user import UserRepository
from tests.integration.helpers import audit_entries, register


async def test_register_writes_user_and_audit(uow, session):
    user = await register(uow)
    loaded = await UserRepository(session).get_by_id(user.id)
    assert isinstance(loaded, User)
    entries = await audit_entries(session, user.id)
    assert [e.action for e in entries] == ["create"]
    assert entries[0].changes["password_hash"] == [None, "[redacted]"]
