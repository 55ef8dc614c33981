"""What the asset checks share: the domains a check covers and the latest materialization's metadata.

Checks run in each ``ingest_corpus`` run for its partition (the run's ``dagster/partition`` tag); run on
their own, without a partition, they cover every domain that has a manifest. (Partitioned asset checks
are still a Dagster preview feature, hence the tag.)
"""

import dagster as dg

from lineage_pipeline.resources import LocalStoresResource

SHOWN = 20
"""Items a check lists in its metadata before ``…and N more``."""


def checked_domains(context: dg.AssetCheckExecutionContext, stores: LocalStoresResource) -> list[str]:
    """The run's partition, or every domain with a saved manifest when the check runs unpartitioned."""
    domain = context.run.tags.get("dagster/partition")
    if domain:
        return [domain]
    return stores.manifests().domains()


def latest_metadata(
    context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey, domain: str, *, this_run: bool = False
) -> dict[str, object]:
    """The metadata of the latest materialization of ``asset_key`` for partition ``domain`` ({} if none,
    or with ``this_run`` if the latest is not of the check's run)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[domain]), limit=1
    ).records
    if not records or (this_run and records[0].run_id != context.run.run_id):
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def listing(items: list[str]) -> str:
    """``a, b, c …and N more`` (at most ``SHOWN`` items), or ``none``."""
    more = f" …and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more if items else "none"
