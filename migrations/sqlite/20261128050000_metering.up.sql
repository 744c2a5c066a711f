-- metering: tokens issued per agent and UTC month, and the month-to-date count at the end of
-- each UTC day (for the 30-day chart). Both are written by the flusher as absolute values
-- with "keep the greater" upserts, so replicas flushing the same counts never add them up.
-- month is 'YYYY-MM' and day 'YYYY-MM-DD' (text on both dialects; they sort as dates).
-- agent_id has no foreign key: the agents table belongs to another module.

CREATE TABLE usage_counters (
    agent_id      TEXT    NOT NULL,
    month         TEXT    NOT NULL CHECK (length(month) = 7),
    tokens_issued INTEGER NOT NULL CHECK (tokens_issued >= 0),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (agent_id, month)
) WITHOUT ROWID;

CREATE INDEX usage_counters_month_idx ON usage_counters (month);

-- month_to_date: tokens issued in the day's month up to the end of the day (the highest
-- value the monthly counter reached that day). Tokens issued on a day are its
-- month_to_date minus that of the previous recorded day of the same month.
CREATE TABLE usage_daily (
    agent_id      TEXT    NOT NULL,
    day           TEXT    NOT NULL CHECK (length(day) = 10),
    month_to_date INTEGER NOT NULL CHECK (month_to_date >= 0),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (agent_id, day)
) WITHOUT ROWID;

CREATE INDEX usage_daily_day_idx ON usage_daily (day);
