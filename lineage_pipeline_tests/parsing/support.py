"""Helpers for the parsing spec suite: parse a snippet and pick out the statements that matter."""

from lineage_pipeline.parsing import Catalog, FileLineage, StatementLineage, parse_sql

CATALOG = Catalog(
    {
        "dbo.customers": ["id", "name", "region", "balance"],
        "dbo.orders": ["id", "customer_id", "amount", "order_date"],
        "dbo.customer_summary": ["customer_id", "total", "order_count"],
        "stage.orders_raw": ["id", "customer_id", "amount", "order_date"],
    }
)


def parse(sql: str, dialect: str = "tsql", catalog: Catalog | None = None) -> FileLineage:
    return parse_sql(sql, dialect, "<test>", catalog)


def clean(sql: str, dialect: str = "tsql", catalog: Catalog | None = None) -> FileLineage:
    """Parse and insist that no statement failed."""
    result = parse(sql, dialect, catalog)
    assert not result.errors, result.errors
    return result


def last_writer(sql: str, dialect: str = "tsql", catalog: Catalog | None = None) -> StatementLineage:
    """The last statement that writes a persistent table (or, failing that, the last statement)."""
    result = clean(sql, dialect, catalog)
    writers = [s for s in result.statements if s.targets]
    return (writers or result.statements)[-1]


def edges(statement: StatementLineage) -> dict[str, tuple[list[str], str]]:
    return {edge.target: (edge.sources, edge.transform) for edge in statement.columns}
