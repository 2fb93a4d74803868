"""The catalog's generation: one number that moves whenever anything a catalog page shows
may have changed, so a catalog page's validator (ETag) is exact without reading the page.

The database moves it, not the services: triggers on every table a catalog card reads
(courses, course_tags, tags, course_objectives, and the users columns a card shows) bump it
in the same transaction as the change (migration 0017), so no code path (an ORM flush, a
counter's atomic UPDATE, a bulk restore, a seeder) can change a listing and leave the number
behind. Not an entity: not audited, no soft delete."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from learnhub.models.base import Base, col_info

# The one row's key.
CATALOG_GENERATION_ROW = 1


class CatalogGeneration(Base):
    __tablename__ = "catalog_generation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, info=col_info())
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False, info=col_info())
