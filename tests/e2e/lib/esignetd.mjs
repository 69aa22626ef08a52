// Starts esignetd on 127.0.0.1 with a generated configuration for the end-to-end tests: the
// identity-mock back-end with the demo identities, a client-management admin token, and an
// issuer equal to the address the server listens on (relying parties check it, so the port is
// chosen before start and the start is retried on another port if that one was taken).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  SOURCE_DIR, envelope, freePort, makeTempDir, preview, randomToken, removeTempDir, sha256Hex,
  stopProcess, trackChild,
} from './util.mjs';

export const ESIGNETD = process.env.ESIGNETD || path.join(SOURCE_DIR, 'build', 'esignetd');
export const PLUGIN_DIR = process.env.ESG_PLUGIN_DIR || path.join(SOURCE_DIR, 'build', 'modules');
export const IDENTITIES = process.env.E2E_IDENTITIES || path.join(SOURCE_DIR, 'config', 'identities.json');
export const BASE_PATH = '/v1/esignet';

function configText({ port, tmp, adminTokenSha256, tokenSigningAlg, oidcExtra }) {
  return `issuer: http://127.0.0.1:${port}
base_path: ${BASE_PATH}
server:
  listen: ["127.0.0.1:${port}"]
  workers: 2
  timeouts:
    shutdown: 5s
log:
  level: info
  access: true
plugins:
  dirs: [${JSON.stringify(PLUGIN_DIR)}]
  load: [keystore-file, storage-sqlite, identity-mock]
  # The demo password hash is PBKDF2 with 600 000 rounds; on a CI machine loaded with Chromium
  # and sanitizer builds the default 5 s deadline is too tight for it (deadlines have their own
  # tests in tests/abi).
  call_timeout: 30s
storage:
  inflight:
    type: memory
  persistent:
    type: sqlite
    options:
      path: ${JSON.stringify(path.join(tmp, 'esignet.db'))}
key_stores:
  - name: main
    type: file
    options:
      dir: ${JSON.stringify(path.join(tmp, 'keys'))}
      algorithms: [RS256, ES256]
      retain: 1h
keys:
  default_store: main
  token_signing_alg: ${tokenSigningAlg}
identity_backends:
  - name: mock
    type: mock
    options:
      identities: ${JSON.stringify(IDENTITIES)}
      fixed_otp: "111111"
oidc:
  clients:
    admin_token_sha256: ${adminTokenSha256}
${oidcExtra ? oidcExtra.replace(/^/gm, '  ') : ''}
`;
}

export class Esignetd {
  // tokenSigningAlg: keys.token_signing_alg; oidcExtra: more YAML lines for the oidc section.
  constructor({ tokenSigningAlg = 'RS256', oidcExtra = '' } = {}) {
    this.tokenSigningAlg = tokenSigningAlg;
    this.oidcExtra = oidcExtra;
    this.adminToken = randomToken(32);
    this.proc = null;
    this.tmp = null;
    this.port = null;
    this.lines = [];
  }

  get issuer() {
    return `http://127.0.0.1:${this.port}`;
  }

  get apiBase() {
    return `${this.issuer}${BASE_PATH}`;
  }

  async start({ attempts = 3, timeoutMs = 60000 } = {}) {
    let lastErr;
    for (let i = 0; i < attempts; i++) {
      try {
        await this.startOnce(await freePort(), timeoutMs);
        return this;
      } catch (e) {
        lastErr = e;
        await this.stop().catch((stopErr) => { lastErr.message += `\n${stopErr.message}`; });
        // Only a port taken meanwhile is worth another try.
        if (!/address already in use|EADDRINUSE|bind/i.test(e.message)) break;
      }
    }
    throw lastErr;
  }

  startOnce(port, timeoutMs) {
    this.tmp = makeTempDir('esignet-e2e-');
    this.port = port;
    this.lines = [];
    const configPath = path.join(this.tmp, 'esignet.yaml');
    writeFileSync(configPath, configText({
      port, tmp: this.tmp, adminTokenSha256: sha256Hex(this.adminToken),
      tokenSigningAlg: this.tokenSigningAlg, oidcExtra: this.oidcExtra,
    }), { mode: 0o600 });
    this.configPath = configPath;
    return new Promise((resolve, reject) => {
      const proc = trackChild(spawn(ESIGNETD, ['--config', configPath], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }));
      this.proc = proc;
      const timer = setTimeout(() => {
        reject(new Error(`esignetd did not become ready in ${timeoutMs} ms:\n${this.logTail()}`));
      }, timeoutMs);
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${ESIGNETD}: ${e.message}`));
      });
      proc.on('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`esignetd exited (${code ?? sig}) before it was ready:\n${this.logTail()}`));
      });
      readline.createInterface({ input: proc.stderr }).on('line', (line) => {
        this.lines.push(line);
        let ev;
        try {
          ev = JSON.parse(line);
        } catch {
          return;
        }
        if (ev.event === 'server.ready') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  logTail(n = 40) {
    return this.lines.slice(-n).join('\n');
  }

  // Parsed log events named `name` (for diagnostics in failure messages).
  events(name) {
    return this.lines.map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    }).filter((e) => e && e.event === name);
  }

  // Stops the server; throws when it did not exit cleanly: a sanitizer report (the CI build runs
  // under ASan/UBSan, leaks included) or a non-zero status after SIGTERM. Cleans up either way.
  async stop() {
    const proc = this.proc;
    this.proc = null;
    const running = proc && proc.exitCode === null && proc.signalCode === null;
    await stopProcess(proc);
    // stderr may still hold the end of a sanitizer report: wait until it is fully read.
    if (proc && proc.stderr && !proc.stderr.readableEnded) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 5000);
        proc.stderr.once('close', () => { clearTimeout(t); resolve(); });
      });
    }
    removeTempDir(this.tmp);
    this.tmp = null;
    if (!proc) return;
    const at = this.lines.findIndex((l) => l.includes('Sanitizer') || l.includes('runtime error:'));
    if (at >= 0) {
      throw new Error(`esignetd sanitizer report:\n${this.lines.slice(at, at + 60).join('\n')}`);
    }
    if (running && proc.exitCode !== 0) {
      throw new Error(`esignetd exited with ${proc.exitCode ?? proc.signalCode} after SIGTERM:\n${this.logTail(20)}`);
    }
  }

  async getJson(pathOrUrl) {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.issuer}${pathOrUrl}`;
    const res = await fetch(url, { headers: { accept: 'application/json' } });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  // Registers a client through the v3 client-management API (spec §12) and returns the request
  // that was sent. Throws with the exchange when the server refuses.
  async registerClient({
    clientId, publicJwk, redirectUris, userClaims, relyingPartyId, encPublicJwk,
    authContextRefs = ['mosip:idp:acr:generated-code'], additionalConfig = {},
    clientName = `e2e ${clientId}`,
  }) {
    const request = {
      clientId,
      clientName,
      publicKey: publicJwk,
      relyingPartyId: relyingPartyId || `rp-${clientId}`,
      userClaims,
      authContextRefs,
      logoUri: 'http://127.0.0.1/logo.png',
      redirectUris,
      grantTypes: ['authorization_code'],
      clientAuthMethods: ['private_key_jwt'],
      additionalConfig,
    };
    if (encPublicJwk) request.encPublicKey = encPublicJwk;
    const url = `${this.apiBase}/client-mgmt/client`;
    const body = JSON.stringify(envelope(request));
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status !== 200 || !json || (json.errors && json.errors.length) ||
        json.response?.clientId !== clientId || json.response?.status !== 'ACTIVE') {
      throw new Error(`client registration refused\n  request: POST ${url}\n  body: ${preview(body, 2000)}` +
        `\n  response: ${res.status} ${preview(text, 1000)}`);
    }
    return request;
  }
}
