CREATE TABLE stg.accounts (
    account_id INT NOT NULL,
    balance DECIMAL(18, 2)
);
