-- =============================================================================
-- staging/load_stg_products.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Product catalogue with Basel asset-class mapping.
-- Sources : src_core_banking.products
-- Target  : stg.products
-- =============================================================================

TRUNCATE TABLE stg.products;

INSERT INTO stg.products (
    product_code,
    product_name,
    product_family,
    is_lending,
    basel_asset_class,
    load_ts
)
SELECT
    UPPER(LTRIM(RTRIM(p.prod_cd)))                 AS product_code,
    LTRIM(RTRIM(p.prod_nm))                        AS product_name,
    COALESCE(p.prod_family, 'OTHER')               AS product_family,
    CAST(CASE WHEN p.lending_flag = 'Y' THEN 1 ELSE 0 END AS BIT) AS is_lending,
    CASE
        WHEN p.basel_class_cd IN ('RET_MORT', 'RET_QRRE', 'RET_OTH') THEN 'RETAIL'
        WHEN p.basel_class_cd LIKE 'CORP%'                         THEN 'CORPORATE'
        WHEN p.basel_class_cd IS NULL                              THEN 'NOT_APPLICABLE'
        ELSE p.basel_class_cd
    END                                            AS basel_asset_class,
    SYSDATETIME()                                  AS load_ts
FROM src_core_banking.products AS p;
