import { act, renderHook, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { CursorPagination } from '../components/CursorPagination';
import { renderWithProviders } from '../test/utils';
import { currentCursor, emptyStack, popCursor, pushCursor, useCursorPager } from './cursorPager';

describe('cursor stack', () => {
  it('pushes and pops cursors', () => {
    let s = emptyStack;
    expect(currentCursor(s)).toBeNull();
    s = pushCursor(s, 'c2');
    s = pushCursor(s, 'c3');
    expect(currentCursor(s)).toBe('c3');
    s = popCursor(s);
    expect(currentCursor(s)).toBe('c2');
    s = popCursor(popCursor(s));
    expect(currentCursor(s)).toBeNull();
  });

  it('useCursorPager tracks page numbers and resets', () => {
    const { result } = renderHook(() => useCursorPager());
    expect(result.current).toMatchObject({ cursor: null, page: 1, hasPrevious: false });
    act(() => result.current.next('c2'));
    act(() => result.current.next('c3'));
    expect(result.current).toMatchObject({ cursor: 'c3', page: 3, hasPrevious: true });
    act(() => result.current.previous());
    expect(result.current).toMatchObject({ cursor: 'c2', page: 2 });
    act(() => result.current.reset());
    expect(result.current).toMatchObject({ cursor: null, page: 1, hasPrevious: false });
  });
});

// Three pages served by cursor: null → c2 → c3 (last).
const PAGES: Record<string, { items: string[]; next_cursor: string | null }> = {
  first: { items: ['a', 'b'], next_cursor: 'c2' },
  c2: { items: ['c', 'd'], next_cursor: 'c3' },
  c3: { items: ['e'], next_cursor: null },
};

function Demo() {
  const pager = useCursorPager();
  const [log] = useState<string[]>([]);
  const page = PAGES[pager.cursor ?? 'first'];
  log.push(pager.cursor ?? 'first');
  return (
    <div>
      <ul>
        {page.items.map((i) => (
          <li key={i}>{i}</li>
        ))}
      </ul>
      <CursorPagination pager={pager} nextCursor={page.next_cursor} />
    </div>
  );
}

describe('CursorPagination', () => {
  it('walks next and previous through keyset pages', async () => {
    const user = userEvent.setup({ delay: null });
    renderWithProviders(<Demo />);
    const next = () => screen.getByRole('button', { name: /next/i });
    const prev = () => screen.getByRole('button', { name: /previous/i });
    expect(screen.getByText('a')).toBeInTheDocument();
    expect(prev()).toBeDisabled();
    expect(screen.getByText('Page 1')).toBeInTheDocument();

    await user.click(next());
    expect(screen.getByText('c')).toBeInTheDocument();
    expect(screen.getByText('Page 2')).toBeInTheDocument();
    await user.click(next());
    expect(screen.getByText('e')).toBeInTheDocument();
    expect(next()).toBeDisabled();

    await user.click(prev());
    expect(screen.getByText('c')).toBeInTheDocument();
    await user.click(prev());
    expect(screen.getByText('a')).toBeInTheDocument();
    expect(prev()).toBeDisabled();
  });

  it('renders nothing on a single page', () => {
    function One() {
      const pager = useCursorPager();
      return <CursorPagination pager={pager} nextCursor={null} />;
    }
    renderWithProviders(<One />);
    expect(screen.queryByRole('navigation', { name: /pagination/i })).toBeNull();
  });
});
