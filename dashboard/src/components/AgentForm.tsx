import { useState } from 'react';
import { Button, Group, MultiSelect, Select, Stack, Switch, TagsInput, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { ApiError, KNOWN_SCOPES, PLANS, ROOT_ONLY_SCOPES, ROOT_ORG_ID, type Agent, type AgentCreate, type Plan } from '../api';
import { sameDelegates } from '../lib/delegates';
import type { OrgOption } from '../lib/orgs';
import { formatMetadata, validateMetadata } from '../lib/metadata';
import { isAbsoluteUri } from '../lib/uri';
import { DelegatesEditor } from './Delegates';
import { ErrorAlert } from './ErrorAlert';
import { MetadataEditor } from './MetadataEditor';

export interface AgentFormValues {
  /** On create only; '' leaves it to the server (the caller's organization). */
  org_id: string;
  name: string;
  description: string;
  owner: string;
  plan: Plan;
  allowed_scopes: string[];
  allowed_audiences: string[];
  metadata: string;
  require_dpop: boolean;
  delegates: string[];
}

export function agentToValues(a: Agent | null, defaultOrgId = ''): AgentFormValues {
  return {
    org_id: a?.org_id ?? defaultOrgId,
    name: a?.name ?? '',
    description: a?.description ?? '',
    owner: a?.owner ?? '',
    plan: a?.plan ?? 'free',
    allowed_scopes: a?.allowed_scopes ?? [],
    allowed_audiences: a?.allowed_audiences ?? [],
    metadata: formatMetadata(a?.metadata ?? {}),
    require_dpop: a?.require_dpop ?? false,
    delegates: a?.delegates ?? [],
  };
}

/**
 * Whether the form offers delegates: on edit, when the server's agent has the field (a
 * server with delegation); on create, when the caller knows the server has it.
 */
export function offersDelegates(initial: Agent | null, supported = false): boolean {
  return initial ? initial.delegates !== undefined : supported;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The request body: everything on create, only changed fields on edit. `require_dpop` on
 * create only when on; `delegates` only where offered (withDelegates), on create only when
 * not empty.
 */
export function valuesToPayload(v: AgentFormValues, initial: Agent | null, withDelegates = false): Partial<AgentCreate> {
  const meta = validateMetadata(v.metadata);
  const full: AgentCreate = {
    name: v.name.trim(),
    description: v.description.trim(),
    owner: v.owner.trim(),
    plan: v.plan,
    allowed_scopes: v.allowed_scopes,
    allowed_audiences: v.allowed_audiences,
    metadata: meta.ok ? meta.value : {},
  };
  if (!initial) {
    if (v.require_dpop) full.require_dpop = true;
    if (withDelegates && v.delegates.length) full.delegates = v.delegates;
    return v.org_id ? { org_id: v.org_id, ...full } : full;
  }
  const patch: Partial<AgentCreate> = {};
  if (full.name !== initial.name) patch.name = full.name;
  if (full.description !== (initial.description ?? '')) patch.description = full.description;
  if (full.owner !== (initial.owner ?? '')) patch.owner = full.owner;
  if (full.plan !== initial.plan) patch.plan = full.plan;
  if (!sameList(full.allowed_scopes ?? [], initial.allowed_scopes ?? [])) patch.allowed_scopes = full.allowed_scopes;
  if (!sameList(full.allowed_audiences ?? [], initial.allowed_audiences ?? []))
    patch.allowed_audiences = full.allowed_audiences;
  if (JSON.stringify(full.metadata) !== JSON.stringify(initial.metadata ?? {})) patch.metadata = full.metadata;
  if (v.require_dpop !== (initial.require_dpop ?? false)) patch.require_dpop = v.require_dpop;
  if (withDelegates && !sameDelegates(v.delegates, initial.delegates ?? [])) patch.delegates = v.delegates;
  return patch;
}

/**
 * The server-API scopes an agent of orgId may be allowed: root-only scopes (orgs:admin,
 * keys:admin) are offered only for root, or when the agent holds them already.
 */
export function scopeChoices(orgId: string | undefined, current: readonly string[] = []): string[] {
  const root = !orgId || orgId === ROOT_ORG_ID;
  return KNOWN_SCOPES.filter((s) => root || !ROOT_ONLY_SCOPES.includes(s) || current.includes(s));
}

const FORM_FIELDS = [
  'org_id',
  'name',
  'description',
  'owner',
  'plan',
  'allowed_scopes',
  'allowed_audiences',
  'metadata',
  'require_dpop',
  'delegates',
];

/** Maps server field names (`name`, `allowed_audiences[1]`, `/metadata`) to form fields. */
export function fieldErrorsToForm(err: ApiError): { mapped: Record<string, string>; unmapped: string[] } {
  const mapped: Record<string, string> = {};
  const unmapped: string[] = [];
  for (const fe of err.fieldErrors) {
    const key = fe.field.replace(/^[/$.]+/, '').split(/[.[/]/)[0];
    if (FORM_FIELDS.includes(key)) mapped[key] = mapped[key] ? `${mapped[key]}; ${fe.message}` : fe.message;
    else unmapped.push(fe.field ? `${fe.field}: ${fe.message}` : fe.message);
  }
  return { mapped, unmapped };
}

export function AgentForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  orgOptions,
  defaultOrgId,
  delegatesSupported,
}: {
  initial: Agent | null;
  submitLabel: string;
  onSubmit: (payload: Partial<AgentCreate>) => Promise<unknown>;
  onCancel?: () => void;
  /** On create, for an operator: the organizations the agent may be created in. */
  orgOptions?: OrgOption[];
  /** The organization a create starts with (the picker's default). */
  defaultOrgId?: string;
  /** On create: the server knows delegates (its agents carry the field). */
  delegatesSupported?: boolean;
}) {
  const withDelegates = offersDelegates(initial, delegatesSupported);
  const dpopKnown = !initial || initial.require_dpop !== undefined;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useForm<AgentFormValues>({
    mode: 'controlled',
    initialValues: agentToValues(initial, orgOptions ? (defaultOrgId ?? '') : ''),
    validateInputOnBlur: true,
    validate: {
      org_id: (v) => (!initial && orgOptions && !v ? 'Pick an organization' : null),
      name: (v) => {
        const t = v.trim();
        if (!t) return 'Name is required';
        if (t.length > 128) return 'At most 128 characters';
        return null;
      },
      description: (v) => (v.length > 1024 ? 'At most 1024 characters' : null),
      owner: (v) => (v.length > 256 ? 'At most 256 characters' : null),
      allowed_audiences: (list) => {
        const bad = list.filter((u) => !isAbsoluteUri(u));
        return bad.length ? `Not an absolute URI: ${bad.join(', ')}` : null;
      },
      metadata: (v) => {
        const r = validateMetadata(v);
        return r.ok ? null : r.error;
      },
    },
  });

  const submit = form.onSubmit(async (values) => {
    setError(null);
    const payload = valuesToPayload(values, initial, withDelegates);
    if (initial && Object.keys(payload).length === 0) {
      onCancel?.();
      return;
    }
    setBusy(true);
    try {
      await onSubmit(payload);
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        const { mapped, unmapped } = fieldErrorsToForm(err);
        form.setErrors(mapped);
        if (unmapped.length || Object.keys(mapped).length === 0) setError(err);
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label={initial ? 'Edit agent' : 'Create agent'}>
      <Stack gap="sm">
        {!initial && orgOptions && (
          <Select
            label="Organization"
            description="Fixed once the agent is created"
            data={orgOptions}
            searchable
            allowDeselect={false}
            required
            comboboxProps={{ withinPortal: true }}
            {...form.getInputProps('org_id')}
          />
        )}
        <TextInput label="Name" required maxLength={200} data-autofocus {...form.getInputProps('name')} />
        <Textarea label="Description" autosize minRows={2} maxRows={6} {...form.getInputProps('description')} />
        <Group grow align="flex-start">
          <TextInput label="Owner" placeholder="team or e-mail" {...form.getInputProps('owner')} />
          <Select
            label="Plan"
            data={PLANS.map((p) => ({ value: p, label: p }))}
            allowDeselect={false}
            {...form.getInputProps('plan')}
          />
        </Group>
        <MultiSelect
          label="Allowed scopes"
          description="Scopes the agent may request in its tokens"
          data={scopeChoices(initial ? initial.org_id : form.values.org_id || defaultOrgId, form.values.allowed_scopes)}
          searchable
          clearable
          hidePickedOptions
          placeholder="Pick scopes"
          {...form.getInputProps('allowed_scopes')}
        />
        <TagsInput
          label="Allowed audiences"
          description="Absolute URIs of the resource servers it may get tokens for (press Enter after each)"
          placeholder="https://api.example.com"
          splitChars={[',', ' ']}
          clearable
          {...form.getInputProps('allowed_audiences')}
        />
        {dpopKnown && (
          <Switch
            label="Require DPoP"
            description="The agent gets only DPoP-bound tokens (RFC 9449): a token request without a DPoP proof fails with invalid_dpop_proof"
            {...form.getInputProps('require_dpop', { type: 'checkbox' })}
          />
        )}
        {withDelegates && (
          <DelegatesEditor
            value={form.values.delegates}
            onChange={(v) => form.setFieldValue('delegates', v)}
            selfId={initial?.agent_id}
            orgId={initial ? initial.org_id : form.values.org_id || defaultOrgId}
            error={form.errors.delegates}
          />
        )}
        <MetadataEditor
          value={form.values.metadata}
          onChange={(v) => form.setFieldValue('metadata', v)}
          error={form.errors.metadata}
          onBlur={() => form.validateField('metadata')}
        />
        <ErrorAlert error={error} title="Could not save the agent" />
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
