-- =============================================================================
-- reporting/bcbs239_large_exposures.sql
-- Dialect : BigQuery
-- Purpose : Large-exposure report (COREP LE1/LE2 feed) with a traceable
--           breakdown down to the individual obligors of each group, as
--           required for BCBS 239 data-lineage attestations.
-- Sources : risk.large_exposures, risk.exposure_at_default, dw.dim_customer
-- Targets : reporting.bcbs239_large_exposures (view),
--           reporting.bcbs239_large_exposure_obligors (view)
-- =============================================================================

CREATE OR REPLACE VIEW `reporting.bcbs239_large_exposures` AS
SELECT
  le.as_of_date,
  le.exposure_rank,
  le.connected_group_id,
  le.lead_obligor_name,
  le.country_code,
  le.obligor_count,
  le.gross_exposure_eur,
  le.net_exposure_eur,
  le.tier1_capital,
  ROUND(le.pct_of_tier1 * 100, 2) AS pct_of_tier1,
  CASE
    WHEN le.is_limit_breach   THEN 'BREACH'
    WHEN le.is_large_exposure THEN 'LARGE_EXPOSURE'
    ELSE 'TOP20_ONLY'
  END AS reporting_status
FROM `risk.large_exposures` AS le;

CREATE OR REPLACE VIEW `reporting.bcbs239_large_exposure_obligors` AS
SELECT
  le.as_of_date,
  le.connected_group_id,
  c.customer_id,
  c.full_name,
  c.segment,
  SUM(e.ead_amount)             AS ead_amount,
  SUM(e.ead_net_of_collateral)  AS net_exposure_eur
FROM `risk.large_exposures` AS le
JOIN `risk.exposure_at_default` AS e
  ON e.connected_group_id = le.connected_group_id
 AND e.as_of_date = le.as_of_date
JOIN `dw.dim_customer` AS c
  ON c.customer_id = e.customer_id
 AND c.is_current = TRUE
WHERE le.is_large_exposure
GROUP BY le.as_of_date, le.connected_group_id, c.customer_id, c.full_name, c.segment;
