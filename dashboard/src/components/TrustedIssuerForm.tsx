import { useState } from 'react';
import { Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { ApiError, type TrustedIssuerCreate } from '../api';
import type { OrgOption } from '../lib/orgs';
import {
  emptyTrustedIssuerValues,
  trustedIssuerPayload,
  validateTrustedIssuer,
  type KeySource,
  type TrustedIssuerFormValues,
} from '../lib/trustedIssuerForm';
import { ErrorAlert } from './ErrorAlert';
import { JwksInput } from './JwksInput';

const FIELDS: (keyof TrustedIssuerFormValues)[] = ['org_id', 'issuer', 'jwks_uri', 'jwks'];

/**
 * Registers a trusted issuer: its exact `iss`, and its keys by address (jwks_uri, fetched by
 * the server) or by value (a pasted JWKS of public keys). It cannot be changed afterwards.
 * The server's problem is shown: per field where it names one, and whole (409 for an issuer
 * the organization already trusts).
 */
export function TrustedIssuerForm({
  onSubmit,
  onCancel,
  orgOptions,
  defaultOrgId,
}: {
  onSubmit: (body: TrustedIssuerCreate) => Promise<unknown>;
  onCancel?: () => void;
  /** For an operator: the organizations it may be registered in. */
  orgOptions?: OrgOption[];
  defaultOrgId?: string;
}) {
  const [values, setValues] = useState<TrustedIssuerFormValues>(() => emptyTrustedIssuerValues(orgOptions ? (defaultOrgId ?? '') : ''));
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [serverFields, setServerFields] = useState<Partial<Record<string, string>>>({});
  const [unmapped, setUnmapped] = useState<string[]>([]);

  const local = validateTrustedIssuer(values);
  const set = <K extends keyof TrustedIssuerFormValues>(k: K, v: TrustedIssuerFormValues[K]) => {
    setValues((old) => ({ ...old, [k]: v }));
    setServerFields((f) => ({ ...f, [k]: undefined }));
  };
  const shown = (k: keyof TrustedIssuerFormValues) => serverFields[k] ?? (tried || (k !== 'jwks' && values[k] !== '') ? local[k] : undefined);

  return (
    <form
      noValidate
      aria-label="Register trusted issuer"
      onSubmit={async (e) => {
        e.preventDefault();
        setTried(true);
        const body = trustedIssuerPayload(values);
        if (!body) return;
        setBusy(true);
        setError(null);
        setServerFields({});
        setUnmapped([]);
        try {
          await onSubmit(body);
        } catch (err) {
          setError(err);
          if (err instanceof ApiError) {
            const m: Record<string, string> = {};
            const rest: string[] = [];
            for (const fe of err.fieldErrors) {
              const key = fe.field.replace(/^[/$.]+/, '').split(/[.[/]/)[0] as keyof TrustedIssuerFormValues;
              if (FIELDS.includes(key)) m[key] = m[key] ? `${m[key]}; ${fe.message}` : fe.message;
              else rest.push(fe.field ? `${fe.field}: ${fe.message}` : fe.message);
            }
            setServerFields(m);
            setUnmapped(rest);
          }
        } finally {
          setBusy(false);
        }
      }}
    >
      <Stack gap="sm">
        {orgOptions && (
          <Select
            label="Organization"
            description="It serves this organization's federated credentials only"
            data={orgOptions}
            value={values.org_id || null}
            onChange={(v) => set('org_id', v ?? '')}
            searchable
            allowDeselect={false}
            required
            error={serverFields.org_id}
            comboboxProps={{ withinPortal: true }}
          />
        )}
        <TextInput
          label="Issuer"
          description="The exact iss of the tokens it signs, e.g. https://kubernetes.default.svc or https://token.actions.githubusercontent.com"
          required
          data-autofocus
          value={values.issuer}
          onChange={(e) => set('issuer', e.currentTarget.value)}
          error={shown('issuer')}
          spellCheck={false}
          autoComplete="off"
        />
        <div>
          <Text size="sm" fw={500} mb={4} id="ti-keys-label">
            Its keys
          </Text>
          <SegmentedControl
            aria-labelledby="ti-keys-label"
            data={[
              { value: 'jwks_uri', label: 'By address (jwks_uri)' },
              { value: 'jwks', label: 'Pasted (JWKS)' },
            ]}
            value={values.source}
            onChange={(v) => set('source', v as KeySource)}
            fullWidth
          />
        </div>
        {values.source === 'jwks_uri' ? (
          <TextInput
            label="JWKS URI"
            description="https (or http to a loopback host); the server fetches it with a 5 s timeout, 256 KiB at most, no redirects, and never dials private addresses unless configured to"
            required
            placeholder="https://issuer.example/.well-known/jwks.json"
            value={values.jwks_uri}
            onChange={(e) => set('jwks_uri', e.currentTarget.value)}
            error={shown('jwks_uri')}
            spellCheck={false}
            autoComplete="off"
          />
        ) : (
          <JwksInput
            value={values.jwks}
            onChange={(v) => set('jwks', v)}
            label="JWKS"
            description={'The issuer’s public keys: {"keys": [ … ]}. Given by value, they are never refreshed: register another issuer to change them.'}
            touched={tried}
            error={serverFields.jwks}
          />
        )}
        <Text size="xs" c="dimmed">
          A trusted issuer cannot be changed once registered: register another and move the credentials.
        </Text>
        <ErrorAlert error={error} title="Could not register the trusted issuer" />
        {unmapped.map((m) => (
          <Text key={m} size="sm" c="red">
            {m}
          </Text>
        ))}
        <Group justify="flex-end">
          {onCancel && (
            <Button variant="default" onClick={onCancel} disabled={busy}>
              Cancel
            </Button>
          )}
          <Button type="submit" loading={busy}>
            Register issuer
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
