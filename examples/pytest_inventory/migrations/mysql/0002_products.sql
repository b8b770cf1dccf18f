-- Products, identified by their SKU.
CREATE TABLE products (
    id               BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sku              VARCHAR(32) NOT NULL,
    name             VARCHAR(200) NOT NULL,
    unit_price_cents INT NOT NULL,
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_price_check CHECK (unit_price_cents >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
