-- The PostgreSQL migration of this version makes every INSERT into audit_events take the
-- chain lock. SQLite needs nothing: every write (an autocommitted INSERT too) holds the
-- database's single write lock. This file keeps the two dialects' versions in step.
SELECT 1;
