import { useState } from 'react';
import { Button, Group, NumberInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { ApiError, type Org, type OrgCreate, type OrgPatch } from '../api';
import { validateMetadata } from '../lib/metadata';
import { MAX_AGENTS_MAX, orgToValues, orgValuesToPayload, validateMaxAgents, validateOrgName, type OrgFormValues } from '../lib/orgForm';
import { ErrorAlert } from './ErrorAlert';
import { MetadataEditor } from './MetadataEditor';

const FIELDS = ['name', 'max_agents', 'metadata'];

/** Create or edit an organization: name, max_agents, metadata. */
export function OrgForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: Org | null;
  submitLabel: string;
  onSubmit: (payload: OrgCreate | OrgPatch) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<OrgFormValues>({
    mode: 'controlled',
    initialValues: orgToValues(initial),
    validateInputOnBlur: true,
    validate: {
      name: validateOrgName,
      max_agents: (v) => validateMaxAgents(v, initial !== null),
      metadata: (v) => {
        const r = validateMetadata(v);
        return r.ok ? null : r.error;
      },
    },
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    const payload = orgValuesToPayload(values, initial);
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
        for (const fe of err.fieldErrors) {
          const key = fe.field.split(/[.[/]/)[0];
          if (FIELDS.includes(key)) mapped[key] = mapped[key] ? `${mapped[key]}; ${fe.message}` : fe.message;
        }
        form.setErrors(mapped);
        if (Object.keys(mapped).length < err.fieldErrors.length) setError(err);
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={initial ? 'Edit organization' : 'Create organization'}>
      <Stack gap="sm">
        <TextInput label="Name" description="Unique, whatever the case" required maxLength={200} data-autofocus {...form.getInputProps('name')} />
        <NumberInput
          label="Max agents"
          description={
            initial
              ? 'Agents on plan free that are not decommissioned; lowering it removes none'
              : 'Agents on plan free that are not decommissioned; empty: the server default'
          }
          min={0}
          max={MAX_AGENTS_MAX}
          allowDecimal={false}
          allowNegative={false}
          {...form.getInputProps('max_agents')}
        />
        <MetadataEditor
          value={form.values.metadata}
          onChange={(v) => form.setFieldValue('metadata', v)}
          error={form.errors.metadata}
          onBlur={() => form.validateField('metadata')}
        />
        <ErrorAlert error={error} title="Could not save the organization" />
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
