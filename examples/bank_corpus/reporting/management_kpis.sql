-- =============================================================================
-- reporting/management_kpis.sql
-- Dialect : BigQuery
-- Purpose : Long-format KPI table for the management dashboard, built from the
--           other reporting tables (one metric per UNION ALL branch).
-- Sources : reporting.regulatory_capital, reporting.daily_balance_sheet,
--           reporting.monthly_transaction_volumes, risk.large_exposures
-- Target  : reporting.management_kpis
-- =============================================================================

CREATE OR REPLACE TABLE `reporting.management_kpis` AS
SELECT
  rc.as_of_date                     AS kpi_date,
  'CET1_RATIO'                      AS kpi_name,
  MAX(rc.cet1_ratio)                AS kpi_value
FROM `reporting.regulatory_capital` AS rc
GROUP BY rc.as_of_date

UNION ALL

SELECT
  rc.as_of_date,
  'TOTAL_RWA_EUR',
  SUM(rc.total_rwa)
FROM `reporting.regulatory_capital` AS rc
GROUP BY rc.as_of_date

UNION ALL

SELECT
  bs.balance_date,
  CASE bs.balance_sheet_side WHEN 'ASSET' THEN 'TOTAL_ASSETS_EUR' ELSE 'TOTAL_LIABILITIES_EUR' END,
  SUM(bs.balance_eur)
FROM `reporting.daily_balance_sheet` AS bs
GROUP BY bs.balance_date, bs.balance_sheet_side

UNION ALL

SELECT
  tv.month_start,
  'GROSS_TXN_VOLUME_EUR',
  SUM(tv.gross_amount_eur)
FROM `reporting.monthly_transaction_volumes` AS tv
GROUP BY tv.month_start

UNION ALL

SELECT
  le.as_of_date,
  'LARGE_EXPOSURE_BREACHES',
  CAST(COUNTIF(le.is_limit_breach) AS FLOAT64)
FROM `risk.large_exposures` AS le
GROUP BY le.as_of_date;
