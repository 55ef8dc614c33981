CREATE VIEW rpt.balance_summary AS
SELECT SUM(balance_eur) AS total_eur
FROM dw.dim_account;
