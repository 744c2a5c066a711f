-- agents: require_dpop (SPEC §12): the agent gets only DPoP-bound tokens; a token request
-- without a DPoP proof is refused. Existing agents keep bearer tokens.
ALTER TABLE agents ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0 CHECK (require_dpop IN (0, 1));
