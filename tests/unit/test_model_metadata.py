"""Declarations every model must carry (no database needed)."""

from __future__ import annotations

from learnhub.domain.enums import PersonalData
from learnhub.models import Base, BaseModel, VersionedModel


def test_every_column_declares_what_erasure_does_to_it():
    unclassified = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if not isinstance(column.info.get("personal_data"), PersonalData)
    ]
    assert unclassified == []


def test_every_entity_has_soft_delete_and_uuid_key():
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if not issubclass(cls, BaseModel):
            continue
        columns = set(mapper.columns.keys())
        assert {
            "id",
            "created_at",
            "updated_at",
            "deleted_at",
            "deleted_by",
            "delete_batch_id",
        } <= columns, cls
        if issubclass(cls, VersionedModel):
            assert mapper.version_id_col is not None and mapper.version_id_col.name == "version"


def test_relationships_never_load_implicitly():
    for mapper in Base.registry.mappers:
        for rel in mapper.relationships:
            assert rel.lazy == "raise", f"{mapper.class_.__name__}.{rel.key}"


def test_constraint_names_follow_the_convention():
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, (table.name, constraint)
        for index in table.indexes:
            assert index.name and (index.name.startswith(("ix_", "uq_"))), index.name
