-- credentials: the pepper check. One row holding HMAC-SHA-256(pepper, a fixed label), written
-- by the first start; every later start compares its own pepper's value with it and stops,
-- naming AGENTIDP_SECRET_PEPPER, when they differ (with another pepper no secret verifies).
CREATE TABLE IF NOT EXISTS credentials_pepper_check (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    check_value TEXT NOT NULL
);
