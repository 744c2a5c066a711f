import { Anchor, EmptyState } from '@mantine/core';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <EmptyState
      mt="xl"
      title="Page not found"
      description={
        <>
          There is nothing here. Go to the{' '}
          <Anchor component={Link} to="/">
            overview
          </Anchor>
          .
        </>
      }
    />
  );
}
