CREATE PROCEDURE dw.usp_load_dim_account
AS
BEGIN
    INSERT INTO dw.dim_account (account_id, balance_eur)
    SELECT a.account_id, a.balance * 2
    FROM stg.accounts a;
END
