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
  'orgs:admin',
  'apis:read',
  'apis:write',
] as const;
export type Scope = (typeof KNOWN_SCOPES)[number];

/** Scopes only agents of the root organization may hold. */
export const ROOT_ONLY_SCOPES: readonly string[] = ['orgs:admin', 'keys:admin'];

/** The root organization's fixed id. */
export const ROOT_ORG_ID = '00000000-0000-0000-0000-000000000001';

/** The built-in API's (the server's own management API) fixed id. */
export const BUILTIN_API_ID = '00000000-0000-0000-0000-0000000000a1';

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
  'key.created',
  'key.rotated',
  'quota.exceeded',
  'rate.limited',
  'api.created',
  'api.updated',
  'api.deleted',
  'org.created',
  'org.updated',
  'org.suspended',
  'org.reactivated',
  'trusted_issuer.created',
  'trusted_issuer.deleted',
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

/** An agent's grant on an API of its organization: the API's identifier and scopes of it. */
export interface Grant {
  audience: string;
  scopes: string[];
}

export interface Agent {
  agent_id: string;
  /** Absent on servers older than organizations (then: root). */
  org_id?: string;
  name: string;
  description: string;
  owner: string;
  status: AgentStatus;
  allowed_scopes: string[];
  allowed_audiences: string[];
  plan: Plan;
  metadata: Record<string, unknown>;
  /** Absent on servers older than APIs. */
  grants?: Grant[];
  /** Only DPoP-bound tokens (RFC 9449); absent on servers older than DPoP. */
  require_dpop?: boolean;
  /** Agent ids of its organization that may act for it (token exchange); absent on servers without delegation. */
  delegates?: string[];
  created_at: string;
  updated_at: string;
}

export interface AgentCreate {
  /** Only a caller holding orgs:admin may name another organization than its own. */
  org_id?: string;
  name: string;
  description?: string;
  owner?: string;
  allowed_scopes?: string[];
  allowed_audiences?: string[];
  plan?: Plan;
  metadata?: Record<string, unknown>;
  grants?: Grant[];
  require_dpop?: boolean;
  delegates?: string[];
}

export type AgentPatch = Partial<Omit<AgentCreate, 'org_id'>>;

export interface AgentListParams {
  org_id?: string;
  q?: string;
  status?: AgentStatus | '';
  owner?: string;
  limit?: number;
  cursor?: string | null;
}

export type CredentialStatus = 'active' | 'revoked' | 'expired';

export const CREDENTIAL_TYPES = ['secret', 'private_key_jwt', 'federated'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export interface Credential {
  credential_id: string;
  agent_id: string;
  /** Absent on servers older than credential types (then: secret). */
  type?: CredentialType;
  status: CredentialStatus;
  /** A secret's first 12 characters; "" for the other types. */
  secret_prefix: string;
  /** private_key_jwt only: the kid of each key (as given, or its RFC 7638 thumbprint). */
  kids?: string[];
  /** federated only: the trusted issuer it binds, by id. */
  trusted_issuer_id?: string;
  /** federated only: the `sub` it accepts. */
  subject?: string;
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

/** Answer of issuing a key or federated credential: the credential, no secret. */
export type IssuedKeyCredential = Credential & { client_id: string };

/** A JSON Web Key Set as pasted (public keys only); the server checks every key. */
export interface Jwks {
  keys: Record<string, unknown>[];
}

export type CredentialIssue =
  | { type?: 'secret'; expires_at?: string }
  | { type: 'private_key_jwt'; jwks: Jwks; expires_at?: string }
  | { type: 'federated'; trusted_issuer_id: string; subject: string; expires_at?: string };

// ---- trusted issuers (SPEC §11) ----

export interface TrustedIssuer {
  trusted_issuer_id: string;
  org_id: string;
  issuer: string;
  /** Where its keys are fetched; absent when they are given by value. */
  jwks_uri?: string;
  /** Its keys given by value; absent with jwks_uri. */
  jwks?: Jwks;
  created_at: string;
}

export type TrustedIssuerCreate = { org_id?: string; issuer: string } & ({ jwks_uri: string } | { jwks: Jwks });

export interface TrustedIssuerListParams {
  org_id?: string;
  limit?: number;
  cursor?: string | null;
}

export interface AuditEvent {
  event_id: string;
  seq?: number;
  occurred_at: string;
  /** null on events written before organizations existed (root's). */
  org_id?: string | null;
  /** The event's number within its organization (1, 2, 3, …); null on events before hash version 3. */
  org_seq?: number | null;
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
  /** The event's chain hash (hex): also its leaf in the audit log's Merkle tree. */
  hash?: string;
  prev_hash?: string;
  hash_version?: number;
}

/** The latest signed checkpoint of the audit log: the note's text and when it was signed. */
export interface AuditCheckpoint {
  note: string;
  signedAt: string | null;
}

/** GET /api/v1/audit/proof/inclusion (hashes base64). */
export interface AuditInclusionProof {
  leaf_index: number;
  tree_size: number;
  hashes: string[];
}

export interface AuditFilters {
  agent_id?: string;
  org_id?: string;
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
  head_seq?: number;
  head_hash?: string;
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

// ---- organizations ----

export const ORG_STATUSES = ['active', 'suspended'] as const;
export type OrgStatus = (typeof ORG_STATUSES)[number];

export interface Org {
  org_id: string;
  name: string;
  status: OrgStatus;
  max_agents: number;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface OrgCreate {
  name: string;
  max_agents?: number;
  metadata?: Record<string, unknown>;
}

export type OrgPatch = Partial<OrgCreate>;

/** Answer of POST /api/v1/orgs: the only time the first admin's secret is seen. */
export interface OrgCreated {
  org: Org;
  admin: { agent_id: string; client_id: string; client_secret: string; credential_id: string };
}

export interface OrgListParams {
  q?: string;
  status?: OrgStatus | '';
  limit?: number;
  cursor?: string | null;
}

// ---- APIs (resource servers) ----

export interface ApiScope {
  value: string;
  description: string;
}

export interface Api {
  api_id: string;
  /** null for the built-in API */
  org_id: string | null;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  token_ttl_seconds: number | null;
  require_dpop: boolean;
  builtin: boolean;
  created_at: string;
  updated_at: string;
}

export interface ApiCreate {
  org_id?: string;
  identifier: string;
  name: string;
  scopes?: ApiScope[];
  token_ttl_seconds?: number | null;
  require_dpop?: boolean;
}

export type ApiPatch = Partial<Pick<ApiCreate, 'name' | 'scopes' | 'token_ttl_seconds' | 'require_dpop'>>;

export interface ApiListParams {
  org_id?: string;
  limit?: number;
  cursor?: string | null;
}

/** RFC 9728 protected resource metadata of an API. */
export interface ResourceMetadata {
  resource: string;
  resource_name?: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  [k: string]: unknown;
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
