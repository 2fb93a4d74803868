from learnhub.models.user.reset import PasswordResetToken
from learnhub.models.user.role import Permission, Role, role_permissions, user_roles
from learnhub.models.user.session import LoginFailure, UserActivity, UserSession
from learnhub.models.user.user import User

__all__ = [
    "LoginFailure",
    "PasswordResetToken",
    "Permission",
    "Role",
    "User",
    "UserActivity",
    "UserSession",
    "role_permissions",
    "user_roles",
]
