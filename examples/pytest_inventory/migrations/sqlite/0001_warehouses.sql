-- Warehouses: reference data owned by the migrations; tests never delete it.
CREATE TABLE warehouses (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL CONSTRAINT warehouses_code_key UNIQUE CHECK (length(code) = 3),
    name TEXT NOT NULL,
    city TEXT NOT NULL
) STRICT;

INSERT INTO warehouses (code, name, city) VALUES
    ('AMS', 'Amsterdam hub', 'Amsterdam'),
    ('BER', 'Berlin depot', 'Berlin'),
    ('LIS', 'Lisbon store', 'Lisbon');
