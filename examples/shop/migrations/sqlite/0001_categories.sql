-- Product categories: reference data owned by the migrations, never changed by the app.
CREATE TABLE categories (
    id   INTEGER PRIMARY KEY,
    slug TEXT NOT NULL CONSTRAINT categories_slug_key UNIQUE,
    name TEXT NOT NULL
) STRICT;

INSERT INTO categories (slug, name) VALUES
    ('books', 'Books'),
    ('electronics', 'Electronics'),
    ('garden', 'Home & Garden'),
    ('kitchen', 'Kitchen'),
    ('toys', 'Toys & Games');
