-- report queries: they only read
SELECT account_id, SUM(balance_eur) AS total
FROM dw.dim_account
GROUP BY account_id;

SELECT COUNT(*) AS accounts
FROM stg.accounts;
