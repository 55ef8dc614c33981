-- =============================================================================
-- risk/pd_lgd_inputs.sql
-- Dialect : Snowflake
-- Purpose : Obligor-level PD / LGD inputs for the IRB RWA engine.
--           PD  from the master scale by internal rating (floor 0.03 %).
--           LGD from collateral coverage of the obligor's EAD
--               (secured share at 20 %, unsecured share at 45 %).
--           Incremental MERGE keyed on (as_of_date, customer_id).
-- Sources : dw.dim_customer, risk.rating_master_scale, risk.exposure_at_default
-- Target  : risk.pd_lgd_inputs
-- =============================================================================

CREATE TABLE IF NOT EXISTS risk.pd_lgd_inputs (
    as_of_date        DATE          NOT NULL,
    customer_id       VARCHAR(20)   NOT NULL,
    rating_grade      VARCHAR(5)    NOT NULL,
    pd                NUMBER(9,6)   NOT NULL,
    lgd               NUMBER(9,6)   NOT NULL,
    total_ead         NUMBER(19,4)  NOT NULL,
    collateral_cover  NUMBER(9,6)   NOT NULL,
    updated_at        TIMESTAMP_NTZ NOT NULL
);

MERGE INTO risk.pd_lgd_inputs AS tgt
USING (
    WITH obligor_ead AS (
        SELECT
            e.as_of_date,
            e.customer_id,
            SUM(e.ead_amount)            AS total_ead,
            SUM(e.collateral_value_eur)  AS total_collateral
        FROM risk.exposure_at_default AS e
        GROUP BY e.as_of_date, e.customer_id
    )
    SELECT
        o.as_of_date,
        o.customer_id,
        c.risk_rating                                                   AS rating_grade,
        GREATEST(ms.pd_1y, 0.0003)                                      AS pd,
        ROUND(0.20 * LEAST(o.total_collateral / NULLIF(o.total_ead, 0), 1)
            + 0.45 * (1 - LEAST(o.total_collateral / NULLIF(o.total_ead, 0), 1)), 6) AS lgd,
        o.total_ead,
        COALESCE(LEAST(o.total_collateral / NULLIF(o.total_ead, 0), 1), 0) AS collateral_cover
    FROM obligor_ead AS o
    JOIN dw.dim_customer AS c
        ON c.customer_id = o.customer_id
       AND c.is_current = 1
    LEFT JOIN risk.rating_master_scale AS ms
        ON ms.rating_grade = c.risk_rating
) AS src
    ON  tgt.as_of_date  = src.as_of_date
    AND tgt.customer_id = src.customer_id
WHEN MATCHED THEN UPDATE SET
    tgt.rating_grade     = src.rating_grade,
    tgt.pd               = src.pd,
    tgt.lgd              = COALESCE(src.lgd, 0.45),
    tgt.total_ead        = src.total_ead,
    tgt.collateral_cover = src.collateral_cover,
    tgt.updated_at       = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT
    (as_of_date, customer_id, rating_grade, pd, lgd, total_ead, collateral_cover, updated_at)
VALUES
    (src.as_of_date, src.customer_id, src.rating_grade, src.pd, COALESCE(src.lgd, 0.45),
     src.total_ead, src.collateral_cover, CURRENT_TIMESTAMP());

-- obligors in default always carry PD = 100 %
UPDATE risk.pd_lgd_inputs
SET pd = 1.0
WHERE rating_grade = 'D';
