"""``sql_corpus``: the manifest of one domain's SQL files (path, size, SHA-256, dialect)."""

import collections
import logging
from pathlib import Path

import dagster as dg
from pydantic import Field

from lineage_pipeline.corpus.manifest import DomainManifest, build_manifest, last_built, update_manifest
from lineage_pipeline.partitions import domain_partitions
from lineage_pipeline.resources import CorpusResource, LocalStoresResource

log = logging.getLogger(__name__)


class CorpusScanConfig(dg.Config):
    """Per-run scope of the scan: the whole domain, or only the files a sensor saw change."""

    changed_paths: list[str] | None = Field(
        default=None,
        description="Corpus-relative paths to re-read (new, modified, deleted, renamed); the rest of the "
        "previous manifest is reused unless a metadata walk shows a file new, changed (stat signature) or "
        "gone. Unset = walk the whole domain, re-reading every file whose stat signature changed.",
    )


def _scan(
    domain: str, config: CorpusScanConfig, corpus: CorpusResource, stores: LocalStoresResource
) -> tuple[DomainManifest, str]:
    """The domain's manifest and how it was obtained (``full`` or ``incremental``)."""
    previous, why_not, reuse = None, "no previous manifest", None
    try:
        previous = stores.load_manifest(domain)
    except FileNotFoundError:
        # never saved: another domain's catalog pass in this process may have scanned it already
        reuse = last_built(corpus.root_path, domain)
    except ValueError as error:  # unreadable: the scan re-reads every file, as if it had none
        log.warning("ignoring the unreadable previous manifest of domain %r: %s", domain, error)
        why_not = "previous manifest unreadable"
    if config.changed_paths is None or previous is None or Path(previous.corpus_root) != corpus.root_path:
        manifest = build_manifest(
            corpus.root_path, domain, corpus.extensions, corpus.folder_dialects, corpus.default_dialect, previous or reuse
        )
        if config.changed_paths is None:
            return manifest, "full"
        return manifest, f"full ({why_not})" if previous is None else "full (corpus root changed)"
    manifest = update_manifest(
        previous, corpus.root_path, config.changed_paths, corpus.extensions, corpus.folder_dialects, corpus.default_dialect
    )
    return manifest, "incremental"


@dg.asset(
    partitions_def=domain_partitions,
    group_name="lineage",
    description="Manifest of the domain's SQL files: path, size, SHA-256 and dialect.",
)
def sql_corpus(
    context: dg.AssetExecutionContext, config: CorpusScanConfig, corpus: CorpusResource, stores: LocalStoresResource
) -> dg.MaterializeResult:
    manifest, mode = _scan(context.partition_key, config, corpus, stores)
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
            "scan_mode": mode,
            "changed_paths_named": len(set(config.changed_paths or [])),
            "manifest_path": dg.MetadataValue.path(str(location)),
            "files_table": dg.MetadataValue.md(preview),
        },
        data_version=dg.DataVersion(manifest.version),
    )
