"""Each SQL file's warehouse facts read from the graph by path, and the refresh that keeps the facts store
(``stores.warehouse_facts``) following the graph writes.

Reads are per file: a write of N files reads N files' facts, whatever the size of the graph.
"""

from collections.abc import Collection, Iterable, Iterator, Mapping
from itertools import chain

from lineage_pipeline.graph.backend import GraphBackend
from lineage_pipeline.graph.faults import DEFAULT_RETRY, RetryPolicy, retrying_read
from lineage_pipeline.graph.rows import FileGraph
from lineage_pipeline.stores.sqlite_file import batched
from lineage_pipeline.stores.warehouse_facts import FileFacts, WarehouseFacts

FACTS_CHUNK = 2000
"""Paths per graph read of a refresh: each read is one indexed lookup per path."""

# each read finds a file's relationships through the SqlFile path index or the relationships' ``file``
# index; endpoints of FEEDS/HAS_COLUMN/DERIVES stay unlabelled (a label makes FalkorDB scan the label)
FILE_WRITES = """
UNWIND $paths AS p MATCH (f:SqlFile {path: p})-[e:WRITES]->(t:Table)
RETURN p, f.dialect, t.key, t.kind, e.statements, e.lines, e.kinds
"""
FILE_READS = "UNWIND $paths AS p MATCH (f:SqlFile {path: p})-[:READS]->(t:Table) RETURN p, t.key, t.kind"
FILE_FEEDS = "UNWIND $paths AS p MATCH (a)-[e:FEEDS]->(b) WHERE e.file = p RETURN p, a.key, a.kind, b.key, b.kind"
# columns come back collected per table: decoding the reply is most of a read's time, and a row per column
# cost ~1.7x as much (2,000 files of a generated corpus: 0.75 s -> 0.43 s)
FILE_COLUMNS = "UNWIND $paths AS p MATCH (t)-[e:HAS_COLUMN]->(c) WHERE e.file = p RETURN p, t.key, t.kind, collect(c.name)"
FILE_DERIVES = """
UNWIND $paths AS p MATCH (a)-[e:DERIVES]->(b) WHERE e.file = p
RETURN p, a.table, a.name, b.table, b.name, e.transform
"""
DOMAIN_FILES = "MATCH (f:SqlFile) WHERE f.domain = $domain RETURN f.path"
VIEWS_AMONG = "UNWIND $keys AS k MATCH (t:Table {key: k}) WHERE t.kind = 'view' RETURN t.key"


class _FileReads:
    """One file's facts as the chunk's reads find them."""

    def __init__(self) -> None:
        self.dialect: str | None = None
        self.views: set[str] = set()
        self.writes: dict[str, list[tuple[int, int, str]]] = {}
        self.reads: set[str] = set()
        self.feeds: dict[str, set[str]] = {}
        self.columns: dict[str, set[str]] = {}
        self.derives: dict[str, dict[str, set[tuple[str, str, str]]]] = {}

    def touch(self, key: str, kind: str | None) -> None:
        if kind == "view":
            self.views.add(key)

    def facts(self, path: str, domain: str) -> FileFacts:
        return FileFacts(
            path=path, domain=domain, dialect=self.dialect, writes=dict(sorted(self.writes.items())),
            reads=sorted(self.reads), feeds={t: sorted(s) for t, s in sorted(self.feeds.items())},
            columns={t: sorted(c) for t, c in sorted(self.columns.items())},
            derives={t: {c: sorted(s) for c, s in sorted(by_column.items())} for t, by_column in sorted(self.derives.items())},
            views=sorted(self.views),
        )


def facts_of_rows(graph: FileGraph, domain: str) -> FileFacts:
    """The facts the rows of ``graph`` put in the store, views left out (``with_views`` adds what the graph
    says): what ``read_file_facts`` finds for the file once every row was written."""
    file = _FileReads()
    relationships = graph.relationships
    if relationships["WRITES"]:  # the dialect describes a file's writers; one that writes nothing has none
        file.dialect = graph.file.get("dialect")
    for row in relationships["WRITES"]:
        file.writes[row["dst"]] = list(zip(row["statements"], row["lines"], row["kinds"], strict=True))
    file.reads.update(row["dst"] for row in relationships["READS"])
    for row in relationships["FEEDS"]:
        file.feeds.setdefault(row["dst"], set()).add(row["src"])
    for row in relationships["HAS_COLUMN"]:
        file.columns.setdefault(row["src"], set()).add(graph.columns[row["dst"]]["name"])
    for row in relationships["DERIVES"]:
        source, target = graph.columns[row["src"]], graph.columns[row["dst"]]
        sources = file.derives.setdefault(target["table"], {}).setdefault(target["name"], set())
        sources.add((source["table"], source["name"], row.get("transform") or "unknown"))
    return file.facts(graph.path, domain)


def with_views(
    backend: GraphBackend, facts: Iterable[FileFacts], policy: RetryPolicy = DEFAULT_RETRY
) -> Iterator[FileFacts]:
    """``facts`` with the tables each touches that the graph holds as views: a table stays a view once any
    file declared it one, so a file that only reads it cannot tell from its own rows. One indexed read per
    ``FACTS_CHUNK`` files."""
    for chunk in batched(facts, FACTS_CHUNK):
        keys = sorted({key for f in chunk for key in f.tables})
        views = {row[0] for row in retrying_read(backend, VIEWS_AMONG, {"keys": keys}, policy)} if keys else set()
        yield from (f.model_copy(update={"views": sorted(f.tables & views)}) for f in chunk)


def read_file_facts(
    backend: GraphBackend, domain: str, paths: Iterable[str], policy: RetryPolicy = DEFAULT_RETRY
) -> Iterator[FileFacts]:
    """The facts of each of ``paths`` (files of ``domain``) as the graph holds them, rows it rejected
    left out; five reads per ``FACTS_CHUNK`` paths, whatever the size of the graph. A path the graph
    has nothing of gives empty facts."""
    for chunk in batched(paths, FACTS_CHUNK):
        found = {path: _FileReads() for path in chunk}

        def read(query: str, chunk: list[str] = chunk) -> list[list]:
            return retrying_read(backend, query, {"paths": chunk}, policy)

        for path, dialect, key, kind, statements, lines, kinds in read(FILE_WRITES):
            file = found[path]
            file.dialect = dialect
            file.touch(key, kind)
            file.writes[key] = list(zip(statements or [], lines or [], kinds or [], strict=True))
        for path, key, kind in read(FILE_READS):
            found[path].touch(key, kind)
            found[path].reads.add(key)
        for path, source, source_kind, target, target_kind in read(FILE_FEEDS):
            found[path].touch(source, source_kind)
            found[path].touch(target, target_kind)
            found[path].feeds.setdefault(target, set()).add(source)
        for path, key, kind, names in read(FILE_COLUMNS):
            found[path].touch(key, kind)
            found[path].columns.setdefault(key, set()).update(names)
        for path, source_table, source_column, table, column, transform in read(FILE_DERIVES):
            sources = found[path].derives.setdefault(table, {}).setdefault(column, set())
            sources.add((source_table, source_column, transform or "unknown"))
        yield from (file.facts(path, domain) for path, file in found.items())


def refresh_facts(
    store: WarehouseFacts,
    backend: GraphBackend,
    domain: str,
    written: Collection[str],
    deleted: Collection[str],
    *,
    whole: bool = False,
    retired: bool = False,
    corpus_root: str | None = None,
    policy: RetryPolicy = DEFAULT_RETRY,
    written_facts: Mapping[str, str] | None = None,
) -> int:
    """Bring the facts of ``domain`` to the graph after a write of ``written`` and ``deleted`` files; returns
    how many files' facts were read. ``whole`` (the domain's rows were not current, see
    ``WarehouseFacts.begin_write``): every file the graph holds of the domain is read instead.
    ``retired``: the domain has no file left, its rows go. ``written_facts``: path -> JSON of the facts of
    files whose every row the write stored (``facts_of_rows``), taken as they are (plus their views)
    instead of read back."""
    paths: list[str] = []
    if retired:
        replaced = store.paths(domain)
    elif whole:
        paths = sorted(row[0] for row in retrying_read(backend, DOMAIN_FILES, {"domain": domain}, policy))
        replaced = store.paths(domain) | set(paths)
    else:
        paths = sorted(written)
        replaced = {*paths, *deleted}
    claimed = store.views_of(replaced)
    views_now: set[str] = set()  # what the rows of ``paths`` say after the put (read back: ~0.1 ms a file)
    if retired:
        store.drop_domain(domain)
    else:
        known = written_facts or {}
        facts = chain(
            with_views(backend, (FileFacts.model_validate_json(known[path]) for path in paths if path in known), policy),
            read_file_facts(backend, domain, [path for path in paths if path not in known], policy),
        )
        store.put(domain, _noting_views(facts, views_now), deleted=deleted, whole=whole, corpus_root=corpus_root)
    lost = claimed - views_now
    if lost:
        # rare: a view's declaring file changed or went; the graph keeps the table a view while any file
        # touches it, and the rows of those files may have been read before it became one
        store.keep_views(row[0] for row in retrying_read(backend, VIEWS_AMONG, {"keys": sorted(lost)}, policy))
    return len(paths)


def _noting_views(facts: Iterable[FileFacts], views: set[str]) -> Iterator[FileFacts]:
    for item in facts:
        views.update(item.views)
        yield item
