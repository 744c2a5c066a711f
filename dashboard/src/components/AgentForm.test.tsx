import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, ROOT_ORG_ID, type Agent } from '../api';
import { renderWithProviders, fill } from '../test/utils';
import { AgentForm, fieldErrorsToForm, scopeChoices, valuesToPayload, agentToValues } from './AgentForm';

const AGENT: Agent = {
  agent_id: 'a1',
  name: 'billing-bot',
  description: '',
  owner: 'team-billing',
  status: 'active',
  allowed_scopes: ['agents:read'],
  allowed_audiences: ['https://api.example.com'],
  plan: 'free',
  metadata: { team: 'billing' },
  created_at: '2026-11-01T00:00:00Z',
  updated_at: '2026-11-01T00:00:00Z',
};

describe('AgentForm', () => {
  it('blocks submit while the metadata is not a JSON object', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={onSubmit} />);
    await fill(user, screen.getByLabelText(/^name/i), 'bot');
    const meta = screen.getByLabelText(/metadata/i);
    fireEvent.change(meta, { target: { value: '[1, 2]' } });
    expect(await screen.findByText('Metadata must be a JSON object, not an array.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    expect(onSubmit).not.toHaveBeenCalled();

    fireEvent.change(meta, { target: { value: '{"a": ' } });
    expect(await screen.findByText(/Not valid JSON/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Format' })).toBeDisabled();

    fireEvent.change(meta, { target: { value: '{"a":1}' } });
    expect(await screen.findByText('Valid JSON object')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Format' }));
    expect((meta as HTMLTextAreaElement).value).toBe('{\n  "a": 1\n}');

    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0][0]).toEqual({
      name: 'bot',
      description: '',
      owner: '',
      plan: 'free',
      allowed_scopes: [],
      allowed_audiences: [],
      metadata: { a: 1 },
    });
  });

  it('rejects oversized metadata', async () => {
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={vi.fn()} />);
    fireEvent.change(screen.getByLabelText(/metadata/i), { target: { value: JSON.stringify({ big: 'x'.repeat(9000) }) } });
    expect(await screen.findByText(/the limit is 8192 bytes/)).toBeInTheDocument();
  });

  it('requires a name and absolute audience URIs', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn();
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={onSubmit} />);
    const aud = screen.getByPlaceholderText('https://api.example.com');
    await user.type(aud, 'api.example.com{enter}');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    expect(await screen.findByText('Name is required')).toBeInTheDocument();
    expect(screen.getByText('Not an absolute URI: api.example.com')).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows per-field errors from a validation_failed problem', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError({
        status: 400,
        code: 'validation_failed',
        detail: 'The request has invalid fields.',
        errors: [
          { field: 'name', message: 'name is already taken' },
          { field: 'allowed_audiences[0]', message: 'must be an absolute URI' },
        ],
      }),
    );
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={onSubmit} />);
    await fill(user, screen.getByLabelText(/^name/i), 'dup');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    expect(await screen.findByText('name is already taken')).toBeInTheDocument();
    expect(screen.getByText('must be an absolute URI')).toBeInTheDocument();
  });

  it('shows the problem detail when no field can be matched', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError({ status: 409, code: 'conflict', detail: 'The free plan allows at most 100 agents.' }),
    );
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={onSubmit} />);
    await fill(user, screen.getByLabelText(/^name/i), 'one-too-many');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    expect(await screen.findByText('The free plan allows at most 100 agents.')).toBeInTheDocument();
  });

  it('sends only changed fields on edit', () => {
    const v = agentToValues(AGENT);
    expect(valuesToPayload(v, AGENT)).toEqual({});
    expect(valuesToPayload({ ...v, owner: 'team-x', allowed_scopes: ['agents:read', 'audit:read'] }, AGENT)).toEqual({
      owner: 'team-x',
      allowed_scopes: ['agents:read', 'audit:read'],
    });
    expect(valuesToPayload({ ...v, metadata: '{\n "team": "billing"\n}' }, AGENT)).toEqual({});
    expect(valuesToPayload({ ...v, metadata: '{}' }, AGENT)).toEqual({ metadata: {} });
  });

  it('maps server field names to form fields', () => {
    const err = new ApiError({
      status: 400,
      errors: [
        { field: '/metadata', message: 'too big' },
        { field: 'allowed_scopes.1', message: 'unknown scope' },
        { field: 'weird', message: 'nope' },
      ],
    });
    expect(fieldErrorsToForm(err)).toEqual({
      mapped: { metadata: 'too big', allowed_scopes: 'unknown scope' },
      unmapped: ['weird: nope'],
    });
  });

  it('lets an operator pick the organization on create, and sends it', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const TEAM = '0000000a-0000-4000-8000-000000000000';
    renderWithProviders(
      <AgentForm
        initial={null}
        submitLabel="Create agent"
        onSubmit={onSubmit}
        orgOptions={[
          { value: ROOT_ORG_ID, label: 'root' },
          { value: TEAM, label: 'team-a' },
        ]}
        defaultOrgId={ROOT_ORG_ID}
      />,
    );
    const picker = screen.getByLabelText(/^organization/i, { selector: 'input' });
    expect(picker).toHaveValue('root');
    await user.click(picker);
    await user.click(await screen.findByRole('option', { name: 'team-a', hidden: true }));
    await fill(user, screen.getByLabelText(/^name/i), 'bot');
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0][0]).toMatchObject({ org_id: TEAM, name: 'bot' });
  });

  it('offers root-only scopes for root agents only', () => {
    expect(scopeChoices(ROOT_ORG_ID)).toContain('orgs:admin');
    expect(scopeChoices(undefined)).toContain('keys:admin');
    const team = scopeChoices('0000000a-0000-4000-8000-000000000000');
    expect(team).not.toContain('orgs:admin');
    expect(team).not.toContain('keys:admin');
    expect(team).toContain('apis:write');
    // One the agent holds already stays visible (so that it can be removed).
    expect(scopeChoices('0000000a-0000-4000-8000-000000000000', ['keys:admin'])).toContain('keys:admin');
  });

  it('sends require_dpop on create only when switched on, and delegates only where the server has them', async () => {
    const user = userEvent.setup({ delay: null });
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const peer = '0193a000-0000-7000-8000-00000000000b';
    renderWithProviders(<AgentForm initial={null} submitLabel="Create agent" onSubmit={onSubmit} delegatesSupported />);
    await fill(user, screen.getByLabelText(/^name/i), 'bot');
    await user.click(screen.getByRole('switch', { name: /Require DPoP/ }));
    await fill(user, screen.getByRole('textbox', { name: 'Delegate agent id' }), 'nope');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(await screen.findByText('An agent id is a UUID')).toBeInTheDocument();
    const byId = screen.getByRole('textbox', { name: 'Delegate agent id' });
    await user.clear(byId);
    await fill(user, byId, peer);
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(await screen.findByRole('group', { name: `Delegate ${peer}` })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Create agent' }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0][0]).toMatchObject({ name: 'bot', require_dpop: true, delegates: [peer] });

    const v = agentToValues(null);
    expect(valuesToPayload({ ...v, name: 'x' }, null)).not.toHaveProperty('require_dpop');
    expect(valuesToPayload({ ...v, name: 'x', delegates: [peer] }, null, false)).not.toHaveProperty('delegates');
    // On edit: only what changed.
    const withBoth = { ...AGENT, require_dpop: false, delegates: [peer] };
    expect(valuesToPayload(agentToValues(withBoth), withBoth, true)).toEqual({});
    expect(valuesToPayload({ ...agentToValues(withBoth), require_dpop: true, delegates: [] }, withBoth, true)).toEqual({
      require_dpop: true,
      delegates: [],
    });
  });
});
