from learnhub.models.user.role import Permission, Role, role_permissions, user_roles
from learnhub.models.user.session import UserSession
from learnhub.models.user.user import User

__all__ = ["Permission", "Role", "User", "UserSession", "role_permissions", "user_roles"]
