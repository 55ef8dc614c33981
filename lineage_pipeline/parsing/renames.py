"""Writes follow a later rename in the same file: ``CREATE TABLE t_new AS ...; ALTER TABLE t_new RENAME
TO t`` writes ``t``. The rename itself stays an effect; reads before it keep the name they read.
"""

from lineage_pipeline.parsing.models import StatementLineage
from lineage_pipeline.parsing.names import is_temp


def renamed_to(old: str, new: str) -> str:
    """The full new name: ``sp_rename 's.a', 'b'`` and ``RENAME TO b`` keep the old name's schema."""
    if "." in new or "." not in old:
        return new
    return old.rsplit(".", 1)[0] + "." + new


def _rename_table(name: str, old: str, new: str) -> str:
    return new if name == old else name


def _rename_column(column: str, old: str, new: str) -> str:
    table, _, name = column.rpartition(".")
    return f"{new}.{name}" if table == old else column


def follow_renames(statements: list[StatementLineage]) -> list[StatementLineage]:
    """``statements`` with each write to a table renamed later in the file recorded under its new name."""
    renames = [
        (position, effect.table, renamed_to(effect.table, effect.detail))
        for position, statement in enumerate(statements)
        for effect in statement.effects
        if effect.kind == "rename" and effect.detail and not is_temp(effect.table)
    ]
    if not renames:
        return statements
    result = list(statements)
    for position, old, new in renames:
        for earlier in range(position):
            statement = result[earlier]
            if old not in statement.targets:
                continue
            result[earlier] = statement.model_copy(
                update={
                    "targets": list(dict.fromkeys(_rename_table(t, old, new) for t in statement.targets)),
                    "columns": [
                        edge.model_copy(update={"target": _rename_column(edge.target, old, new)})
                        for edge in statement.columns
                    ],
                    "effects": [
                        effect.model_copy(update={"table": new})
                        if effect.table == old and effect.kind == "create"
                        else effect
                        for effect in statement.effects
                    ],
                }
            )
    return result
