-- metering: usage rows carry their agent's organization; see the PostgreSQL migration of the
-- same version.
ALTER TABLE usage_counters ADD COLUMN org_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';
ALTER TABLE usage_daily ADD COLUMN org_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';

CREATE INDEX IF NOT EXISTS usage_counters_org_month_idx ON usage_counters (org_id, month);
CREATE INDEX IF NOT EXISTS usage_daily_org_day_idx ON usage_daily (org_id, day);
