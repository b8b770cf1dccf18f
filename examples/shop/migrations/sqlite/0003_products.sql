-- Products: unique SKU, price in cents, stock that can never go negative.
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category_id INTEGER NOT NULL CONSTRAINT products_category_fk REFERENCES categories (id),
    price_cents INTEGER NOT NULL,
    stock       INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT products_name_check CHECK (length(name) > 0),
    CONSTRAINT products_price_check CHECK (price_cents >= 0),
    CONSTRAINT products_stock_check CHECK (stock >= 0),
    CONSTRAINT products_active_check CHECK (active IN (0, 1))
) STRICT;

CREATE INDEX products_category_idx ON products (category_id);
CREATE INDEX products_name_idx ON products (name);
