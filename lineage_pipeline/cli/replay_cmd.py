"""``lineage replay-failed``: re-apply the rows the graph store rejected, after their cause is fixed."""

import json

import click

from lineage_pipeline.cli.common import print_table, settings_or_exit


@click.command(name="replay-failed")
@click.option("--domain", help="Only entries of this domain (default: all).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def replay_failed_command(domain: str | None, output: str) -> None:
    """Re-apply the dead-lettered rows (failed_ingestion.jsonl); exits 1 if any still fail."""
    settings = settings_or_exit()
    from lineage_pipeline.graph.connect import (
        GraphStoreUnavailable,
        graph_backend,
        retry_policy_from_settings,
        store_config_from_settings,
    )
    from lineage_pipeline.graph.dead_letter import DeadLetterFile, DeadLetterFileError, dead_letter_path
    from lineage_pipeline.graph.faults import GraphStoreDown
    from lineage_pipeline.graph.file_facts import refresh_facts
    from lineage_pipeline.graph.replay import UnknownStatementError, replay_failed
    from lineage_pipeline.stores.warehouse_facts import WarehouseFacts

    dead_letters = DeadLetterFile(dead_letter_path(settings.data_dir, settings.dead_letter_path))
    retry = retry_policy_from_settings(settings)
    try:
        with graph_backend(store_config_from_settings(settings)) as backend:
            report = replay_failed(backend, dead_letters, retry, settings.orphan_policy, domain)
            replayed: dict[str, set[str]] = {}
            for entry in report.applied:
                replayed.setdefault(entry.domain, set()).update([entry.file] if entry.file else [])
            if replayed:  # the warehouse assets follow the rows that made it into the graph now
                facts = WarehouseFacts(settings.warehouse_facts_path)
                for replayed_domain, files in replayed.items():
                    current = facts.begin_write(replayed_domain)
                    refresh_facts(facts, backend, replayed_domain, files, (), whole=not current, policy=retry)
    except (GraphStoreUnavailable, GraphStoreDown, DeadLetterFileError, UnknownStatementError) as error:
        raise click.ClickException(str(error)) from None
    if output == "json":
        click.echo(json.dumps({
            "dead_letter_path": str(dead_letters.path),
            "applied": len(report.applied),
            "still_failing": [entry.model_dump() for entry in report.still_failing],
        }, indent=2))
    else:
        click.echo(f"{dead_letters.path}: {len(report.applied)} applied, {len(report.still_failing)} still failing")
        if report.still_failing:
            print_table(
                ["statement", "file", "error"],
                [[e.statement, e.file or "", e.error[:120]] for e in report.still_failing],
            )
    if report.still_failing:
        raise SystemExit(1)
