-- orgs: organizations (module orgs); see the PostgreSQL migration of the same version.
CREATE TABLE IF NOT EXISTS orgs (
    org_id            TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    name_lower        TEXT    NOT NULL UNIQUE,
    status            TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    max_agents        INTEGER NULL CHECK (max_agents >= 0),
    metadata          TEXT    NOT NULL DEFAULT '{}',
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    tokens_not_before TEXT    NULL
);

CREATE INDEX IF NOT EXISTS orgs_created_idx ON orgs (created_at DESC, org_id DESC);
CREATE INDEX IF NOT EXISTS orgs_updated_idx ON orgs (updated_at);
