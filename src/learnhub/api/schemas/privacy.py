"""The GDPR export document: everything LearnHub holds about a user, written out as JSON
(the privacy service gathers it)."""

from __future__ import annotations

from typing import Any

from learnhub.api.schemas.learning import EnrollmentOut
from learnhub.api.schemas.reviews import ReviewOut
from learnhub.api.schemas.tutor import MessageOut
from learnhub.api.schemas.users import ActivityOut, LearnerStatsOut, UserOut
from learnhub.db.audit import audit_value
from learnhub.services.privacy import ExportBundle


def export_document(bundle: ExportBundle) -> dict[str, Any]:
    return {
        "user": UserOut.of(bundle.user).model_dump(mode="json"),
        "stats": LearnerStatsOut.model_validate(bundle.stats).model_dump(mode="json"),
        "sessions": [
            {
                "id": str(s.id),
                "created_at": audit_value(s.created_at),
                "user_agent": s.user_agent,
                "ip_address": s.ip_address,
                "expires_at": audit_value(s.expires_at),
                "revoked_at": audit_value(s.revoked_at),
            }
            for s in bundle.sessions
        ],
        # The requested password resets (never the token, of which only a hash is kept).
        "password_resets": [
            {
                "id": str(r.id),
                "created_at": audit_value(r.created_at),
                "expires_at": audit_value(r.expires_at),
                "ended_at": audit_value(r.ended_at),
                "ended_reason": r.ended_reason,
            }
            for r in bundle.password_resets
        ],
        "activity": [
            ActivityOut.model_validate(a).model_dump(mode="json") for a in bundle.activity
        ],
        "history": [
            {
                "occurred_at": audit_value(e.occurred_at),
                "action": e.action.value,
                "actor_id": audit_value(e.actor_id),
                "changes": e.changes,
            }
            for e in bundle.history
        ],
        "enrollments": [
            EnrollmentOut.model_validate(e).model_dump(mode="json") for e in bundle.enrollments
        ],
        "video_progress": [
            {
                "video_id": str(p.video_id),
                "course_id": str(p.course_id),
                "position_seconds": p.position_seconds,
                "watched_seconds": p.watched_seconds,
                "completed": p.completed,
                "completed_at": audit_value(p.completed_at),
                "updated_at": audit_value(p.updated_at),
            }
            for p in bundle.progress
        ],
        "quiz_attempts": [
            {
                "id": str(a.id),
                "quiz_id": str(a.quiz_id),
                "attempt_no": a.attempt_no,
                "state": a.state.value,
                "started_at": audit_value(a.started_at),
                "submitted_at": audit_value(a.submitted_at),
                "score": None if a.score is None else float(a.score),
                "passed": a.passed,
            }
            for a in bundle.attempts
        ],
        "reviews": [ReviewOut.of(r).model_dump(mode="json") for r in bundle.reviews],
        "tutor_conversations": [
            {
                "id": str(c.id),
                "course_id": str(c.course_id),
                "video_id": audit_value(c.video_id),
                "created_at": audit_value(c.created_at),
                "messages": [MessageOut.model_validate(m).model_dump(mode="json") for m in ms],
            }
            for c, ms in bundle.conversations
        ],
    }
