import { describe, expect, it } from 'vitest';
import { addDelegate, delegateError, removeDelegate, sameDelegates } from './delegates';

const SELF = '0193a000-0000-7000-8000-000000000001';
const B = '0193a000-0000-7000-8000-00000000000b';
const C = '0193a000-0000-7000-8000-00000000000c';

describe('delegates', () => {
  it('checks an id before adding it', () => {
    expect(delegateError('', SELF, [])).toMatch(/Enter an agent id/);
    expect(delegateError('not-a-uuid', SELF, [])).toMatch(/UUID/);
    expect(delegateError(SELF, SELF, [])).toMatch(/its own delegate/);
    expect(delegateError(SELF.toUpperCase(), SELF, [])).toMatch(/its own delegate/);
    expect(delegateError(B, SELF, [B])).toMatch(/Already/);
    expect(delegateError(` ${C} `, SELF, [B])).toBeNull();
    expect(delegateError(C, undefined, [])).toBeNull();
  });

  it('adds once, in canonical lower case, and removes', () => {
    expect(addDelegate([B], ` ${C.toUpperCase()} `)).toEqual([B, C]);
    expect(addDelegate([B], B)).toEqual([B]);
    expect(removeDelegate([B, C], B)).toEqual([C]);
  });

  it('compares as sets', () => {
    expect(sameDelegates([B, C], [C, B])).toBe(true);
    expect(sameDelegates([B], [B, C])).toBe(false);
    expect(sameDelegates([], [])).toBe(true);
  });
});
