-- Coupons: unique codes, a percentage off, an optional usage limit.
CREATE TABLE coupons (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL CONSTRAINT coupons_code_key UNIQUE,
    percent_off INTEGER NOT NULL,
    max_uses    INTEGER,
    times_used  INTEGER NOT NULL DEFAULT 0,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT coupons_percent_check CHECK (percent_off BETWEEN 1 AND 100),
    CONSTRAINT coupons_max_uses_check CHECK (max_uses IS NULL OR max_uses > 0),
    CONSTRAINT coupons_usage_check CHECK (times_used >= 0 AND (max_uses IS NULL OR times_used <= max_uses)),
    CONSTRAINT coupons_active_check CHECK (active IN (0, 1))
) STRICT;
