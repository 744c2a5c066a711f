import { Badge, Group, Select, Stack, Text, Tooltip } from '@mantine/core';
import { IconBuilding } from '@tabler/icons-react';
import { ALL_ORGS, switcherOptions } from '../lib/orgs';
import { useOrgScope } from '../org/OrgScope';

/**
 * The organization the console shows. An operator (orgs:admin) picks one, or all of
 * them; anyone else sees the name of its own organization, and nothing to switch.
 */
export function OrgSwitcher({ onSwitched }: { onSwitched?: () => void }) {
  const scope = useOrgScope();
  if (scope.operator) {
    return (
      <Select
        label="Organization"
        size="xs"
        leftSection={<IconBuilding size={14} />}
        data={switcherOptions(scope.orgs)}
        value={scope.selected}
        onChange={(v) => {
          scope.setSelected(v ?? ALL_ORGS);
          onSwitched?.();
        }}
        allowDeselect={false}
        searchable
        nothingFoundMessage="No such organization"
        disabled={scope.orgsLoading}
        description={scope.truncated ? `The first ${scope.orgs.length} organizations` : undefined}
        comboboxProps={{ withinPortal: true }}
        px="sm"
        pb="xs"
      />
    );
  }
  const own = scope.ownOrg;
  return (
    <Stack gap={0} px="sm" pb="xs" aria-label="Your organization" role="group">
      <Text size="xs" c="dimmed">
        Organization
      </Text>
      <Group gap={6} wrap="nowrap">
        <IconBuilding size={14} />
        <Tooltip label={scope.ownOrgId}>
          <Text size="sm" fw={500} lineClamp={2} style={{ wordBreak: 'break-word' }} data-testid="own-org-name">
            {scope.orgName(scope.ownOrgId)}
          </Text>
        </Tooltip>
        {own?.status === 'suspended' && (
          <Badge color="yellow" variant="light" size="xs">
            suspended
          </Badge>
        )}
      </Group>
    </Stack>
  );
}
