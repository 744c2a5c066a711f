import { useState } from 'react';
import { Alert, Anchor, Button, Group, Modal, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconInfoCircle, IconKey } from '@tabler/icons-react';
import { Link } from 'react-router';
import { ApiError, type CredentialIssue, type CredentialType, type TrustedIssuer } from '../api';
import { localInputToRfc3339 } from '../lib/format';
import { parseJwks } from '../lib/jwks';
import { ErrorAlert } from './ErrorAlert';
import { JwksInput } from './JwksInput';

/** A federated credential's subject: at most this many characters (the server's limit). */
export const MAX_SUBJECT_LENGTH = 1024;

const TYPE_OPTIONS: { value: CredentialType; label: string }[] = [
  { value: 'secret', label: 'Client secret' },
  { value: 'private_key_jwt', label: 'Public key' },
  { value: 'federated', label: 'Federated' },
];

const TYPE_HELP: Record<CredentialType, string> = {
  secret: 'A new client secret is created for this agent and shown once.',
  private_key_jwt:
    'The agent signs client assertions (private_key_jwt, RFC 7523) with a private key only it holds; the server keeps the public keys. No secret exists.',
  federated:
    'The agent authenticates with a token a trusted issuer signed for one subject (a Kubernetes service account, a SPIFFE ID, a CI job). No secret exists anywhere.',
};

/** The fields of the form a server field error belongs to; the rest go to the alert. */
const FIELDS = ['jwks', 'trusted_issuer_id', 'issuer', 'subject', 'expires_at'] as const;

/** Server field errors by form field (`issuer` counts as the trusted issuer pick). */
export function credentialFieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) return out;
  for (const fe of err.fieldErrors) {
    let key = fe.field.replace(/^[/$.]+/, '').split(/[.[/]/)[0];
    if (key === 'issuer') key = 'trusted_issuer_id';
    if ((FIELDS as readonly string[]).includes(key)) out[key] = out[key] ? `${out[key]}; ${fe.message}` : fe.message;
  }
  return out;
}

/**
 * Issues a credential of any type: a client secret (shown once by the caller), a public key
 * set pasted as JWKS (checked here first: lib/jwks.ts), or a federated credential binding
 * one of the organization's trusted issuers and a subject. onIssue sends the body; its
 * error (the server's problem) is shown here, field by field where it names one.
 */
export function IssueCredentialModal({
  opened,
  onClose,
  onIssue,
  issuers,
  issuersError,
}: {
  opened: boolean;
  onClose: () => void;
  onIssue: (body: CredentialIssue) => Promise<void>;
  /** The live trusted issuers of the agent's organization (undefined while loading). */
  issuers: TrustedIssuer[] | undefined;
  issuersError?: unknown;
}) {
  const [type, setType] = useState<CredentialType>('secret');
  const [expires, setExpires] = useState('');
  const [jwks, setJwks] = useState('');
  const [issuerId, setIssuerId] = useState<string | null>(null);
  const [subject, setSubject] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const expiresAt = localInputToRfc3339(expires);
  const expiresInvalid = expires !== '' && (!expiresAt || new Date(expiresAt).getTime() <= Date.now());
  const parsed = parseJwks(jwks);
  const subjectError =
    subject.length > MAX_SUBJECT_LENGTH ? `At most ${MAX_SUBJECT_LENGTH} characters` : tried && !subject.trim() ? 'The subject is required' : null;
  const issuerError = tried && !issuerId ? 'Pick a trusted issuer' : null;
  const server = credentialFieldErrors(error);

  const reset = () => {
    setType('secret');
    setExpires('');
    setJwks('');
    setIssuerId(null);
    setSubject('');
    setTried(false);
    setError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const body = (): CredentialIssue | null => {
    const exp = expiresAt ? { expires_at: expiresAt } : {};
    switch (type) {
      case 'secret':
        return { ...exp };
      case 'private_key_jwt':
        return parsed.ok ? { type, jwks: parsed.value, ...exp } : null;
      case 'federated':
        return issuerId && subject.trim() && subject.length <= MAX_SUBJECT_LENGTH
          ? { type, trusted_issuer_id: issuerId, subject: subject.trim(), ...exp }
          : null;
    }
  };

  const noIssuers = issuers !== undefined && issuers.length === 0;
  return (
    <Modal opened={opened} onClose={close} title="Issue credential" size="lg">
      <form
        noValidate
        aria-label="Issue credential"
        onSubmit={async (e) => {
          e.preventDefault();
          setTried(true);
          const b = body();
          if (!b || expiresInvalid) return;
          setBusy(true);
          setError(null);
          try {
            await onIssue(b);
            reset();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Stack>
          <SegmentedControl
            aria-label="Credential type"
            data={TYPE_OPTIONS}
            value={type}
            onChange={(v) => {
              setType(v as CredentialType);
              setTried(false);
              setError(null);
            }}
            fullWidth
          />
          <Text size="sm">{TYPE_HELP[type]}</Text>
          {type === 'private_key_jwt' && (
            <JwksInput value={jwks} onChange={setJwks} touched={tried} error={server.jwks} />
          )}
          {type === 'federated' && (
            <>
              {noIssuers && (
                <Alert color="yellow" icon={<IconInfoCircle size={18} />}>
                  This organization trusts no issuer yet.{' '}
                  <Anchor component={Link} to="/trusted-issuers">
                    Register one
                  </Anchor>{' '}
                  first.
                </Alert>
              )}
              <ErrorAlert error={issuersError} title="Could not load the trusted issuers" />
              <Select
                label="Trusted issuer"
                description="The issuer whose tokens the agent presents (its iss)"
                placeholder={issuers === undefined && !issuersError ? 'Loading…' : 'Pick an issuer'}
                data={(issuers ?? []).map((i) => ({ value: i.trusted_issuer_id, label: i.issuer }))}
                value={issuerId}
                onChange={setIssuerId}
                searchable
                required
                allowDeselect={false}
                disabled={noIssuers}
                error={server.trusted_issuer_id ?? issuerError}
                comboboxProps={{ withinPortal: true }}
              />
              <TextInput
                label="Subject"
                description="The sub of the issuer's tokens, e.g. system:serviceaccount:ns:name or spiffe://example.org/agent"
                required
                value={subject}
                onChange={(e) => setSubject(e.currentTarget.value)}
                error={server.subject ?? subjectError}
                spellCheck={false}
                autoComplete="off"
              />
            </>
          )}
          <TextInput
            type="datetime-local"
            label="Expires at (optional)"
            description="Local time; leave empty for a credential that does not expire"
            value={expires}
            onChange={(e) => setExpires(e.currentTarget.value)}
            error={server.expires_at ?? (expiresInvalid ? 'Pick a time in the future' : undefined)}
          />
          <ErrorAlert error={error} title="Could not issue a credential" />
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={expiresInvalid} leftSection={<IconKey size={16} />}>
              Issue credential
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
