-- Customers: one account per email address, stored lower-case.
CREATE TABLE customers (
    id         INTEGER PRIMARY KEY,
    email      TEXT NOT NULL CONSTRAINT customers_email_key UNIQUE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT customers_email_check CHECK (email LIKE '%_@_%' AND email = lower(email)),
    CONSTRAINT customers_name_check CHECK (length(name) > 0)
) STRICT;
