// End to end with Debian's Apache and mod_auth_openidc as the relying party: a page under
// /protected/ needs an OpenID Connect login at esignetd. The browser asks for the page, is sent
// to /authorize, logs in through eSignet's browser APIs, goes back to Apache's redirect URI with
// Apache's cookies, and then sees the page with the demo identity's claims. Apache uses
// private_key_jwt (RSA key files), PKCE S256, discovery, the JWKS for the ID token and a signed
// userinfo response.
//
// Run: ctest -R e2e/apache (or node tests/e2e/test_apache_oidc.mjs with ESIGNETD and
// ESG_PLUGIN_DIR set). Skips (exit 77) only without Node.js 18+, apache2 or mod_auth_openidc.
import { requireNode, skip } from './lib/prereq.mjs';
import { Apache, apacheMissing, apacheVersion, modAuthOpenidcVersion, parseProtectedPage } from './lib/apache.mjs';

requireNode();
const missing = apacheMissing();
if (missing) skip(missing);

const { after, before, describe, test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { Browser } = await import('./lib/browser.mjs');
const { EsignetUi } = await import('./lib/esignet_ui.mjs');
const { DEMO_CLAIMS, assertDemoClaims } = await import('./lib/identity.mjs');
const { generateKey } = await import('./lib/keys.mjs');
const { startOp } = await import('./lib/op.mjs');
const { freePort, randomToken } = await import('./lib/util.mjs');

let op;
let apache;
let clientId;

function diagnostics(browser) {
  return `\n--- browser ---\n${browser ? browser.describe(6) : ''}` +
    `\n--- apache error.log ---\n${apache ? apache.errorLog().split('\n').slice(-25).join('\n') : ''}` +
    `\n--- esignetd log ---\n${op ? op.logTail(25) : ''}`;
}

before(async () => {
  op = await startOp();
  const key = generateKey({ type: 'RSA', use: 'sig', alg: 'RS256' });
  // Apache's port is in the redirect URI, so it is chosen before the client is registered; if
  // someone takes it before Apache binds, try again with another port and client.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    clientId = `e2e-apache-${randomToken(6)}`;
    apache = new Apache({
      metadataUrl: `${op.issuer}/.well-known/openid-configuration`,
      clientId,
      key,
      scope: 'openid profile email phone',
      idTokenAlg: op.tokenSigningAlg || 'RS256',
      userinfoAlg: op.tokenSigningAlg || 'RS256',
    }).prepare(await freePort());
    await op.registerClient({
      clientId,
      publicJwk: key.publicJwk,
      redirectUris: [apache.redirectUri],
      userClaims: DEMO_CLAIMS,
      relyingPartyId: 'rp-apache',
      additionalConfig: {
        userinfo_response_type: 'JWS',
        purpose: { type: 'login' },
        signup_banner_required: false,
        forgot_pwd_link_required: false,
      },
    });
    try {
      apache.configtest();
      await apache.start();
      return;
    } catch (e) {
      lastErr = e;
      await apache.stop();
      if (!/Address already in use|could not bind/i.test(e.message)) break;
    }
  }
  throw lastErr;
});

after(async () => {
  if (apache) await apache.stop();
  if (op) await op.stop();
});

describe(`Apache ${apacheVersion()} with mod_auth_openidc ${modAuthOpenidcVersion()}`, () => {
  test('the public page is served without login', async () => {
    const res = await fetch(`${apache.base}/`);
    assert.equal(res.status, 200);
  });

  test('a protected page needs a login at esignetd and then shows the claims', async () => {
    const browser = new Browser();
    const ui = new EsignetUi(browser, op.apiBase);
    const page = `${apache.base}/protected/index.shtml`;
    try {
      // 1. Apache sends the browser to the authorization endpoint.
      const out = await browser.navigate(page, {
        stopBefore: (u) => u.origin === op.issuer && u.pathname === '/authorize',
      });
      assert.ok(out.stoppedAt, `Apache did not redirect to ${op.issuer}/authorize (status ${out.status})`);
      const q = new URL(out.stoppedAt).searchParams;
      assert.equal(q.get('client_id'), clientId);
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('redirect_uri'), apache.redirectUri);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.ok(q.get('code_challenge'));
      assert.ok(q.get('state'));
      assert.ok(q.get('nonce'));
      assert.deepEqual(q.get('scope').split(' ').sort(), ['email', 'openid', 'phone', 'profile']);

      // 2. The eSignet UI logs the demo identity in and sends the browser back to Apache.
      const flow = await ui.loginWithOtp(out.stoppedAt, { issuer: op.issuer });
      assert.equal(new URL(flow.redirect).origin + new URL(flow.redirect).pathname, apache.redirectUri);

      // 3. Apache redeems the code (private_key_jwt, PKCE), validates the ID token, fetches
      // userinfo, and sends the browser on to the page it first asked for.
      const done = await browser.navigate(flow.redirect);
      assert.equal(done.status, 200, `the protected page was not served`);
      assert.equal(done.hops[done.hops.length - 1].url, page);
      const shown = parseProtectedPage(done.text);
      assertDemoClaims(shown, DEMO_CLAIMS, 'protected page (OIDC_CLAIM_*)');
      assert.ok(shown.sub, 'OIDC_CLAIM_sub');
      assert.equal(shown['remote-user'], shown.sub); // OIDCRemoteUserClaim sub
      assert.ok(shown.acr.split(' ').includes('mosip:idp:acr:generated-code'), `acr ${shown.acr}`);

      // 4. The session's ID token and userinfo claims, from the module's info hook.
      const info = await browser.request(`${apache.redirectUri}?info=json`);
      assert.equal(info.status, 200);
      const data = JSON.parse(info.text);
      assert.equal(data.id_token.iss, op.issuer);
      assert.equal(data.id_token.aud, clientId);
      assert.equal(data.id_token.nonce, q.get('nonce'));
      assert.equal(data.userinfo.sub, data.id_token.sub);
      assertDemoClaims(data.userinfo, DEMO_CLAIMS, 'userinfo seen by Apache');

      // 5. The session cookie keeps the user logged in; a browser without it is sent to log in.
      const again = await browser.navigate(page);
      assert.equal(again.status, 200);
      assert.equal(again.hops.length, 1);
      const stranger = await new Browser().navigate(page, { stopBefore: (u) => u.origin === op.issuer });
      assert.ok(stranger.stoppedAt);
    } catch (e) {
      e.message += diagnostics(browser);
      throw e;
    }
  });

  test('a callback with a forged state is refused by Apache', async () => {
    const browser = new Browser();
    const page = `${apache.base}/protected/index.shtml`;
    const out = await browser.navigate(page, { stopBefore: (u) => u.origin === op.issuer });
    assert.ok(out.stoppedAt);
    // A response for a state this browser never started: Apache must not create a session.
    const forged = new URL(apache.redirectUri);
    forged.searchParams.set('code', 'forged-code');
    forged.searchParams.set('state', `forged-${randomToken(8)}`);
    forged.searchParams.set('iss', op.issuer);
    const res = await browser.navigate(forged.toString(), { stopBefore: (u) => u.origin === op.issuer });
    assert.ok(res.stoppedAt || res.status >= 400, `forged callback answered ${res.status}`);
    const later = await browser.navigate(page, { stopBefore: (u) => u.origin === op.issuer });
    assert.ok(later.stoppedAt, 'a session exists after a forged callback');
  });
});
