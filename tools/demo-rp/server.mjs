#!/usr/bin/env node
// The demo relying party of esignet-c: a web page with "Sign in with eSignet" that runs the
// OpenID Connect authorization code flow against an esignet-c server and shows the verified
// claims. Started by tools/demo.sh; see tools/demo-rp/README.md.
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DemoApp } from './lib/app.mjs';
import { loadOrCreateKey } from './lib/key.mjs';
import { registerClient } from './lib/register.mjs';

const USAGE = `usage: node server.mjs [options]
  --issuer URL        the esignet-c issuer (default http://127.0.0.1:8088)
  --host ADDR         address to listen on (default 127.0.0.1)
  --port N            port to listen on (default 8089; 0: any free port)
  --client-id ID      the relying party's client_id (default demo-rp)
  --key FILE          its private JWK; made on first run, mode 0600 (default demo-rp.private.jwk)
  --base-path PATH    base path of eSignet's APIs (default /v1/esignet)
  --admin-token TOKEN register (or update) the client through the client management API;
                      also read from $ESIGNET_ADMIN_TOKEN, which ps does not show.
                      Without a token the client must already be registered with this key
                      and the redirect URI http://HOST:PORT/callback.
  --print-public-jwk  print the public JWK (for registration by hand) and exit`;

function fail(msg, code = 1) {
  process.stderr.write(`demo-rp: ${msg}\n`);
  process.exit(code);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      issuer: { type: 'string', default: 'http://127.0.0.1:8088' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8089' },
      'client-id': { type: 'string', default: 'demo-rp' },
      key: { type: 'string', default: 'demo-rp.private.jwk' },
      'base-path': { type: 'string', default: '/v1/esignet' },
      'admin-token': { type: 'string' },
      'print-public-jwk': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (e) {
  fail(`${e.message}\n${USAGE}`, 2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${args.port} is not a port`, 2);

let key;
try {
  key = loadOrCreateKey(path.resolve(args.key));
} catch (e) {
  fail(e.message);
}
if (args['print-public-jwk']) {
  process.stdout.write(`${JSON.stringify(key.publicJwk)}\n`);
  process.exit(0);
}
if (key.created) process.stderr.write(`demo-rp: made a new signing key in ${path.resolve(args.key)}\n`);

let oc;
try {
  oc = await import('openid-client');
} catch (e) {
  fail(`the npm package openid-client is not installed: run npm ci in ${path.dirname(new URL(import.meta.url).pathname)} (${e.message})`);
}
oc.custom.setHttpOptionsDefaults({ timeout: 10000 });

let issuer;
try {
  issuer = await oc.Issuer.discover(args.issuer);
} catch (e) {
  fail(`cannot read the discovery document of ${args.issuer}: ${e.message}`);
}

// Listen first: with --port 0 the redirect URI is only known once the port is.
const log = (msg) => process.stderr.write(`demo-rp: ${msg}\n`);
const server = http.createServer();
server.headersTimeout = 10000;
server.requestTimeout = 30000;
await new Promise((resolve) => {
  server.once('error', (e) => fail(`cannot listen on ${args.host}:${port}: ${e.message}`));
  server.listen(port, args.host, resolve);
});
const addr = server.address();
const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
const base = `http://${host}:${addr.port}`;
const redirectUri = `${base}/callback`;

const adminToken = args['admin-token'] || process.env.ESIGNET_ADMIN_TOKEN;
if (adminToken) {
  try {
    const how = await registerClient({
      apiBase: `${args.issuer.replace(/\/$/, '')}${args['base-path']}`,
      adminToken,
      clientId: args['client-id'],
      clientName: 'Demo shop',
      clientNameLangMap: { eng: 'Demo shop', ara: 'متجر تجريبي' },
      publicJwk: key.publicJwk,
      redirectUri,
      logoUri: `${base}/static/logo.svg`,
    });
    log(`client ${args['client-id']} ${how}`);
  } catch (e) {
    server.close();
    fail(e.message);
  }
}

const alg = key.privateJwk.alg;
const supported = (name) => (issuer.metadata[name] || []).includes(alg);
const client = new issuer.Client({
  client_id: args['client-id'],
  redirect_uris: [redirectUri],
  response_types: ['code'],
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: alg,
  // esignet-c signs ID tokens and userinfo with the alg of the client's key when it holds such a
  // key, else with its default (docs/INTEGRATING-A-RELYING-PARTY.md).
  id_token_signed_response_alg: supported('id_token_signing_alg_values_supported') ? alg : 'RS256',
  userinfo_signed_response_alg: supported('userinfo_signing_alg_values_supported') ? alg : 'RS256',
}, { keys: [key.privateJwk] });
client[oc.custom.clock_tolerance] = 5;

const app = new DemoApp({ client, issuer, generators: oc.generators, redirectUri, log });
server.on('request', app.handler());

function stop(sig) {
  log(`${sig}: stopping`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// The line tools/demo.sh and the browser tests wait for.
log(`ready on ${base} (issuer ${issuer.issuer}, client ${args['client-id']})`);
