import { ApiError, oauthErrorFromResponse, problemFromResponse } from './errors';
import type {
  Agent,
  Api,
  ApiCreate,
  ApiListParams,
  ApiPatch,
  AgentCreate,
  AgentListParams,
  AgentPatch,
  AgentUsage,
  AuditEvent,
  AuditFilters,
  AuditListParams,
  AuditVerifyResult,
  AuditCheckpoint,
  AuditInclusionProof,
  Credential,
  CredentialIssue,
  GlobalUsage,
  IssuedCredential,
  IssuedKeyCredential,
  Org,
  OrgCreate,
  OrgCreated,
  OrgListParams,
  OrgPatch,
  Page,
  ResourceMetadata,
  SigningKey,
  TokenResponse,
  TrustedIssuer,
  TrustedIssuerCreate,
  TrustedIssuerListParams,
} from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface TokenRequest {
  clientId: string;
  clientSecret: string;
  method?: ClientAuthMethod;
  baseUrl?: string;
  fetch?: FetchLike;
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
export function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

function base64Ascii(s: string): string {
  // After form encoding the string is pure ASCII, so btoa is safe.
  return btoa(s);
}

/**
 * Client credentials grant against POST /api/v1/token. No `scope` is sent: the
 * server then grants all of the agent's allowed scopes.
 */
export async function requestToken(req: TokenRequest): Promise<TokenResponse> {
  const doFetch = req.fetch ?? ((input, init) => fetch(input, init));
  const params = new URLSearchParams();
  params.set('grant_type', 'client_credentials');
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Accept: 'application/json',
  };
  if ((req.method ?? 'client_secret_basic') === 'client_secret_basic') {
    headers.Authorization =
      'Basic ' + base64Ascii(`${formEncode(req.clientId)}:${formEncode(req.clientSecret)}`);
  } else {
    params.set('client_id', req.clientId);
    params.set('client_secret', req.clientSecret);
  }
  const res = await doFetch(`${req.baseUrl ?? ''}/api/v1/token`, {
    method: 'POST',
    headers,
    body: params.toString(),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) throw await oauthErrorFromResponse(res);
  const body = (await res.json()) as TokenResponse;
  if (!body || typeof body.access_token !== 'string') {
    throw new ApiError({ status: res.status, detail: 'The token endpoint answered without an access token.' });
  }
  return body;
}

type QueryValue = string | number | null | undefined;

/** Builds a query string, leaving out empty values. */
export function buildQuery(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  /** The current access token, or null when signed out. */
  getToken: () => string | null;
  /** Called on any 401 answer (expired, revoked or otherwise unusable token). */
  onUnauthorized?: (err: ApiError) => void;
}

interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
}

const enc = encodeURIComponent;

/** Typed client for the AgentIdP management API (docs/api.md). */
export class ApiClient {
  private readonly baseUrl: string;
  private readonly doFetch: FetchLike;
  private readonly opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl ?? '';
    this.doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private async send(method: string, path: string, ro: RequestOptions = {}, accept = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept };
    const token = this.opts.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (ro.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(ro.body);
    }
    const res = await this.doFetch(`${this.baseUrl}${path}${ro.query ? buildQuery(ro.query) : ''}`, {
      method,
      headers,
      body,
      signal: ro.signal,
      credentials: 'omit',
      cache: 'no-store',
    });
    if (!res.ok) {
      const err = await problemFromResponse(res);
      if (res.status === 401) this.opts.onUnauthorized?.(err);
      throw err;
    }
    return res;
  }

  private async json<T>(method: string, path: string, ro?: RequestOptions): Promise<T> {
    const res = await this.send(method, path, ro);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async none(method: string, path: string, ro?: RequestOptions): Promise<void> {
    const res = await this.send(method, path, ro);
    await res.body?.cancel().catch(() => undefined);
  }

  // ---- agents ----
  listAgents(p: AgentListParams = {}, signal?: AbortSignal): Promise<Page<Agent>> {
    return this.json('GET', '/api/v1/agents', {
      query: { org_id: p.org_id, q: p.q, status: p.status, owner: p.owner, limit: p.limit, cursor: p.cursor },
      signal,
    });
  }
  getAgent(id: string, signal?: AbortSignal): Promise<Agent> {
    return this.json('GET', `/api/v1/agents/${enc(id)}`, { signal });
  }
  createAgent(body: AgentCreate): Promise<Agent> {
    return this.json('POST', '/api/v1/agents', { body });
  }
  updateAgent(id: string, patch: AgentPatch): Promise<Agent> {
    return this.json('PATCH', `/api/v1/agents/${enc(id)}`, { body: patch });
  }
  suspendAgent(id: string): Promise<Agent> {
    return this.json('POST', `/api/v1/agents/${enc(id)}/suspend`);
  }
  reactivateAgent(id: string): Promise<Agent> {
    return this.json('POST', `/api/v1/agents/${enc(id)}/reactivate`);
  }
  decommissionAgent(id: string): Promise<void> {
    return this.none('DELETE', `/api/v1/agents/${enc(id)}`);
  }

  // ---- credentials ----
  listCredentials(agentId: string, p: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal): Promise<Page<Credential>> {
    return this.json('GET', `/api/v1/agents/${enc(agentId)}/credentials`, {
      query: { limit: p.limit, cursor: p.cursor },
      signal,
    });
  }
  issueCredential(agentId: string, body: CredentialIssue = {}): Promise<IssuedCredential> {
    return this.json('POST', `/api/v1/agents/${enc(agentId)}/credentials`, { body });
  }
  /** A private_key_jwt or federated credential: the answer holds no secret. */
  issueKeyCredential(agentId: string, body: Exclude<CredentialIssue, { type?: 'secret' }>): Promise<IssuedKeyCredential> {
    return this.json('POST', `/api/v1/agents/${enc(agentId)}/credentials`, { body });
  }
  rotateCredential(agentId: string, credentialId: string, gracePeriodSeconds = 0): Promise<IssuedCredential> {
    return this.json('POST', `/api/v1/agents/${enc(agentId)}/credentials/${enc(credentialId)}/rotate`, {
      body: { grace_period_seconds: gracePeriodSeconds },
    });
  }
  revokeCredential(agentId: string, credentialId: string): Promise<void> {
    return this.none('DELETE', `/api/v1/agents/${enc(agentId)}/credentials/${enc(credentialId)}`);
  }

  // ---- trusted issuers ----
  listTrustedIssuers(p: TrustedIssuerListParams = {}, signal?: AbortSignal): Promise<Page<TrustedIssuer>> {
    return this.json('GET', '/api/v1/trusted-issuers', { query: { org_id: p.org_id, limit: p.limit, cursor: p.cursor }, signal });
  }
  getTrustedIssuer(id: string, signal?: AbortSignal): Promise<TrustedIssuer> {
    return this.json('GET', `/api/v1/trusted-issuers/${enc(id)}`, { signal });
  }
  createTrustedIssuer(body: TrustedIssuerCreate): Promise<TrustedIssuer> {
    return this.json('POST', '/api/v1/trusted-issuers', { body });
  }
  /** Deletes it and revokes every credential bound to it. */
  deleteTrustedIssuer(id: string): Promise<void> {
    return this.none('DELETE', `/api/v1/trusted-issuers/${enc(id)}`);
  }

  // ---- audit ----
  listAudit(p: AuditListParams = {}, signal?: AbortSignal): Promise<Page<AuditEvent>> {
    return this.json('GET', '/api/v1/audit', { query: auditQuery(p), signal });
  }
  /** Downloads the NDJSON export with the bearer header (a plain link can't carry it). */
  async exportAudit(f: AuditFilters = {}): Promise<{ blob: Blob; filename: string }> {
    const res = await this.send('GET', '/api/v1/audit/export', { query: auditQuery(f) }, 'application/x-ndjson');
    const blob = await res.blob();
    const typed = blob.type ? blob : new Blob([blob], { type: 'application/x-ndjson' });
    return { blob: typed, filename: filenameFrom(res.headers.get('Content-Disposition')) ?? defaultExportName() };
  }
  /** Audit chain verification; null when the server has no such endpoint (404). */
  async verifyAudit(signal?: AbortSignal): Promise<AuditVerifyResult | null> {
    try {
      return await this.json<AuditVerifyResult>('GET', '/api/v1/audit/verify', { signal });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** The latest signed checkpoint; null before the first one (404). */
  async auditCheckpoint(signal?: AbortSignal): Promise<AuditCheckpoint | null> {
    try {
      const res = await this.send('GET', '/api/v1/audit/checkpoint', { signal }, 'text/plain');
      return { note: await res.text(), signedAt: res.headers.get('Last-Modified') };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }
  /** The audit key's note verifier key as the server serves it (public; one line). */
  async auditCheckpointKey(signal?: AbortSignal): Promise<string> {
    const res = await this.send('GET', '/api/v1/audit/checkpoint/key', { signal }, 'text/plain');
    return (await res.text()).trim();
  }
  auditInclusionProof(seq: number, treeSize: number, signal?: AbortSignal): Promise<AuditInclusionProof> {
    return this.json('GET', '/api/v1/audit/proof/inclusion', { query: { seq, tree_size: treeSize }, signal });
  }

  // ---- usage ----
  agentUsage(agentId: string, signal?: AbortSignal): Promise<AgentUsage> {
    return this.json('GET', `/api/v1/agents/${enc(agentId)}/usage`, { signal });
  }
  /** Totals of the caller's organization; with orgs:admin, of every one unless orgId narrows them. */
  usage(signal?: AbortSignal, orgId?: string): Promise<GlobalUsage> {
    return this.json('GET', '/api/v1/usage', { query: { org_id: orgId }, signal });
  }

  // ---- organizations ----
  listOrgs(p: OrgListParams = {}, signal?: AbortSignal): Promise<Page<Org>> {
    return this.json('GET', '/api/v1/orgs', {
      query: { q: p.q, status: p.status, limit: p.limit, cursor: p.cursor },
      signal,
    });
  }
  getOrg(id: string, signal?: AbortSignal): Promise<Org> {
    return this.json('GET', `/api/v1/orgs/${enc(id)}`, { signal });
  }
  createOrg(body: OrgCreate): Promise<OrgCreated> {
    return this.json('POST', '/api/v1/orgs', { body });
  }
  updateOrg(id: string, patch: OrgPatch): Promise<Org> {
    return this.json('PATCH', `/api/v1/orgs/${enc(id)}`, { body: patch });
  }
  suspendOrg(id: string): Promise<Org> {
    return this.json('POST', `/api/v1/orgs/${enc(id)}/suspend`);
  }
  reactivateOrg(id: string): Promise<Org> {
    return this.json('POST', `/api/v1/orgs/${enc(id)}/reactivate`);
  }

  // ---- APIs ----
  listApis(p: ApiListParams = {}, signal?: AbortSignal): Promise<Page<Api>> {
    return this.json('GET', '/api/v1/apis', { query: { org_id: p.org_id, limit: p.limit, cursor: p.cursor }, signal });
  }
  getApi(id: string, signal?: AbortSignal): Promise<Api> {
    return this.json('GET', `/api/v1/apis/${enc(id)}`, { signal });
  }
  createApi(body: ApiCreate): Promise<Api> {
    return this.json('POST', '/api/v1/apis', { body });
  }
  updateApi(id: string, patch: ApiPatch): Promise<Api> {
    return this.json('PATCH', `/api/v1/apis/${enc(id)}`, { body: patch });
  }
  deleteApi(id: string): Promise<void> {
    return this.none('DELETE', `/api/v1/apis/${enc(id)}`);
  }
  apiResourceMetadata(id: string, signal?: AbortSignal): Promise<ResourceMetadata> {
    return this.json('GET', `/api/v1/apis/${enc(id)}/resource-metadata`, { signal });
  }

  // ---- keys ----
  listKeys(signal?: AbortSignal): Promise<{ items: SigningKey[] }> {
    return this.json('GET', '/api/v1/keys', { signal });
  }
  rotateKeys(): Promise<unknown> {
    return this.json('POST', '/api/v1/keys/rotate');
  }
}

function auditQuery(p: AuditListParams): Record<string, QueryValue> {
  return {
    agent_id: p.agent_id,
    org_id: p.org_id,
    action: p.action,
    outcome: p.outcome,
    from: p.from,
    to: p.to,
    limit: p.limit,
    cursor: p.cursor,
  };
}

/**
 * Every item of a cursor-paginated list, page after page, up to maxPages pages (a bound
 * for lists shown whole, such as the organizations of a switcher). `truncated` tells
 * whether more were left.
 */
export async function collectPages<T>(
  fetchPage: (cursor: string | null) => Promise<Page<T>>,
  maxPages = 5,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

function filenameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (!m) return null;
  const name = decodeURIComponent(m[1]).replace(/[/\\]/g, '_').trim();
  return name || null;
}

function defaultExportName(): string {
  return `agentidp-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
}

/** Saves a blob as a file download in the browser. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
