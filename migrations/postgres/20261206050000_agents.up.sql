-- agents: require_dpop (SPEC §12): the agent gets only DPoP-bound tokens; a token request
-- without a DPoP proof is refused. Existing agents keep bearer tokens.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS require_dpop boolean NOT NULL DEFAULT false;
