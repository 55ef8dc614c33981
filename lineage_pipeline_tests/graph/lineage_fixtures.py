"""Hand-built parse results for graph tests, so graph behaviour is specified without the parser."""

from lineage_pipeline.parsing.models import ColumnEdge, FileLineage, StatementLineage


def insert_select(path: str, source: str, target: str, columns: dict[str, list[str]], kind: str = "table") -> FileLineage:
    """A file with one statement ``target <- source`` and column edges ``target.col <- [source.col...]``."""
    edges = [
        ColumnEdge(target=f"{target}.{col}", sources=[f"{source}.{s}" for s in srcs], transform="direct")
        for col, srcs in columns.items()
    ]
    statement = StatementLineage(
        index=0, kind="INSERT", sources=[source], targets=[target], columns=edges, target_kind=kind
    )
    return FileLineage(path=path, dialect="tsql", statements=[statement])
