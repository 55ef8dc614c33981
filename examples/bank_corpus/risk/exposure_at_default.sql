-- =============================================================================
-- risk/exposure_at_default.sql
-- Dialect : Snowflake
-- Purpose : Exposure at default (EAD) per loan for the latest snapshot.
--           EAD = drawn + CCF * undrawn   (CRR art. 166 / 111, simplified)
--           Only the most recent snapshot per loan is kept (QUALIFY).
-- Sources : dw.fact_loan_exposure, dw.dim_account, dw.dim_customer,
--           dw.dim_product, dw.dim_date   (replicated from SQL Server)
-- Target  : risk.exposure_at_default
-- =============================================================================

CREATE OR REPLACE TABLE risk.exposure_at_default AS
WITH loan_snapshot AS (
    SELECT
        d.calendar_date            AS as_of_date,
        f.loan_id,
        f.account_key,
        f.customer_key,
        f.drawn_amount_eur,
        f.undrawn_amount_eur,
        f.collateral_value_eur,
        f.ccf,
        f.days_past_due,
        f.ifrs9_stage
    FROM dw.fact_loan_exposure AS f
    JOIN dw.dim_date AS d
        ON d.date_key = f.date_key
    QUALIFY ROW_NUMBER() OVER (PARTITION BY f.loan_id ORDER BY d.calendar_date DESC) = 1
),
enriched AS (
    SELECT
        s.as_of_date,
        s.loan_id,
        a.account_id,
        a.account_number,
        c.customer_id,
        c.connected_group_id,
        p.basel_asset_class                                   AS exposure_class,
        s.drawn_amount_eur,
        s.undrawn_amount_eur,
        s.ccf,
        s.collateral_value_eur,
        s.days_past_due,
        s.ifrs9_stage
    FROM loan_snapshot AS s
    JOIN dw.dim_account AS a
        ON a.account_key = s.account_key
    JOIN dw.dim_customer AS c
        ON c.customer_key = s.customer_key
    JOIN dw.dim_product AS p
        ON p.product_key = a.product_key
    WHERE a.status <> 'CLOSED'
)
SELECT
    e.as_of_date,
    e.loan_id,
    e.account_id,
    e.account_number,
    e.customer_id,
    e.connected_group_id,
    e.exposure_class,
    e.drawn_amount_eur,
    e.undrawn_amount_eur,
    e.ccf,
    e.drawn_amount_eur + e.ccf * e.undrawn_amount_eur                       AS ead_amount,
    e.collateral_value_eur,
    GREATEST(e.drawn_amount_eur + e.ccf * e.undrawn_amount_eur
             - e.collateral_value_eur, 0)                                   AS ead_net_of_collateral,
    IFF(e.days_past_due > 90 OR e.ifrs9_stage = 3, TRUE, FALSE)             AS is_defaulted,
    CURRENT_TIMESTAMP()                                                     AS calculated_at
FROM enriched AS e;

ALTER TABLE risk.exposure_at_default CLUSTER BY (as_of_date, exposure_class);
