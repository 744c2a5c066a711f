import { Text } from '@mantine/core';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { errorMessage, type Agent } from '../api';
import { useApi } from '../auth/AuthContext';

function fail(title: string, err: unknown) {
  notifications.show({ color: 'red', title, message: errorMessage(err), autoClose: 8000 });
}

/** Lifecycle actions on an agent, with confirm dialogs for the destructive ones. */
export function useAgentActions() {
  const api = useApi();
  const qc = useQueryClient();

  const refresh = useCallback(
    (agent?: Agent) => {
      if (agent) qc.setQueryData(['agent', agent.agent_id], agent);
      qc.invalidateQueries({ queryKey: ['agents'] });
      qc.invalidateQueries({ queryKey: ['agent'] });
      qc.invalidateQueries({ queryKey: ['audit'] });
      qc.invalidateQueries({ queryKey: ['usage'] });
    },
    [qc],
  );

  const suspend = useCallback(
    (a: Agent) =>
      modals.openConfirmModal({
        title: `Suspend ${a.name}?`,
        children: (
          <Text size="sm">
            The agent gets no new tokens and every token it holds stops working at once. You can reactivate it
            later.
          </Text>
        ),
        labels: { confirm: 'Suspend agent', cancel: 'Cancel' },
        confirmProps: { color: 'orange' },
        onConfirm: async () => {
          try {
            const updated = await api.suspendAgent(a.agent_id);
            refresh(updated);
            notifications.show({ color: 'orange', title: 'Agent suspended', message: a.name });
          } catch (err) {
            fail('Could not suspend the agent', err);
          }
        },
      }),
    [api, refresh],
  );

  const reactivate = useCallback(
    async (a: Agent) => {
      try {
        const updated = await api.reactivateAgent(a.agent_id);
        refresh(updated);
        notifications.show({ color: 'teal', title: 'Agent reactivated', message: a.name });
      } catch (err) {
        fail('Could not reactivate the agent', err);
      }
    },
    [api, refresh],
  );

  const decommission = useCallback(
    (a: Agent, after?: () => void) =>
      modals.openConfirmModal({
        title: `Decommission ${a.name}?`,
        children: (
          <Text size="sm">
            This is final. All of the agent's credentials are revoked and its tokens stop working. The agent
            cannot be reactivated.
          </Text>
        ),
        labels: { confirm: 'Decommission', cancel: 'Cancel' },
        confirmProps: { color: 'red' },
        onConfirm: async () => {
          try {
            await api.decommissionAgent(a.agent_id);
            refresh();
            notifications.show({ color: 'gray', title: 'Agent decommissioned', message: a.name });
            after?.();
          } catch (err) {
            fail('Could not decommission the agent', err);
          }
        },
      }),
    [api, refresh],
  );

  return { suspend, reactivate, decommission, refresh };
}
