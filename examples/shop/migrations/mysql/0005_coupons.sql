-- Coupons: unique codes, a percentage off, an optional usage limit.
CREATE TABLE coupons (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    code        VARCHAR(64) NOT NULL COLLATE utf8mb4_bin,
    percent_off INTEGER NOT NULL,
    max_uses    INTEGER NULL,
    times_used  INTEGER NOT NULL DEFAULT 0,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT coupons_pkey PRIMARY KEY (id),
    CONSTRAINT coupons_code_key UNIQUE (code),
    CONSTRAINT coupons_percent_check CHECK (percent_off BETWEEN 1 AND 100),
    CONSTRAINT coupons_max_uses_check CHECK (max_uses IS NULL OR max_uses > 0),
    CONSTRAINT coupons_usage_check CHECK (times_used >= 0 AND (max_uses IS NULL OR times_used <= max_uses))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
