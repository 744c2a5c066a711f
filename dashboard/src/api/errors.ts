import type { FieldError, Problem } from './types';

/** An error answer of the API (RFC 9457 problem) or of the network. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly fieldErrors: FieldError[];
  readonly requestId: string | null;

  constructor(init: {
    status: number;
    code?: string;
    title?: string;
    detail?: string;
    errors?: FieldError[];
    requestId?: string | null;
  }) {
    const message = init.detail || init.title || `Request failed with status ${init.status}`;
    super(message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code ?? '';
    this.title = init.title ?? '';
    this.detail = init.detail ?? '';
    this.fieldErrors = init.errors ?? [];
    this.requestId = init.requestId ?? null;
  }
}

/** An OAuth 2.0 error answer of the token endpoint (RFC 6749 §5.2). */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly retryAfter: number | null;

  constructor(status: number, error: string, description?: string, retryAfter?: number | null) {
    super(describeOAuthError(error, description));
    this.name = 'OAuthError';
    this.status = status;
    this.error = error;
    this.description = description ?? '';
    this.retryAfter = retryAfter ?? null;
  }
}

const OAUTH_MESSAGES: Record<string, string> = {
  invalid_client: 'The client id or secret is wrong, or the agent is not active.',
  invalid_request: 'The sign-in request was malformed.',
  invalid_scope: 'The agent is not allowed the requested scopes.',
  unauthorized_client: 'This agent may not use the client credentials grant.',
  unsupported_grant_type: 'The server does not support this grant type.',
  quota_exceeded: 'The monthly token quota of this agent is used up.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
};

function describeOAuthError(error: string, description?: string): string {
  if (description) return description;
  return OAUTH_MESSAGES[error] ?? `Sign-in failed (${error}).`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Turns a non-2xx API response into an ApiError, reading the problem document. */
export async function problemFromResponse(res: Response): Promise<ApiError> {
  const body = await readBody(res);
  const requestId = res.headers.get('X-Request-Id');
  if (isObject(body)) {
    const p = body as Problem & { error?: string; error_description?: string };
    const errors = Array.isArray(p.errors)
      ? p.errors
          .filter(isObject)
          .map((e) => ({ field: String(e.field ?? ''), message: String(e.message ?? '') }))
      : [];
    return new ApiError({
      status: typeof p.status === 'number' ? p.status : res.status,
      code: typeof p.code === 'string' ? p.code : typeof p.error === 'string' ? p.error : undefined,
      title: typeof p.title === 'string' ? p.title : undefined,
      detail:
        typeof p.detail === 'string'
          ? p.detail
          : typeof p.error_description === 'string'
            ? p.error_description
            : undefined,
      errors,
      requestId: typeof p.request_id === 'string' ? p.request_id : requestId,
    });
  }
  return new ApiError({
    status: res.status,
    title: res.statusText || undefined,
    detail: typeof body === 'string' && body.length < 300 ? body.trim() : undefined,
    requestId,
  });
}

/** Reads an OAuth error body from the token endpoint. */
export async function oauthErrorFromResponse(res: Response): Promise<OAuthError> {
  const body = await readBody(res);
  const ra = res.headers.get('Retry-After');
  const retryAfter = ra && /^\d+$/.test(ra) ? Number(ra) : null;
  if (isObject(body) && typeof body.error === 'string') {
    return new OAuthError(
      res.status,
      body.error,
      typeof body.error_description === 'string' ? body.error_description : undefined,
      retryAfter,
    );
  }
  if (isObject(body) && typeof body.detail === 'string') {
    return new OAuthError(res.status, String(body.code ?? 'server_error'), body.detail, retryAfter);
  }
  return new OAuthError(
    res.status,
    res.status === 429 ? 'rate_limited' : 'server_error',
    res.status >= 500 ? `The server answered ${res.status}. Try again later.` : undefined,
    retryAfter,
  );
}

/** A readable one-line message for any error thrown by the client. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.detail) return err.detail;
    if (err.title) return err.title;
    return err.message;
  }
  if (err instanceof OAuthError) return err.message;
  if (err instanceof TypeError) return 'Cannot reach the server. Check your connection.';
  if (err instanceof Error) return err.message;
  return String(err);
}
