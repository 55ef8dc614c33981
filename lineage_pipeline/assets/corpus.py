"""``sql_corpus``: the manifest of one domain's SQL files (path, size, SHA-256, dialect)."""

import collections

import dagster as dg

from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.resources import CorpusResource, LocalStoresResource


@dg.asset(
    partitions_def=domain_partitions,
    group_name="lineage",
    description="Manifest of the domain's SQL files: path, size, SHA-256 and dialect.",
)
def sql_corpus(
    context: dg.AssetExecutionContext, corpus: CorpusResource, stores: LocalStoresResource
) -> dg.MaterializeResult:
    manifest = corpus.scan(context.partition_key)
    location = stores.save_manifest(manifest)
    dialects = collections.Counter(entry.dialect for entry in manifest.files)
    preview = "\n".join(
        ["| path | bytes | dialect | sha256 |", "|---|---|---|---|"]
        + [f"| {e.path} | {e.size} | {e.dialect} | `{e.sha256[:12]}` |" for e in manifest.files[:200]]
    )
    return dg.MaterializeResult(
        metadata={
            "files": len(manifest.files),
            "bytes": sum(entry.size for entry in manifest.files),
            "dialects": dict(dialects),
            "corpus_root": manifest.corpus_root,
            "manifest_path": dg.MetadataValue.path(str(location)),
            "files_table": dg.MetadataValue.md(preview),
        },
        data_version=dg.DataVersion(manifest.version),
    )

