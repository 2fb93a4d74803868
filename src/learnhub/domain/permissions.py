"""Built-in roles and the permissions each grants (stored in tables; this is the seed).

Every permission name is spelt here and only here: services import the constants
(tests/unit/test_permission_names.py fails on a permission string anywhere else in src)."""

from __future__ import annotations

ADMIN, INSTRUCTOR, STUDENT = "admin", "instructor", "student"

USERS_READ_SELF = "users:read_self"
USERS_MANAGE = "users:manage"
USERS_READ_PROFILES = "users:read_profiles"
COURSES_READ = "courses:read"
COURSES_AUTHOR = "courses:author"
COURSES_MANAGE = "courses:manage"
LEARNING_PARTICIPATE = "learning:participate"
REVIEWS_MODERATE = "reviews:moderate"
AUDIT_READ = "audit:read"

PERMISSIONS: dict[str, str] = {
    USERS_READ_SELF: "Read and export one's own account",
    USERS_MANAGE: "List, edit, suspend, delete and restore any user; set roles",
    USERS_READ_PROFILES: "Read public profiles: display name, role badges, published courses",
    COURSES_READ: "Browse the catalog",
    COURSES_AUTHOR: "Create and edit one's own courses",
    COURSES_MANAGE: "Edit, publish, archive and delete any course",
    LEARNING_PARTICIPATE: "Enrol, track progress, take quizzes, review, ask the tutor",
    REVIEWS_MODERATE: "Hide or show reviews",
    AUDIT_READ: "Read the audit trail",
}

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    STUDENT: (
        "Learner",
        frozenset({USERS_READ_SELF, USERS_READ_PROFILES, COURSES_READ, LEARNING_PARTICIPATE}),
    ),
    INSTRUCTOR: (
        "Course author",
        frozenset(
            {
                USERS_READ_SELF,
                USERS_READ_PROFILES,
                COURSES_READ,
                COURSES_AUTHOR,
                LEARNING_PARTICIPATE,
                REVIEWS_MODERATE,
            }
        ),
    ),
    ADMIN: ("Administrator", frozenset(PERMISSIONS)),
}

# What anyone may do, logged in or not (SPEC 13: the catalog and public profiles are open):
# a public permission is granted to every caller whatever their roles say, so no stored role
# can lack it (roles created before a public permission existed included).
PUBLIC_PERMISSIONS: frozenset[str] = frozenset({COURSES_READ, USERS_READ_PROFILES})

# The roles a public profile shows as badges; `admin` is never advertised.
PUBLIC_ROLES: tuple[str, ...] = (INSTRUCTOR, STUDENT)
