-- =============================================================================
-- risk/00_create_risk_reference.sql
-- Dialect : Snowflake
-- Purpose : Reference tables maintained by Credit Risk Control:
--           the internal master rating scale (grade -> PD) and the eligible
--           capital used for the large-exposure limit (CRR art. 395) and the
--           capital ratios.
-- =============================================================================

CREATE TABLE IF NOT EXISTS risk.rating_master_scale (
    rating_grade   VARCHAR(5)     NOT NULL,
    grade_order    NUMBER(3,0)    NOT NULL,
    pd_1y          NUMBER(9,6)    NOT NULL,
    is_default     BOOLEAN        NOT NULL,
    valid_from     DATE           NOT NULL
);

CREATE TABLE IF NOT EXISTS risk.eligible_capital (
    as_of_date      DATE           NOT NULL,
    cet1_capital    NUMBER(19,2)   NOT NULL,
    at1_capital     NUMBER(19,2)   NOT NULL,
    tier2_capital   NUMBER(19,2)   NOT NULL,
    loaded_at       TIMESTAMP_NTZ  NOT NULL
);

TRUNCATE TABLE risk.rating_master_scale;

INSERT INTO risk.rating_master_scale (rating_grade, grade_order, pd_1y, is_default, valid_from)
VALUES
    ('1',  1, 0.000300, FALSE, '2024-01-01'),
    ('2',  2, 0.000800, FALSE, '2024-01-01'),
    ('3',  3, 0.002000, FALSE, '2024-01-01'),
    ('4',  4, 0.006000, FALSE, '2024-01-01'),
    ('5',  5, 0.015000, FALSE, '2024-01-01'),
    ('6',  6, 0.040000, FALSE, '2024-01-01'),
    ('7',  7, 0.120000, FALSE, '2024-01-01'),
    ('8',  8, 0.300000, FALSE, '2024-01-01'),
    ('D',  9, 1.000000, TRUE,  '2024-01-01'),
    ('NR', 10, 0.050000, FALSE, '2024-01-01');

INSERT INTO risk.eligible_capital (as_of_date, cet1_capital, at1_capital, tier2_capital, loaded_at)
VALUES ('2024-12-31', 1850000000.00, 250000000.00, 400000000.00, CURRENT_TIMESTAMP());
