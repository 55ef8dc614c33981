-- =============================================================================
-- reporting/regulatory_capital.sql
-- Dialect : BigQuery
-- Purpose : COREP-style credit-risk capital summary per exposure class:
--           EAD, RWA, expected loss, own-funds requirement (8 % of RWA) and the
--           bank-level CET1 / total capital ratios.
-- Sources : risk.credit_rwa, risk.exposure_at_default, risk.eligible_capital
-- Target  : reporting.regulatory_capital
-- =============================================================================

CREATE OR REPLACE TABLE `reporting.regulatory_capital`
PARTITION BY as_of_date
AS
WITH ead_by_class AS (
  SELECT
    e.as_of_date,
    e.exposure_class,
    COUNT(DISTINCT e.loan_id)        AS exposure_count,
    SUM(e.ead_amount)                AS total_ead,
    SUM(e.collateral_value_eur)      AS total_collateral,
    COUNTIF(e.is_defaulted)          AS defaulted_count
  FROM `risk.exposure_at_default` AS e
  GROUP BY e.as_of_date, e.exposure_class
),
rwa_by_class AS (
  SELECT
    r.as_of_date,
    r.exposure_class,
    SUM(r.rwa_amount)     AS total_rwa,
    SUM(r.expected_loss)  AS total_expected_loss
  FROM `risk.credit_rwa` AS r
  GROUP BY r.as_of_date, r.exposure_class
),
capital AS (
  SELECT
    c.as_of_date,
    c.cet1_capital,
    c.cet1_capital + c.at1_capital + c.tier2_capital AS total_own_funds
  FROM `risk.eligible_capital` AS c
)
SELECT
  e.as_of_date,
  e.exposure_class,
  e.exposure_count,
  e.defaulted_count,
  e.total_ead,
  e.total_collateral,
  r.total_rwa,
  r.total_expected_loss,
  r.total_rwa * 0.08                                                     AS own_funds_requirement,
  SAFE_DIVIDE(r.total_rwa, e.total_ead)                                  AS rwa_density,
  SAFE_DIVIDE(c.cet1_capital, SUM(r.total_rwa) OVER (PARTITION BY e.as_of_date))    AS cet1_ratio,
  SAFE_DIVIDE(c.total_own_funds, SUM(r.total_rwa) OVER (PARTITION BY e.as_of_date)) AS total_capital_ratio
FROM ead_by_class AS e
JOIN rwa_by_class AS r
  ON r.as_of_date = e.as_of_date
 AND r.exposure_class = e.exposure_class
LEFT JOIN capital AS c
  ON c.as_of_date = e.as_of_date;
