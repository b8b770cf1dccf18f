-- Product categories: reference data owned by the migrations, never changed by the app.
-- MySQL 8.0.16+ and MariaDB 10.4+: CHECK constraints are enforced. Every
-- trigger body is a single statement, so no DELIMITER is needed anywhere.
CREATE TABLE categories (
    id   BIGINT NOT NULL AUTO_INCREMENT,
    slug VARCHAR(64) NOT NULL,
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
