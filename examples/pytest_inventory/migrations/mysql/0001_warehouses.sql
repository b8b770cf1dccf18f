-- Warehouses: reference data owned by the migrations; tests never delete it.
CREATE TABLE warehouses (
    id   BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code VARCHAR(3) NOT NULL,
    name VARCHAR(100) NOT NULL,
    city VARCHAR(100) NOT NULL,
    CONSTRAINT warehouses_code_key UNIQUE (code),
    CONSTRAINT warehouses_code_len CHECK (CHAR_LENGTH(code) = 3)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

INSERT INTO warehouses (code, name, city) VALUES
    ('AMS', 'Amsterdam hub', 'Amsterdam'),
    ('BER', 'Berlin depot', 'Berlin'),
    ('LIS', 'Lisbon store', 'Lisbon');
