import { useState } from 'react';
import { ActionIcon, Alert, Button, Group, NumberInput, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconAlertTriangle, IconPlus, IconTrash } from '@tabler/icons-react';
import { ApiError, type Api, type ApiCreate, type ApiPatch } from '../api';
import {
  apiFieldToFormPath,
  apiToValues,
  apiValuesToPayload,
  MAX_SCOPES,
  MIN_TTL_SECONDS,
  removedScopes,
  validateApiName,
  validateIdentifier,
  validateScopeDescription,
  validateScopeValue,
  validateTtl,
  type ApiFormValues,
} from '../lib/apiForm';
import type { OrgOption } from '../lib/orgs';
import { ErrorAlert } from './ErrorAlert';

/** Create or edit an API: identifier (fixed once created), name, scopes, token lifetime, DPoP. */
export function ApiForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  orgOptions,
  defaultOrgId,
}: {
  initial: Api | null;
  submitLabel: string;
  onSubmit: (payload: ApiCreate | ApiPatch) => Promise<unknown>;
  onCancel?: () => void;
  /** On create, for an operator: the organizations the API may be registered in. */
  orgOptions?: OrgOption[];
  defaultOrgId?: string;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<ApiFormValues>({
    mode: 'controlled',
    initialValues: apiToValues(initial, orgOptions ? (defaultOrgId ?? '') : ''),
    validateInputOnBlur: true,
    validate: {
      org_id: (v) => (!initial && orgOptions && !v ? 'Pick an organization' : null),
      identifier: (v) => (initial ? null : validateIdentifier(v)),
      name: validateApiName,
      scopes: {
        value: (value, values, path) =>
          validateScopeValue(
            value.trim(),
            values.scopes.map((s) => ({ ...s, value: s.value.trim() })),
            Number(path.split('.')[1]),
          ),
        description: (d) => validateScopeDescription(d.trim()),
      },
      token_ttl_seconds: validateTtl,
    },
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    const payload = apiValuesToPayload(values, initial);
    if (initial && Object.keys(payload).length === 0) {
      onCancel?.();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(payload);
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        const mapped: Record<string, string> = {};
        let unmatched = 0;
        for (const fe of err.fieldErrors) {
          const path = apiFieldToFormPath(fe.field);
          const root = path.split('.')[0];
          if (['org_id', 'identifier', 'name', 'scopes', 'token_ttl_seconds', 'require_dpop'].includes(root)) {
            mapped[path] = mapped[path] ? `${mapped[path]}; ${fe.message}` : fe.message;
          } else unmatched++;
        }
        form.setErrors(mapped);
        // Errors on the list itself (e.g. "scopes": too many) have no input: show them too.
        if (unmatched || Object.keys(mapped).some((k) => k === 'scopes' || k === 'require_dpop')) setError(err);
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  });

  const removed = initial ? removedScopes(initial, form.values) : [];
  const scopes = form.values.scopes;

  return (
    <form onSubmit={submit} noValidate aria-label={initial ? 'Edit API' : 'Create API'}>
      <Stack gap="sm">
        {!initial && orgOptions && (
          <Select
            label="Organization"
            description="Fixed once the API is registered"
            data={orgOptions}
            searchable
            allowDeselect={false}
            required
            comboboxProps={{ withinPortal: true }}
            {...form.getInputProps('org_id')}
          />
        )}
        {initial ? (
          <TextInput label="Identifier" description="The aud of its tokens; fixed" value={initial.identifier} readOnly />
        ) : (
          <TextInput
            label="Identifier"
            description="The aud of its tokens: an https URI (http only for a loopback host); fixed once created"
            placeholder="https://billing.example.com"
            required
            spellCheck={false}
            autoComplete="off"
            data-autofocus
            {...form.getInputProps('identifier')}
          />
        )}
        <TextInput label="Name" required maxLength={200} {...form.getInputProps('name')} />

        <div>
          <Text size="sm" fw={500}>
            Scopes
          </Text>
          <Text size="xs" c="dimmed" mb={6}>
            What agents can be granted on this API: a value (1–64 characters of a-z 0-9 : . _ - /) and a description
          </Text>
          <Stack gap={6}>
            {scopes.length === 0 && (
              <Text size="sm" c="dimmed">
                No scopes: agents granted this API get tokens without a scope.
              </Text>
            )}
            {scopes.map((_, i) => (
              <Group key={i} gap={6} align="flex-start" wrap="wrap">
                <TextInput
                  aria-label={`Scope ${i + 1} value`}
                  placeholder="invoices:read"
                  spellCheck={false}
                  autoComplete="off"
                  style={{ flex: '1 1 150px' }}
                  {...form.getInputProps(`scopes.${i}.value`)}
                />
                <TextInput
                  aria-label={`Scope ${i + 1} description`}
                  placeholder="What it allows"
                  style={{ flex: '2 1 180px' }}
                  {...form.getInputProps(`scopes.${i}.description`)}
                />
                <ActionIcon
                  variant="subtle"
                  color="red"
                  size="lg"
                  aria-label={`Remove scope ${i + 1}`}
                  onClick={() => form.removeListItem('scopes', i)}
                >
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            ))}
          </Stack>
          <Button
            mt={6}
            size="compact-sm"
            variant="subtle"
            leftSection={<IconPlus size={14} />}
            disabled={scopes.length >= MAX_SCOPES}
            onClick={() => form.insertListItem('scopes', { value: '', description: '' })}
          >
            Add scope
          </Button>
        </div>
        {removed.length > 0 && (
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Scopes removed">
            Removing {removed.join(', ')} removes it from every agent's grant on this API. Tokens already issued keep it
            until they expire.
          </Alert>
        )}

        <NumberInput
          label="Token lifetime (seconds)"
          description={`At least ${MIN_TTL_SECONDS}, at most the server's token lifetime; empty: the server's`}
          min={MIN_TTL_SECONDS}
          allowDecimal={false}
          allowNegative={false}
          {...form.getInputProps('token_ttl_seconds')}
        />
        <Switch
          label="Require DPoP"
          description="Its tokens must be DPoP-bound (RFC 9449): a token request for this API without a DPoP proof fails with invalid_dpop_proof"
          {...form.getInputProps('require_dpop', { type: 'checkbox' })}
        />
        <ErrorAlert error={error} title="Could not save the API" />
        <Group justify="flex-end">
          {onCancel && (
            <Button variant="default" onClick={onCancel} disabled={busy}>
              Cancel
            </Button>
          )}
          <Button type="submit" loading={busy}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
