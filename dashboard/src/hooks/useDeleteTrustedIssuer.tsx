import { Code, Stack, Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { errorMessage, type TrustedIssuer } from '../api';
import { useApi } from '../auth/AuthContext';

/**
 * Deleting a trusted issuer after a confirmation that says what it does: it revokes every
 * credential bound to it. A refusal (403: no authority over a bound agent; 409: it would
 * take an organization's last admin its last credential) shows the server's detail.
 */
export function useDeleteTrustedIssuer() {
  const api = useApi();
  const qc = useQueryClient();
  return (ti: TrustedIssuer, onDeleted?: () => void) =>
    modals.openConfirmModal({
      title: 'Delete trusted issuer?',
      children: (
        <Stack gap="xs">
          <Text size="sm">
            <Code>{ti.issuer}</Code> will no longer be trusted.
          </Text>
          <Text size="sm" fw={500}>
            This revokes every credential bound to it: each agent's federated credential for this issuer stops working
            now, and so do the tokens it minted.
          </Text>
          <Text size="sm" c="dimmed">
            It cannot be undone; the issuer can be registered again afterwards, with new credentials.
          </Text>
        </Stack>
      ),
      labels: { confirm: 'Delete and revoke', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: async () => {
        try {
          await api.deleteTrustedIssuer(ti.trusted_issuer_id);
          qc.removeQueries({ queryKey: ['trusted-issuer', ti.trusted_issuer_id] });
          qc.invalidateQueries({ queryKey: ['trusted-issuers'] });
          qc.invalidateQueries({ queryKey: ['credentials'] });
          qc.invalidateQueries({ queryKey: ['audit'] });
          notifications.show({ color: 'gray', title: 'Trusted issuer deleted', message: ti.issuer });
          onDeleted?.();
        } catch (err) {
          notifications.show({ color: 'red', title: 'Could not delete the trusted issuer', message: errorMessage(err), autoClose: 10000 });
        }
      },
    });
}
