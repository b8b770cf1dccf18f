-- Customers: one account per email address, stored lower-case.
CREATE TABLE customers (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    email      VARCHAR(254) NOT NULL COLLATE utf8mb4_bin,
    name       VARCHAR(200) NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT customers_pkey PRIMARY KEY (id),
    CONSTRAINT customers_email_key UNIQUE (email),
    CONSTRAINT customers_email_check CHECK (email LIKE '%_@_%' AND email = lower(email)),
    CONSTRAINT customers_name_check CHECK (char_length(name) > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
