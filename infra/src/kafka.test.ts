import { describe, expect, it } from 'vitest';
import { makeClusterId } from './kafka.ts';

describe('makeClusterId', () => {
  it('makes 22 base64url characters', () => {
    for (let i = 0; i < 200; i++) expect(makeClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('never starts with "-", which the storage tool would read as an option', () => {
    // 0xf8 as the first byte encodes to "-" first in base64url.
    const uuids = ['f8000000-0000-4000-8000-000000000000', '12345678-0000-4000-8000-000000000000'];
    const id = makeClusterId(() => uuids.shift()!);
    expect(Buffer.from('f8', 'hex').toString('base64url')).toBe('-A');
    expect(id).toBe(Buffer.from('12345678000040008000000000000000', 'hex').toString('base64url'));
    expect(uuids).toEqual([]);
  });
});
