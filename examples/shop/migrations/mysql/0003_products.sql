-- Products: unique SKU, price in cents, stock that can never go negative.
CREATE TABLE products (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    sku         VARCHAR(64) NOT NULL COLLATE utf8mb4_bin,
    name        VARCHAR(200) NOT NULL,
    description VARCHAR(2000) NOT NULL DEFAULT '',
    category_id BIGINT NOT NULL,
    price_cents INTEGER NOT NULL,
    stock       INTEGER NOT NULL DEFAULT 0,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT products_pkey PRIMARY KEY (id),
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_category_fk FOREIGN KEY (category_id) REFERENCES categories (id),
    CONSTRAINT products_name_check CHECK (char_length(name) > 0),
    CONSTRAINT products_price_check CHECK (price_cents >= 0),
    CONSTRAINT products_stock_check CHECK (stock >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE INDEX products_name_idx ON products (name);
