-- =============================================================================
-- staging/load_stg_fx_rates.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Load ECB-style reference rates. The vendor quotes units of foreign
--           currency per 1 EUR; the warehouse stores the inverse (EUR per unit)
--           so that amount_eur = amount * rate. EUR itself is added with 1.0.
-- Sources : src_market.fx_rates
-- Target  : stg.fx_rates
-- =============================================================================

TRUNCATE TABLE stg.fx_rates;

INSERT INTO stg.fx_rates (rate_date, currency_code, rate, load_ts)
SELECT
    r.quote_date                                   AS rate_date,
    UPPER(r.quote_ccy)                             AS currency_code,
    CAST(1.0 / r.mid_rate AS DECIMAL(19,10))       AS rate,
    SYSDATETIME()                                  AS load_ts
FROM src_market.fx_rates AS r
WHERE r.base_ccy = 'EUR'
  AND r.mid_rate > 0
  AND r.source_cd = 'ECB';

-- EUR -> EUR identity rate for every quote date
INSERT INTO stg.fx_rates (rate_date, currency_code, rate, load_ts)
SELECT DISTINCT
    r.quote_date   AS rate_date,
    'EUR'          AS currency_code,
    1.0            AS rate,
    SYSDATETIME()  AS load_ts
FROM src_market.fx_rates AS r
WHERE r.base_ccy = 'EUR';
