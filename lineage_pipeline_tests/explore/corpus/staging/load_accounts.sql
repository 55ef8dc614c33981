-- staging load: source system -> stg
INSERT INTO stg.accounts (account_id, balance)
SELECT acct_no, bal
FROM src.accounts;
