// The real server for the end-to-end and interoperability tests: built with `go build`,
// started on the embedded default (SQLite and the in-process cache in a fresh data
// directory) on a free port of 127.0.0.1, with a bootstrap admin the test chooses, and
// stopped with SIGTERM (SIGKILL after 10 s).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (dashboard/..). */
export const ROOT = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A fresh admin: a UUID client id and a secret in the server's format (sk_live_ + 43). */
export function newAdmin() {
  return { id: randomUUID(), secret: 'sk_live_' + randomBytes(32).toString('base64url') };
}

/** Builds ./cmd/agentidp into dir and returns the binary's path. */
export function buildServer(dir, timeoutMs) {
  const bin = path.join(dir, 'agentidp');
  const b = spawnSync('go', ['build', '-o', bin, './cmd/agentidp'], { cwd: ROOT, stdio: 'inherit', timeout: timeoutMs });
  if (b.error || b.status !== 0) throw new Error(`go build failed (${b.error?.message ?? `exit ${b.status}`}); the server can't be tested`);
  return bin;
}

/** Polls /readyz until it answers 200, the process exits, or ms pass. */
export async function waitReady(base, proc, ms, logFile = 'the server log') {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`server exited with code ${proc.exitCode} before it was ready (see ${logFile})`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `readyz ${res.status}`;
    } catch (e) {
      last = String(e.cause?.code ?? e.message);
    }
    await sleep(300);
  }
  throw new Error(`server not ready after ${ms} ms (${last})`);
}

/**
 * Starts `bin serve` on the embedded default in workDir/data, listening on port, with the
 * given admin; its output goes to logFile. Resolves with the process once /readyz is 200.
 * No AGENTIDP_* or VAULT_* variable of the caller's environment reaches it.
 */
export async function startServer({ bin, workDir, port, base, admin, logFile }) {
  const dataDir = path.join(workDir, 'data');
  mkdirSync(dataDir);
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AGENTIDP_') || k.startsWith('VAULT_')) delete env[k];
  Object.assign(env, {
    AGENTIDP_DATA_DIR: dataDir,
    AGENTIDP_HTTP_ADDR: `127.0.0.1:${port}`,
    AGENTIDP_ISSUER: base,
    AGENTIDP_AUDIT_CHECKPOINT_INTERVAL: '1s',
    AGENTIDP_BOOTSTRAP_CLIENT_ID: admin.id,
    AGENTIDP_BOOTSTRAP_CLIENT_SECRET: admin.secret,
  });
  const out = createWriteStream(logFile);
  const proc = spawn(bin, ['serve'], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  await waitReady(base, proc, 60_000, logFile);
  return proc;
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
export async function stopServer(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
