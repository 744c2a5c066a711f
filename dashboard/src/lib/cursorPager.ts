import { useCallback, useMemo, useState } from 'react';

/**
 * Keyset pagination over `next_cursor` lists: a stack of the cursors that led
 * to each page after the first. "Next" pushes the page's next_cursor,
 * "previous" pops, and a change of filters resets to the first page.
 */
export interface CursorStack {
  readonly stack: readonly string[];
}

export const emptyStack: CursorStack = { stack: [] };

export function pushCursor(s: CursorStack, cursor: string): CursorStack {
  return { stack: [...s.stack, cursor] };
}

export function popCursor(s: CursorStack): CursorStack {
  return s.stack.length ? { stack: s.stack.slice(0, -1) } : s;
}

export function currentCursor(s: CursorStack): string | null {
  return s.stack.length ? s.stack[s.stack.length - 1] : null;
}

export interface CursorPager {
  cursor: string | null;
  page: number;
  hasPrevious: boolean;
  next: (nextCursor: string) => void;
  previous: () => void;
  reset: () => void;
}

export function useCursorPager(): CursorPager {
  const [state, setState] = useState<CursorStack>(emptyStack);
  const next = useCallback((c: string) => setState((s) => pushCursor(s, c)), []);
  const previous = useCallback(() => setState(popCursor), []);
  const reset = useCallback(() => setState(emptyStack), []);
  return useMemo(
    () => ({
      cursor: currentCursor(state),
      page: state.stack.length + 1,
      hasPrevious: state.stack.length > 0,
      next,
      previous,
      reset,
    }),
    [state, next, previous, reset],
  );
}
