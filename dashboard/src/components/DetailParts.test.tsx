import { useQuery } from '@tanstack/react-query';
import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { renderWithProviders } from '../test/utils';
import { BackLink, DetailState } from './DetailParts';
import { ScopeRequired } from './ScopeRequired';

function Detail({ fail }: { fail: () => Promise<never> | Promise<string> }) {
  const q = useQuery({ queryKey: ['thing'], queryFn: fail });
  const back = <BackLink to="/things">Things</BackLink>;
  if (!q.isSuccess) return <DetailState query={q} back={back} noun="trusted issuer" notFound="No thing has the id x." />;
  return <p>{q.data}</p>;
}

describe('detail page parts', () => {
  it('shows the back link with a loader, then "not found" for a 404', async () => {
    let reject: (e: unknown) => void = () => {};
    renderWithProviders(<Detail fail={() => new Promise<never>((_, r) => (reject = r))} />);
    expect(screen.getByRole('link', { name: 'Things' })).toHaveAttribute('href', '/things');
    expect(screen.getByLabelText('Loading trusted issuer')).toBeInTheDocument();
    reject(new ApiError({ status: 404, detail: 'gone' }));
    expect(await screen.findByText('Trusted issuer not found')).toBeInTheDocument();
    expect(screen.getByText('No thing has the id x.')).toBeInTheDocument();
    expect(screen.queryByLabelText('Loading trusted issuer')).toBeNull();
  });

  it('shows any other error with its detail', async () => {
    renderWithProviders(<Detail fail={() => Promise.reject(new ApiError({ status: 500, detail: 'database down' }))} />);
    expect(await screen.findByText('Could not load the trusted issuer')).toBeInTheDocument();
    expect(screen.getByText('database down')).toBeInTheDocument();
  });

  it('names the scope a page needs', () => {
    renderWithProviders(<ScopeRequired title="Signing keys" scope="keys:admin" />);
    expect(screen.getByRole('heading', { name: 'Signing keys' })).toBeInTheDocument();
    expect(screen.getByText('keys:admin')).toBeInTheDocument();
  });
});
