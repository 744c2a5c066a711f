import { describe, expect, it, vi } from 'vitest';
import { CheckpointError, keyLabel, loadVerifiedCheckpoint, verifyCheckpoint } from './checkpointTrust';
import { bytesToHex } from './merkle';

// The signed checkpoint of lib/signedNote.test.ts (note.Sign) and note's own example.
const AUDIT = 'idp.example/audit+8a6ef0a3+AfRKHLFprDRiZgAfB7VGfnZZGQGef/VO6XCqzJ+kBE5O';
const NOTE =
  'idp.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n' +
  '— idp.example/audit im7wo9XXdvkWGeZKrxP1CUy3ZR9lGKzH3sEOGfSm7067TrajCsIWzOCKKwgyn+zUjdK5xcNS+6ZSKQQ2Hz6U9uv59wU=\n';
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_NOTE =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n" +
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('checkpoint trust', () => {
  it('reads the checkpoint from the verified text', async () => {
    const c = await verifyCheckpoint(NOTE, AUDIT, 'pinned');
    expect([c.origin, c.size, bytesToHex(c.root).slice(0, 8), keyLabel(c.key)]).toEqual(['idp.example/audit', 8, '5dc9da79', 'idp.example/audit+8a6ef0a3']);
  });

  it('refuses a bad key, another origin, a signed note that is no checkpoint and a bad signature, naming whose key', async () => {
    expect(await refusal(verifyCheckpoint(NOTE, 'nonsense', 'pinned'))).toMatch(/^Your pinned key is not a verifier key/);
    expect(await refusal(verifyCheckpoint(NOTE, 'nonsense', 'server'))).toMatch(/^The server's key is not a verifier key/);
    expect(await refusal(verifyCheckpoint(NOTE, PETER, 'pinned'))).toMatch(/named PeterNeumann, not the checkpoint's origin idp\.example\/audit/);
    expect(await refusal(verifyCheckpoint(PETER_NOTE, PETER, 'pinned'))).toMatch(/^The checkpoint is malformed: its text is not/);
    expect(await refusal(verifyCheckpoint('idp.example/audit\n8\n', AUDIT, 'server'))).toMatch(/^The checkpoint is malformed: The note has no signature block/);
    expect(await refusal(verifyCheckpoint(NOTE.replace('\n8\n', '\n7\n'), AUDIT, 'server'))).toMatch(/^Checked with the server's key: The signature by idp\.example\/audit\+8a6ef0a3 does not verify/);
  });

  it("loads with the pinned key without asking for the server's, and with the server's when none is pinned", async () => {
    const api = {
      auditCheckpoint: vi.fn(async () => ({ note: NOTE, signedAt: null })),
      auditCheckpointKey: vi.fn(async () => AUDIT),
    };
    expect((await loadVerifiedCheckpoint(api, AUDIT))?.source).toBe('pinned');
    expect(api.auditCheckpointKey).not.toHaveBeenCalled();
    expect((await loadVerifiedCheckpoint(api, '  '))?.source).toBe('server');
    expect(api.auditCheckpointKey).toHaveBeenCalledTimes(1);
    api.auditCheckpoint.mockResolvedValueOnce(null as never);
    expect(await loadVerifiedCheckpoint(api, AUDIT)).toBeNull();
  });
});
