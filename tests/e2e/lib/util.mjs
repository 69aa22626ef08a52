// Small helpers shared by the end-to-end tests: temporary directories and child processes that
// are always cleaned up, free loopback ports, polling with a deadline, eSignet envelopes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.ESG_SOURCE_DIR || path.resolve(here, '..', '..', '..');
export const TESTS_DIR = path.join(SOURCE_DIR, 'tests');

// Everything a test started, so that an unexpected exit still stops it (the normal path stops
// each resource in a finally block or an after() hook).
const children = new Set();
const tempDirs = new Set();

export function trackChild(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

export function makeTempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

function emergencyCleanup() {
  for (const p of children) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', emergencyCleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    emergencyCleanup();
    process.exit(128 + (os.constants.signals[sig] || 1));
  });
}

// A port on 127.0.0.1 that was free a moment ago. Servers whose configuration must name their
// own port (the issuer URL, Apache's Listen) use it and retry with another one when the bind
// fails because someone took it meanwhile.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Calls fn until it returns a truthy value or the deadline passes (no fixed sleeps: the poll
// interval is short and the deadline bounds the wait).
export async function pollUntil(fn, { timeoutMs = 20000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastErr ? `: ${lastErr.message}` : ''));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Resolves when the process exits, or after timeoutMs with false.
export function waitExit(proc, timeoutMs) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

// SIGTERM, then SIGKILL if the process has not exited within graceMs.
export async function stopProcess(proc, graceMs = 20000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  if (!(await waitExit(proc, graceMs))) {
    proc.kill('SIGKILL');
    await waitExit(proc, 5000);
  }
}

export function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

export function sha256Hex(text) {
  return createHash('sha256').update(text).digest('hex');
}

export function randomToken(bytes = 24) {
  return randomBytes(bytes).toString('base64url');
}

// eSignet request envelope (spec §1.1): requestTime is yyyy-MM-ddTHH:mm:ss.SSSZ in UTC, which is
// exactly what Date.prototype.toISOString() produces (the login page uses it too).
export function envelope(request) {
  return { requestTime: new Date().toISOString(), request };
}

// Decodes a compact JWS/JWE header (no verification) for assertions about alg/enc/kid.
export function jwtHeader(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

// Shortens a body for error messages.
export function preview(text, max = 600) {
  if (text === undefined || text === null) return '';
  const s = typeof text === 'string' ? text : JSON.stringify(text);
  return s.length > max ? `${s.slice(0, max)}... (${s.length} bytes)` : s;
}
