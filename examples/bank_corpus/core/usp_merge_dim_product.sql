-- =============================================================================
-- core/usp_merge_dim_product.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Upsert of the product dimension (small, full refresh semantics).
-- Sources : stg.products
-- Target  : dw.dim_product
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_merge_dim_product
AS
BEGIN
    SET NOCOUNT ON

    MERGE dw.dim_product AS tgt
    USING (
        SELECT DISTINCT
            p.product_code,
            p.product_name,
            p.product_family,
            p.is_lending,
            p.basel_asset_class
        FROM stg.products AS p
    ) AS src
        ON tgt.product_code = src.product_code
    WHEN MATCHED THEN
        UPDATE SET
            tgt.product_name      = src.product_name,
            tgt.product_family    = src.product_family,
            tgt.is_lending        = src.is_lending,
            tgt.basel_asset_class = src.basel_asset_class,
            tgt.updated_at        = SYSDATETIME()
    WHEN NOT MATCHED BY TARGET THEN
        INSERT (product_code, product_name, product_family, is_lending, basel_asset_class, updated_at)
        VALUES (src.product_code, src.product_name, src.product_family, src.is_lending,
                src.basel_asset_class, SYSDATETIME());

    -- the 'unknown' member used by dw.dim_account for unmapped product codes
    IF NOT EXISTS (SELECT 1 FROM dw.dim_product WHERE product_code = 'N/A')
        INSERT INTO dw.dim_product (product_code, product_name, product_family, is_lending, basel_asset_class, updated_at)
        VALUES ('N/A', N'Unknown product', 'OTHER', 0, 'NOT_APPLICABLE', SYSDATETIME())
END
GO
