from __future__ import annotations

from dataclasses import dataclass

from learnhub.repositories.audit import AuditGap, AuditLogRepository
from learnhub.services.base import BaseService


@dataclass(frozen=True, slots=True)
class AuditReport:
    rows_checked: int
    gaps: list[AuditGap]

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def completeness_ratio(self) -> float:
        if self.rows_checked == 0:
            return 1.0
        broken = len({(g.entity_type, g.entity_id) for g in self.gaps})
        return max(0.0, 1.0 - broken / self.rows_checked)


class AuditService(BaseService):
    async def verify(self) -> AuditReport:
        checked, gaps = await self.uow.repo(AuditLogRepository).verify()
        return AuditReport(rows_checked=checked, gaps=gaps)
