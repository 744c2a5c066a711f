import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, type TrustedIssuer } from '../api';
import { fill, renderWithProviders } from '../test/utils';
import { IssueCredentialModal } from './IssueCredentialModal';

const EC_PUBLIC = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'ec-1',
};
const ISSUER: TrustedIssuer = {
  trusted_issuer_id: '0193b000-0000-7000-8000-0000000000f1',
  org_id: '00000000-0000-0000-0000-000000000001',
  issuer: 'https://kubernetes.default.svc',
  jwks_uri: 'https://k8s.example/openid/v1/jwks',
  created_at: '2026-12-05T00:00:00Z',
};

function open(onIssue: (b: unknown) => Promise<void>, issuers: TrustedIssuer[] | undefined = [ISSUER]) {
  renderWithProviders(<IssueCredentialModal opened onClose={vi.fn()} onIssue={onIssue} issuers={issuers} />);
  return screen.getByRole('dialog');
}

describe('IssueCredentialModal', () => {
  it('issues a secret by default, with no type sent', async () => {
    const user = userEvent.setup({ delay: null });
    const onIssue = vi.fn().mockResolvedValue(undefined);
    const d = open(onIssue);
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    await waitFor(() => expect(onIssue).toHaveBeenCalledWith({}));
  });

  it('refuses a pasted key set with a private key before sending, then sends the public one', async () => {
    const user = userEvent.setup({ delay: null });
    const onIssue = vi.fn().mockResolvedValue(undefined);
    const d = open(onIssue);
    await user.click(within(d).getByRole('radio', { name: 'Public key' }));
    const box = within(d).getByLabelText(/Public key set \(JWKS\)/);

    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    expect(await within(d).findByText(/Paste the public key set/)).toBeInTheDocument();

    fireEvent.change(box, { target: { value: JSON.stringify({ keys: [{ ...EC_PUBLIC, d: 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI' }] }) } });
    expect(await within(d).findByText(/Key 1 is a private or symmetric key \(it has "d"\)/)).toBeInTheDocument();
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    expect(onIssue).not.toHaveBeenCalled();

    fireEvent.change(box, { target: { value: '{"kty": "EC"}' } });
    expect(await within(d).findByText(/single key, not a key set/)).toBeInTheDocument();

    fireEvent.change(box, { target: { value: JSON.stringify({ keys: [EC_PUBLIC] }) } });
    expect(await within(d).findByText('ec-1')).toBeInTheDocument();
    expect(within(d).getByText('1 public key:')).toBeInTheDocument();
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    await waitFor(() => expect(onIssue).toHaveBeenCalledWith({ type: 'private_key_jwt', jwks: { keys: [EC_PUBLIC] } }));
  });

  it("shows the server's refusal of a key set: its detail and its field message", async () => {
    const user = userEvent.setup({ delay: null });
    const onIssue = vi.fn().mockRejectedValue(
      new ApiError({
        status: 400,
        code: 'validation_failed',
        detail: 'The request has invalid fields.',
        errors: [{ field: 'jwks', message: 'key 1: RSA keys must have at least 2048 bits' }],
        requestId: 'req-9',
      }),
    );
    const d = open(onIssue);
    await user.click(within(d).getByRole('radio', { name: 'Public key' }));
    fireEvent.change(within(d).getByLabelText(/Public key set \(JWKS\)/), {
      target: { value: JSON.stringify({ keys: [{ kty: 'RSA', n: 'sXch', e: 'AQAB', kid: 'small' }] }) },
    });
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    expect(await within(d).findByText('key 1: RSA keys must have at least 2048 bits')).toBeInTheDocument();
    const alert = within(d).getByRole('alert');
    expect(alert).toHaveTextContent('The request has invalid fields.');
    expect(alert).toHaveTextContent('req-9');
  });

  it('issues a federated credential: a trusted issuer picked by its name, sent by id, and the subject', async () => {
    const user = userEvent.setup({ delay: null });
    const onIssue = vi.fn().mockResolvedValue(undefined);
    const d = open(onIssue);
    await user.click(within(d).getByRole('radio', { name: 'Federated' }));
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    expect(await within(d).findByText('Pick a trusted issuer')).toBeInTheDocument();
    expect(within(d).getByText('The subject is required')).toBeInTheDocument();
    expect(onIssue).not.toHaveBeenCalled();

    await user.click(within(d).getByRole('combobox', { name: /Trusted issuer/ }));
    await user.click(await screen.findByRole('option', { name: ISSUER.issuer, hidden: true }));
    await fill(user, within(d).getByRole('textbox', { name: /Subject/ }), 'system:serviceaccount:billing:agent');
    await user.click(within(d).getByRole('button', { name: 'Issue credential' }));
    await waitFor(() =>
      expect(onIssue).toHaveBeenCalledWith({
        type: 'federated',
        trusted_issuer_id: ISSUER.trusted_issuer_id,
        subject: 'system:serviceaccount:billing:agent',
      }),
    );
  });

  it('says so when the organization trusts no issuer', async () => {
    const user = userEvent.setup({ delay: null });
    const d = open(vi.fn(), []);
    await user.click(within(d).getByRole('radio', { name: 'Federated' }));
    expect(within(d).getByText(/trusts no issuer yet/)).toBeInTheDocument();
    expect(within(d).getByRole('link', { name: 'Register one' })).toHaveAttribute('href', '/trusted-issuers');
  });
});
