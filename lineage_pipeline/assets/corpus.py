"""``sql_corpus``: the manifest of one domain's SQL files (path, size, SHA-256, dialect)."""

from typing import Any

import dagster as dg
from pydantic import Field

from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.pipeline.ingest import ScanReport, scan_domain
from lineage_pipeline.resources import CorpusResource, LocalStoresResource

_PREVIEW_ROWS = 200


class CorpusScanConfig(dg.Config):
    """Per-run scope of the scan: the whole domain, or only the files a sensor saw change."""

    changed_paths: list[str] | None = Field(
        default=None,
        description="Corpus-relative paths to re-read (new, modified, deleted, renamed); the rest of the "
        "previous manifest is reused unless a metadata walk shows a file new, changed (stat signature) or "
        "gone. Unset = walk the whole domain, re-reading every file whose stat signature changed.",
    )
    walk: bool = Field(
        default=True,
        description="False: take the manifest `lineage ingest` saved for this ingest just before the run "
        "(it scans every domain once, then starts the runs), instead of walking the domain again.",
    )


def scan_metadata(report: ScanReport) -> dict[str, Any]:
    """The materialization metadata of a scan."""
    files = report.manifest.files
    preview = "\n".join(
        ["| path | bytes | dialect | sha256 |", "|---|---|---|---|"]
        + [f"| {e.path} | {e.size} | {e.dialect} | `{e.sha256[:12]}` |" for e in files[:_PREVIEW_ROWS]]
    )
    return {
        "files": len(files),
        "bytes": sum(entry.size for entry in files),
        "dialects": report.dialects,
        "corpus_root": report.manifest.corpus_root,
        "scan_mode": report.mode,
        "changed_paths_named": report.changed_paths_named,
        "manifest_path": dg.MetadataValue.path(str(report.manifest_path)),
        "files_table": dg.MetadataValue.md(preview),
    }


@dg.asset(
    partitions_def=domain_partitions,
    group_name="lineage",
    description="Manifest of the domain's SQL files: path, size, SHA-256 and dialect.",
)
def sql_corpus(
    context: dg.AssetExecutionContext, config: CorpusScanConfig, corpus: CorpusResource, stores: LocalStoresResource
) -> dg.MaterializeResult:
    report = scan_domain(context.partition_key, corpus.spec(), stores.manifests(), config.changed_paths, walk=config.walk)
    return dg.MaterializeResult(metadata=scan_metadata(report), data_version=dg.DataVersion(report.manifest.version))
