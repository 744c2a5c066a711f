import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { IssuedCredential } from '../api';
import { renderWithProviders } from '../test/utils';
import { SecretModal } from './SecretModal';

const ISSUED: IssuedCredential = {
  client_id: '6f1c2a34-1111-4c3b-9d2e-0123456789ab',
  client_secret: 'sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd',
  credential_id: '0e6d5c4b-2222-4a1b-8c7d-abcdefabcdef',
  expires_at: null,
};

function Harness({ onClosed }: { onClosed: () => void }) {
  const [issued, setIssued] = useState<IssuedCredential | null>(ISSUED);
  return (
    <SecretModal
      issued={issued}
      onClose={() => {
        setIssued(null);
        onClosed();
      }}
    />
  );
}

describe('SecretModal', () => {
  it('shows the secret once with a warning, copies it, and forgets it on close', async () => {
    const user = userEvent.setup({ delay: null });
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onClosed = vi.fn();
    renderWithProviders(<Harness onClosed={onClosed} />);

    expect(await screen.findByText(/you will not see this secret again/i)).toBeInTheDocument();
    const secretInput = screen.getByLabelText('Client secret') as HTMLInputElement;
    expect(secretInput.value).toBe(ISSUED.client_secret);
    expect(secretInput).toHaveAttribute('readonly');
    expect(screen.getByText(/does not expire/)).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Copy client secret' }));
    expect(writeText).toHaveBeenCalledWith(ISSUED.client_secret);
    await user.click(screen.getByRole('button', { name: 'Copy client id' }));
    expect(writeText).toHaveBeenCalledWith(ISSUED.client_id);

    // Escape does not dismiss it by accident.
    await user.keyboard('{Escape}');
    expect(screen.getByLabelText('Client secret')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: /i have stored the secret/i }));
    expect(onClosed).toHaveBeenCalledTimes(1);
    await vi.waitFor(() => expect(screen.queryByDisplayValue(ISSUED.client_secret)).toBeNull(), { timeout: 8000 });
    expect(document.body.innerHTML).not.toContain(ISSUED.client_secret);
  });
});
