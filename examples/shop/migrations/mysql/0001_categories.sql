-- Product categories: reference data owned by the migrations, never changed by the app.
-- MySQL 8.0.16+ and MariaDB 10.4+: CHECK constraints are enforced. Every
-- trigger body is a single statement, so no DELIMITER is needed anywhere.
-- Keys the app looks rows up by (slug, email, SKU, coupon code) are compared
-- byte for byte (utf8mb4_bin), as on SQLite and PostgreSQL: under the tables'
-- case-insensitive collation, 'MUG' would find 'mug', the two could not both
-- exist, and CHECK (email = lower(email)) would let 'Vera@Example.com' in.
CREATE TABLE categories (
    id   BIGINT NOT NULL AUTO_INCREMENT,
    slug VARCHAR(64) NOT NULL COLLATE utf8mb4_bin,
    name VARCHAR(200) NOT NULL,
    CONSTRAINT categories_pkey PRIMARY KEY (id),
    CONSTRAINT categories_slug_key UNIQUE (slug)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

INSERT INTO categories (slug, name) VALUES
    ('books', 'Books'),
    ('electronics', 'Electronics'),
    ('garden', 'Home & Garden'),
    ('kitchen', 'Kitchen'),
    ('toys', 'Toys & Games');
