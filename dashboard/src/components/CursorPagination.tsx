import { Button, Group, Text } from '@mantine/core';
import { IconChevronLeft, IconChevronRight } from '@tabler/icons-react';
import type { CursorPager } from '../lib/cursorPager';

export function CursorPagination({
  pager,
  nextCursor,
  loading,
}: {
  pager: CursorPager;
  nextCursor: string | null | undefined;
  loading?: boolean;
}) {
  if (!pager.hasPrevious && !nextCursor) return null;
  return (
    <Group justify="space-between" mt="md" component="nav" aria-label="Pagination">
      <Button
        variant="default"
        leftSection={<IconChevronLeft size={16} />}
        disabled={!pager.hasPrevious || loading}
        onClick={pager.previous}
      >
        Previous
      </Button>
      <Text size="sm" c="dimmed" aria-live="polite">
        Page {pager.page}
      </Text>
      <Button
        variant="default"
        rightSection={<IconChevronRight size={16} />}
        disabled={!nextCursor || loading}
        onClick={() => nextCursor && pager.next(nextCursor)}
      >
        Next
      </Button>
    </Group>
  );
}
