"""Asset check of ``parsed_sql``: the share of files with parse or read errors stays under a threshold."""

import dagster as dg
from pydantic import Field

from lineage_pipeline.assets.checks_support import checked_domains, latest_metadata
from lineage_pipeline.assets.parsed import parsed_sql
from lineage_pipeline.resources import LocalStoresResource, ParserResource


class ParseErrorRateConfig(dg.Config):
    """Per-run threshold of the parse-error-rate check."""

    max_error_rate: float | None = Field(
        default=None, ge=0, le=1, description="Highest acceptable share of files with errors (default: parser resource)."
    )


@dg.asset_check(
    asset=parsed_sql,
    description="The share of the domain's files with parse or read errors is at most max_error_rate.",
)
def parse_error_rate_below_threshold(
    context: dg.AssetCheckExecutionContext, config: ParseErrorRateConfig, stores: LocalStoresResource, parser: ParserResource
) -> dg.AssetCheckResult:
    threshold = parser.max_error_rate if config.max_error_rate is None else config.max_error_rate
    domains = checked_domains(context, stores)
    figures = {domain: latest_metadata(context, parsed_sql.key, domain) for domain in domains}
    unparsed = sorted(domain for domain, values in figures.items() if "files" not in values)
    if unparsed or not domains:
        return dg.AssetCheckResult(
            passed=False, metadata={"reason": f"parsed_sql has no materialization for: {', '.join(unparsed) or 'any domain'}"}
        )
    files = sum(int(str(values["files"])) for values in figures.values())
    failed = sum(int(str(values.get("files_with_errors", 0))) for values in figures.values())
    rate = failed / files if files else 0.0
    return dg.AssetCheckResult(
        passed=rate <= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "domains": ", ".join(domains),
            "files": files,
            "files_with_errors": failed,
            "error_rate": round(rate, 4),
            "max_error_rate": threshold,
        },
    )
