-- metering: usage rows carry their agent's organization, so that usage totals are per
-- organization. The rows of a version-1 database belong to root, as its agents do. The
-- flusher writes an agent's organization with every upsert.
ALTER TABLE usage_counters ADD COLUMN IF NOT EXISTS org_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';
ALTER TABLE usage_daily ADD COLUMN IF NOT EXISTS org_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';

CREATE INDEX IF NOT EXISTS usage_counters_org_month_idx ON usage_counters (org_id, month);
CREATE INDEX IF NOT EXISTS usage_daily_org_day_idx ON usage_daily (org_id, day);
