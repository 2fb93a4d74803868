"""Built-in roles and the permissions each grants (stored in tables; this is the seed)."""

from __future__ import annotations

ADMIN, INSTRUCTOR, STUDENT = "admin", "instructor", "student"

PERMISSIONS: dict[str, str] = {
    "users:read_self": "Read and export one's own account",
    "users:manage": "List, edit, suspend, delete and restore any user; set roles",
    "courses:read": "Browse the catalog",
    "courses:author": "Create and edit one's own courses",
    "courses:manage": "Edit, publish, archive and delete any course",
    "learning:participate": "Enrol, track progress, take quizzes, review, ask the tutor",
    "reviews:moderate": "Hide or show reviews",
    "audit:read": "Read the audit trail",
}

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    STUDENT: ("Learner", frozenset({"users:read_self", "courses:read", "learning:participate"})),
    INSTRUCTOR: (
        "Course author",
        frozenset(
            {
                "users:read_self",
                "courses:read",
                "courses:author",
                "learning:participate",
                "reviews:moderate",
            }
        ),
    ),
    ADMIN: ("Administrator", frozenset(PERMISSIONS)),
}
