// The demo relying party (tools/demo-rp) as a child process against the esignetd under test: a
// free 127.0.0.1 port, its own key in a temporary directory, and the client registered by the RP
// itself through the client management API with the server's admin token (the path tools/demo.sh
// takes). Part of this project: a missing tools/demo-rp/node_modules fails the test.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  SOURCE_DIR, makeTempDir, removeTempDir, stopProcess, trackChild,
} from '../../e2e/lib/util.mjs';

export const DEMO_RP_DIR = path.join(SOURCE_DIR, 'tools', 'demo-rp');

export class DemoRp {
  constructor({ issuer, adminToken, clientId = 'demo-rp' }) {
    this.issuer = issuer;
    this.adminToken = adminToken;
    this.clientId = clientId;
    this.lines = [];
    this.proc = null;
    this.tmp = null;
    this.url = null;
  }

  async start({ timeoutMs = 20000 } = {}) {
    if (!existsSync(path.join(DEMO_RP_DIR, 'node_modules', 'openid-client'))) {
      throw new Error(`${DEMO_RP_DIR}/node_modules is missing: tools/setup.sh --test (npm ci in tools/demo-rp)`);
    }
    this.tmp = makeTempDir('esignet-demo-rp-');
    const args = [path.join(DEMO_RP_DIR, 'server.mjs'), '--issuer', this.issuer, '--port', '0',
      '--client-id', this.clientId, '--key', path.join(this.tmp, 'demo-rp.private.jwk')];
    const proc = trackChild(spawn(process.execPath, args, {
      cwd: this.tmp,
      env: { ...process.env, ESIGNET_ADMIN_TOKEN: this.adminToken },
      stdio: ['ignore', 'ignore', 'pipe'],
    }));
    this.proc = proc;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo RP was not ready in ${timeoutMs} ms:\n${this.logTail()}`)), timeoutMs);
      proc.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`the demo RP exited (${code ?? sig}) before it was ready:\n${this.logTail()}`));
      });
      readline.createInterface({ input: proc.stderr }).on('line', (line) => {
        this.lines.push(line);
        const m = /^demo-rp: ready on (http:\/\/127\.0\.0\.1:\d+) /.exec(line);
        if (m) {
          clearTimeout(timer);
          this.url = m[1];
          resolve();
        }
      });
    });
    return this;
  }

  logTail(n = 20) {
    return this.lines.slice(-n).join('\n');
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    await stopProcess(proc, 5000);
    removeTempDir(this.tmp);
    this.tmp = null;
  }
}
