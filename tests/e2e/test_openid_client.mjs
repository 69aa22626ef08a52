// End to end with a real relying party library: the npm package openid-client (5.x) signs users
// in at esignetd through eSignet's browser APIs, driven by a small browser with a cookie jar.
//
// Covered: discovery; private_key_jwt client authentication with RSA (RS256) and EC (ES256)
// keys; PKCE S256; the authorization URL openid-client builds; the UI calls (CSRF, oauth-details
// v3, send-otp, v3 authenticate, auth-code) with oauth-details-key/hash; the redirect back to
// the RP with code, state and iss (RFC 9207); client.callback(), which validates the ID token
// (signature against the JWKS, iss, aud, exp, nonce, at_hash, auth_time for max_age) and the
// authorization response's iss; userinfo as a signed JWT and as a JWE (RSA-OAEP-256/A256GCM,
// nested); the demo identity's claims; a stable sub across logins; pairwise sub per relying party.
// RP-side refusals: a tampered or missing iss, a wrong state, an ID token for another nonce.
//
// Run: ctest -R e2e/openid_client (or node tests/e2e/test_openid_client.mjs with ESIGNETD and
// ESG_PLUGIN_DIR set). Skips (exit 77) only without Node.js 18+ or the openid-client package.
import { requireNode, requireOpenidClient } from './lib/prereq.mjs';

requireNode();
const { Issuer, generators, custom, errors } = await requireOpenidClient();

const { after, before, describe, test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { generateKeyPairSync } = await import('node:crypto');
const { Browser } = await import('./lib/browser.mjs');
const { CallbackServer } = await import('./lib/callback_server.mjs');
const { EsignetUi } = await import('./lib/esignet_ui.mjs');
const { DEMO_CLAIMS, assertDemoClaims } = await import('./lib/identity.mjs');
const { generateKey } = await import('./lib/keys.mjs');
const { startOp } = await import('./lib/op.mjs');
const { jwtHeader, randomToken } = await import('./lib/util.mjs');

const ACR = 'mosip:idp:acr:generated-code';
const SCOPE = 'openid profile email phone';

custom.setHttpOptionsDefaults({ timeout: 15000 });

let op;
let issuer;
let cb;
const clients = {};

// The algorithm of the client's ID tokens and userinfo: eSignet's registration has no
// id_token_signed_response_alg, so the server signs with the alg of the client's registered JWK
// when it holds such a key, else with keys.token_signing_alg (docs/INTEGRATING-A-RELYING-PARTY.md).
function expectedAlg(clientKeyAlg) {
  const supported = issuer.metadata.id_token_signing_alg_values_supported || [];
  return supported.includes(clientKeyAlg) ? clientKeyAlg : (op.tokenSigningAlg || 'RS256');
}

// A registered client and its openid-client instance. sig: 'RSA' or 'EC'; jwe: userinfo as JWE.
async function makeClient(name, { sig = 'RSA', jwe = false, relyingPartyId } = {}) {
  const sigKey = generateKey({ type: sig, use: 'sig', alg: sig === 'RSA' ? 'RS256' : 'ES256' });
  const encKey = jwe ? generateKey({ type: 'RSA', use: 'enc', alg: 'RSA-OAEP-256' }) : null;
  const clientId = `e2e-${name}-${randomToken(6)}`;
  const redirectUri = cb.uri(`/cb/${name}`);
  await op.registerClient({
    clientId,
    publicJwk: sigKey.publicJwk,
    encPublicJwk: encKey ? encKey.publicJwk : undefined,
    redirectUris: [redirectUri],
    userClaims: DEMO_CLAIMS,
    relyingPartyId: relyingPartyId || `rp-${name}`,
    additionalConfig: {
      userinfo_response_type: jwe ? 'JWE' : 'JWS',
      purpose: { type: 'login' },
      signup_banner_required: false,
      forgot_pwd_link_required: false,
    },
  });
  const metadata = {
    client_id: clientId,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: sigKey.alg,
    id_token_signed_response_alg: expectedAlg(sigKey.alg),
    userinfo_signed_response_alg: expectedAlg(sigKey.alg),
  };
  if (jwe) {
    metadata.userinfo_encrypted_response_alg = 'RSA-OAEP-256';
    metadata.userinfo_encrypted_response_enc = 'A256GCM';
  }
  const keys = [sigKey.privateJwk, ...(encKey ? [encKey.privateJwk] : [])];
  const client = new issuer.Client(metadata, { keys });
  client[custom.clock_tolerance] = 5;
  return { name, clientId, redirectUri, client, sigKey, encKey };
}

// One login through the browser: returns what the RP's callback received and the checks the RP
// kept in its session.
// `pushed`: the parameters go to the PAR endpoint (RFC 9126) and the browser carries only
// client_id and the request_uri.
async function login(c, { extra = {}, scope = SCOPE, pushed = false } = {}) {
  const code_verifier = generators.codeVerifier();
  const checks = {
    state: generators.state(),
    nonce: generators.nonce(),
    code_verifier,
    response_type: 'code',
    ...(extra.max_age ? { max_age: Number(extra.max_age) } : {}),
  };
  const params = {
    scope,
    state: checks.state,
    nonce: checks.nonce,
    code_challenge: generators.codeChallenge(code_verifier),
    code_challenge_method: 'S256',
    acr_values: ACR,
    ...extra,
  };
  let par = null;
  if (pushed) par = await c.client.pushedAuthorizationRequest(params);
  const authorizeUrl = par
    ? c.client.authorizationUrl({ request_uri: par.request_uri })
    : c.client.authorizationUrl(params);
  const browser = new Browser();
  const ui = new EsignetUi(browser, op.apiBase);
  let flow;
  try {
    flow = await ui.loginWithOtp(authorizeUrl, { issuer: issuer.issuer });
  } catch (e) {
    e.message += `\n  authorize URL: ${authorizeUrl}\n--- esignetd log ---\n${op.logTail(25)}`;
    throw e;
  }
  const landed = await browser.navigate(flow.redirect);
  assert.equal(landed.status, 200, `the browser did not reach the RP callback:\n${browser.describe(3)}`);
  const got = cb.last(new URL(c.redirectUri).pathname);
  assert.ok(got, 'the callback server saw no request');
  return { authorizeUrl, par, flow, browser, checks, callbackUrl: got.url, params: c.client.callbackParams(got.url) };
}

// client.callback with the esignetd log appended to any failure.
async function callback(c, l, params = l.params, checks = l.checks) {
  try {
    return await c.client.callback(c.redirectUri, params, checks);
  } catch (e) {
    e.message += `\n  callback URL: ${l.callbackUrl}\n--- esignetd log ---\n${op.logTail(25)}`;
    throw e;
  }
}

before(async () => {
  cb = await new CallbackServer().start();
  op = await startOp();
  issuer = await Issuer.discover(op.issuer);
  clients.rsa = await makeClient('rsa', { sig: 'RSA' });
  clients.ec = await makeClient('ec', { sig: 'EC', jwe: true });
  clients.other = await makeClient('other', { sig: 'RSA' });
});

after(async () => {
  if (op) await op.stop();
  if (cb) await cb.stop();
});

describe('openid-client relying party', () => {
  test('discovery document has what the relying parties rely on', () => {
    const m = issuer.metadata;
    assert.equal(m.issuer, op.issuer);
    assert.equal(m.authorization_endpoint, `${op.issuer}/authorize`);
    assert.equal(m.token_endpoint, `${op.issuer}/v1/esignet/oauth/v2/token`);
    assert.equal(m.userinfo_endpoint, `${op.issuer}/v1/esignet/oidc/userinfo`);
    assert.ok(m.jwks_uri, 'jwks_uri');
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['private_key_jwt']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.ok(m.response_types_supported.includes('code'));
    for (const alg of ['RS256', 'ES256']) {
      assert.ok((m.token_endpoint_auth_signing_alg_values_supported || []).includes(alg),
        `token_endpoint_auth_signing_alg_values_supported lacks ${alg}: ${m.token_endpoint_auth_signing_alg_values_supported}`);
    }
  });

  test('RSA client: code flow with PKCE, ID token, signed userinfo; sub stable across logins', async () => {
    const c = clients.rsa;
    const l1 = await login(c);
    // The authorization response: code, the state sent, and the issuer (RFC 9207).
    assert.equal(l1.params.state, l1.checks.state);
    assert.equal(l1.params.iss, op.issuer);
    assert.ok(l1.params.code);
    assert.equal(l1.flow.authCode.nonce, l1.checks.nonce, 'auth-code echoes the nonce');
    const ts1 = await callback(c, l1);
    assert.equal(ts1.token_type.toLowerCase(), 'bearer');
    assert.ok(ts1.access_token);
    assert.ok(ts1.expires_in > 0);
    const idt = ts1.claims();
    assert.equal(idt.iss, op.issuer);
    assert.equal(idt.aud, c.clientId);
    assert.equal(idt.nonce, l1.checks.nonce);
    assert.ok(idt.sub);
    assert.ok(idt.at_hash, 'at_hash');
    assert.ok(String(idt.acr || '').split(' ').includes(ACR), `acr ${idt.acr}`);
    assert.equal(jwtHeader(ts1.id_token).alg, expectedAlg('RS256'));
    const ui1 = await c.client.userinfo(ts1); // application/jwt, verified against the JWKS
    assert.equal(ui1.sub, idt.sub);
    assertDemoClaims(ui1, DEMO_CLAIMS, 'userinfo');

    // The raw userinfo response is a JWS whose key is in the JWKS.
    const raw = await fetch(issuer.userinfo_endpoint, { headers: { authorization: `Bearer ${ts1.access_token}` } });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type'), /^application\/jwt/);
    const jws = (await raw.text()).trim();
    assert.equal(jws.split('.').length, 3);
    const jwks = (await (await fetch(issuer.jwks_uri)).json()).keys;
    assert.ok(jwks.some((k) => k.kid === jwtHeader(jws).kid), `userinfo kid ${jwtHeader(jws).kid} not in the JWKS`);

    // A second login of the same client (with max_age, so openid-client also requires
    // auth_time) gives the same subject.
    const l2 = await login(c, { extra: { max_age: '3600' } });
    const ts2 = await callback(c, l2);
    const idt2 = ts2.claims();
    assert.equal(idt2.sub, idt.sub, 'sub changes between two logins of the same client');
    assert.equal(typeof idt2.auth_time, 'number');
    const ui2 = await c.client.userinfo(ts2);
    assert.equal(ui2.sub, idt.sub);
  });

  test('EC client (ES256 private_key_jwt) with userinfo as JWE (RSA-OAEP-256, A256GCM)', async () => {
    const c = clients.ec;
    const l = await login(c);
    const ts = await callback(c, l);
    assert.equal(jwtHeader(ts.id_token).alg, expectedAlg('ES256'));
    const raw = await fetch(issuer.userinfo_endpoint, { headers: { authorization: `Bearer ${ts.access_token}` } });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type'), /^application\/jwt/);
    const jwe = (await raw.text()).trim();
    assert.equal(jwe.split('.').length, 5, `userinfo is not a compact JWE: ${jwe.slice(0, 80)}...`);
    const h = jwtHeader(jwe);
    assert.equal(h.alg, 'RSA-OAEP-256');
    assert.equal(h.enc, 'A256GCM');
    if (h.kid !== undefined) assert.equal(h.kid, c.encKey.kid);
    const ui = await c.client.userinfo(ts); // decrypts with the client's key, verifies the inner JWS
    assert.equal(ui.sub, ts.claims().sub);
    assertDemoClaims(ui, DEMO_CLAIMS, 'JWE userinfo');
  });

  test('pushed authorization request (RFC 9126): openid-client pushes, the browser carries the request_uri', async () => {
    const c = clients.rsa;
    assert.equal(issuer.metadata.pushed_authorization_request_endpoint,
      `${op.issuer}/v1/esignet/oauth/par`);
    const l = await login(c, { pushed: true });
    assert.match(l.par.request_uri, /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/);
    assert.ok(l.par.expires_in > 0);
    const sent = new URL(l.authorizeUrl).searchParams;
    assert.equal(sent.get('request_uri'), l.par.request_uri);
    assert.equal(sent.get('nonce'), null, 'the nonce travelled through the browser');
    assert.equal(l.params.state, l.checks.state);
    const ts = await callback(c, l);
    assert.equal(ts.claims().nonce, l.checks.nonce);
    const ui = await c.client.userinfo(ts);
    assert.equal(ui.sub, ts.claims().sub);
  });

  test('DPoP (RFC 9449): openid-client binds the tokens to its key and proves it at userinfo', async () => {
    const c = clients.rsa;
    assert.ok((issuer.metadata.dpop_signing_alg_values_supported || []).includes('ES256'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const l = await login(c);
    let ts;
    try {
      ts = await c.client.callback(c.redirectUri, l.params, l.checks, { DPoP: privateKey });
    } catch (e) {
      e.message += `\n--- esignetd log ---\n${op.logTail(25)}`;
      throw e;
    }
    assert.equal(ts.token_type, 'DPoP');
    const at = JSON.parse(Buffer.from(ts.access_token.split('.')[1], 'base64url').toString());
    assert.match(at.cnf?.jkt || '', /^[A-Za-z0-9_-]{43}$/);
    const ui = await c.client.userinfo(ts, { DPoP: privateKey });
    assert.equal(ui.sub, ts.claims().sub);
    // Without a proof, or with another key's, the bound token is refused.
    await assert.rejects(c.client.userinfo(ts), (e) => e instanceof errors.OPError && e.error === 'invalid_dpop_proof');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await assert.rejects(c.client.userinfo(ts, { DPoP: other }), (e) => e instanceof errors.OPError);
  });

  test('pairwise subject: another relying party sees another sub', async (t) => {
    if (!(issuer.metadata.subject_types_supported || []).includes('pairwise') ||
        (issuer.metadata.subject_types_supported || []).includes('public')) {
      t.skip(`subject_types_supported is ${issuer.metadata.subject_types_supported}`);
      return;
    }
    const a = await callback(clients.rsa, await login(clients.rsa));
    const b = await callback(clients.other, await login(clients.other));
    assert.notEqual(a.claims().sub, b.claims().sub);
  });

  test('a tampered iss in the authorization response is refused, and no code is spent', async () => {
    const c = clients.rsa;
    const l = await login(c);
    await assert.rejects(callback(c, l, { ...l.params, iss: 'http://127.0.0.1:1' }),
      (e) => e instanceof errors.RPError && /iss mismatch/.test(e.message));
    // Without iss, although discovery promises it (RFC 9207 §2.4).
    const { iss, ...noIss } = l.params;
    await assert.rejects(callback(c, l, noIss),
      (e) => e instanceof errors.RPError && /iss missing/.test(e.message));
    // The genuine response still works: the refusals happened before the token request.
    const ts = await callback(c, l);
    assert.ok(ts.id_token);
  });

  test('a wrong state is refused', async () => {
    const c = clients.rsa;
    const l = await login(c);
    await assert.rejects(callback(c, l, l.params, { ...l.checks, state: generators.state() }),
      (e) => e instanceof errors.RPError && /state mismatch/.test(e.message));
    await assert.rejects(callback(c, l, { ...l.params, state: generators.state() }),
      (e) => e instanceof errors.RPError && /state mismatch/.test(e.message));
  });

  test('an ID token for another nonce is refused', async () => {
    const c = clients.rsa;
    const l = await login(c);
    await assert.rejects(callback(c, l, l.params, { ...l.checks, nonce: generators.nonce() }),
      (e) => e instanceof errors.RPError && /nonce mismatch/.test(e.message));
  });

  test('the authorization URL carries PKCE S256 and the RP parameters eSignet reads', async () => {
    const c = clients.rsa;
    const verifier = generators.codeVerifier();
    const url = new URL(c.client.authorizationUrl({
      scope: SCOPE, state: 's', nonce: 'n', code_challenge: generators.codeChallenge(verifier),
      code_challenge_method: 'S256', acr_values: ACR,
    }));
    assert.equal(url.origin + url.pathname, `${op.issuer}/authorize`);
    const q = url.searchParams;
    assert.equal(q.get('client_id'), c.clientId);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('redirect_uri'), c.redirectUri);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('code_challenge'), generators.codeChallenge(verifier));
  });
});
