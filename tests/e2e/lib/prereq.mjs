// Prerequisites of the end-to-end tests. A missing relying-party implementation (Node.js too old
// for fetch, the npm openid-client package, Apache, mod_auth_openidc) makes a test SKIP with
// exit code 77 and a message saying what to install; everything else (esignetd, its plugins, the
// demo identities) is part of this project and makes the test FAIL instead.
import { existsSync } from 'node:fs';
import { ESIGNETD, PLUGIN_DIR } from './esignetd.mjs';

export const SKIP = 77;

// With ESG_TESTS_REQUIRE_ALL=1 (tools/test.sh, hence CI) a missing prerequisite fails instead:
// there, setup has installed everything and a skip would hide a broken install step.
export function skip(reason) {
  const strict = process.env.ESG_TESTS_REQUIRE_ALL === '1';
  const msg = strict ? `FAIL (ESG_TESTS_REQUIRE_ALL=1 makes a skip a failure): ${reason}` : `SKIP: ${reason}`;
  process.stdout.write(`${msg}\n`);
  process.stderr.write(`${msg}\n`);
  process.exit(strict ? 1 : SKIP);
}

export function requireNode() {
  const major = parseInt(process.versions.node.split('.')[0], 10);
  if (major < 18 || typeof fetch !== 'function') {
    skip(`Node.js ${process.versions.node} has no global fetch; Node.js 18 or later is needed`);
  }
}

export async function requireOpenidClient() {
  try {
    return await import('openid-client');
  } catch (e) {
    return skip(`the npm package openid-client is not installed (cd tests && npm ci; tools/setup.sh --test): ${e.message}`);
  }
}

// The server under test must exist: its absence is a failure, not a skip.
export function serverProblem() {
  if (!existsSync(ESIGNETD)) return `esignetd not found at ${ESIGNETD} (set ESIGNETD or build first)`;
  if (!existsSync(`${PLUGIN_DIR}/identity-mock.so`)) return `plugin identity-mock.so not found in ${PLUGIN_DIR}`;
  return null;
}
