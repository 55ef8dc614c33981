-- =============================================================================
-- core/usp_merge_dim_account.sql
-- Dialect : T-SQL (SQL Server 2019)
-- Purpose : Upsert of the account dimension. Resolves the customer and product
--           surrogate keys and the branch name.
--           Must run after dw.usp_merge_dim_customer and dw.usp_merge_dim_product.
-- Sources : stg.accounts, stg.branches, dw.dim_customer, dw.dim_product
-- Target  : dw.dim_account
-- =============================================================================

CREATE OR ALTER PROCEDURE dw.usp_merge_dim_account
AS
BEGIN
    SET NOCOUNT ON;

    DECLARE @unknown_product_key INT;

    SELECT @unknown_product_key = product_key
    FROM dw.dim_product
    WHERE product_code = 'N/A';

    -- orphan accounts (customer not yet in the dimension) are parked for the DQ report
    SELECT a.account_id, a.customer_id
    INTO #orphan_accounts
    FROM [stg].[accounts] AS a
    LEFT JOIN dw.dim_customer AS c
        ON c.customer_id = a.customer_id
       AND c.is_current = 1
    WHERE c.customer_key IS NULL;

    BEGIN TRY
        BEGIN TRAN;

        MERGE [dw].[dim_account] AS tgt
        USING (
            SELECT
                a.account_id,
                a.account_number,
                c.customer_key,
                COALESCE(p.product_key, @unknown_product_key) AS product_key,
                a.branch_code,
                b.branch_name,
                a.currency_code,
                a.open_date,
                a.close_date,
                a.status
            FROM [stg].[accounts] AS a
            INNER JOIN dw.dim_customer AS c
                ON c.customer_id = a.customer_id
               AND c.is_current = 1
            LEFT JOIN dw.dim_product AS p
                ON p.product_code = a.product_code
            LEFT JOIN stg.branches AS b
                ON b.branch_code = a.branch_code
        ) AS src
            ON tgt.account_id = src.account_id
        WHEN MATCHED THEN
            UPDATE SET
                tgt.account_number = src.account_number,
                tgt.customer_key   = src.customer_key,
                tgt.product_key    = src.product_key,
                tgt.branch_code    = src.branch_code,
                tgt.branch_name    = src.branch_name,
                tgt.currency_code  = src.currency_code,
                tgt.open_date      = src.open_date,
                tgt.close_date     = src.close_date,
                tgt.status         = src.status,
                tgt.updated_at     = SYSDATETIME()
        WHEN NOT MATCHED BY TARGET THEN
            INSERT (account_id, account_number, customer_key, product_key, branch_code,
                    branch_name, currency_code, open_date, close_date, status, updated_at)
            VALUES (src.account_id, src.account_number, src.customer_key, src.product_key,
                    src.branch_code, src.branch_name, src.currency_code, src.open_date,
                    src.close_date, src.status, SYSDATETIME());

        COMMIT TRAN;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRAN;
        DECLARE @msg NVARCHAR(4000) = ERROR_MESSAGE();
        RAISERROR (@msg, 16, 1);
        RETURN;
    END CATCH

    IF EXISTS (SELECT 1 FROM #orphan_accounts)
        PRINT 'WARNING: accounts without a current customer were skipped'
END
GO
