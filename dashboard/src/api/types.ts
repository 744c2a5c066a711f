// Types for the AgentIdP HTTP API (docs/api.md). Field names are the wire names.

export const KNOWN_SCOPES = [
  'agents:read',
  'agents:write',
  'credentials:read',
  'credentials:write',
  'tokens:introspect',
  'tokens:revoke',
  'audit:read',
  'usage:read',
  'keys:admin',
] as const;
export type Scope = (typeof KNOWN_SCOPES)[number];

export const AGENT_STATUSES = ['active', 'suspended', 'decommissioned'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const PLANS = ['free', 'unlimited'] as const;
export type Plan = (typeof PLANS)[number];

export const AUDIT_ACTIONS = [
  'agent.created',
  'agent.updated',
  'agent.suspended',
  'agent.reactivated',
  'agent.decommissioned',
  'credential.created',
  'credential.rotated',
  'credential.revoked',
  'token.issued',
  'token.denied',
  'token.introspected',
  'token.revoked',
  'key.rotated',
  'quota.exceeded',
] as const;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export interface Agent {
  agent_id: string;
  name: string;
  description: string;
  owner: string;
  status: AgentStatus;
  allowed_scopes: string[];
  allowed_audiences: string[];
  plan: Plan;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface AgentCreate {
  name: string;
  description?: string;
  owner?: string;
  allowed_scopes?: string[];
  allowed_audiences?: string[];
  plan?: Plan;
  metadata?: Record<string, unknown>;
}

export type AgentPatch = Partial<AgentCreate>;

export interface AgentListParams {
  q?: string;
  status?: AgentStatus | '';
  owner?: string;
  limit?: number;
  cursor?: string | null;
}

export type CredentialStatus = 'active' | 'revoked' | 'expired';

export interface Credential {
  credential_id: string;
  agent_id: string;
  status: CredentialStatus;
  secret_prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rotated_from?: string | null;
}

/** Answer of credential issue and rotate: the only time the secret is seen. */
export interface IssuedCredential {
  client_id: string;
  client_secret: string;
  credential_id: string;
  expires_at: string | null;
  rotated_from?: string | null;
}

export interface CredentialIssue {
  expires_at?: string;
}

export interface AuditEvent {
  event_id: string;
  occurred_at: string;
  actor_id: string | null;
  agent_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure';
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: unknown;
}

export interface AuditFilters {
  agent_id?: string;
  action?: string;
  outcome?: 'success' | 'failure' | '';
  /** RFC 3339 */
  from?: string;
  /** RFC 3339 */
  to?: string;
}

export interface AuditListParams extends AuditFilters {
  limit?: number;
  cursor?: string | null;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  first_bad_event_id: string | null;
  reason: string | null;
}

export interface UsageMonth {
  month: string;
  tokens_issued: number;
  limit: number | null;
  remaining: number | null;
}

export interface UsageDay {
  date: string;
  tokens_issued: number;
}

export interface AgentUsage {
  agent_id: string;
  plan: Plan;
  months: UsageMonth[];
  days: UsageDay[];
}

export interface GlobalUsage {
  months: UsageMonth[];
  days: UsageDay[];
  agents_by_status?: Record<AgentStatus, number> | null;
}

export type KeyState = 'pending' | 'active' | 'retired';

export interface SigningKey {
  kid: string;
  alg: string;
  state: KeyState;
  created_at: string;
  activates_at: string | null;
  retires_at: string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: FieldError[];
  request_id?: string;
}
