// prompt=none: without an eSignet session the demo RP gets login_required back at once; after a
// login in the same browser it gets a code, and shows the claims, without any eSignet page
// (the only answer of esignetd to the browser is the redirect from /authorize).
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  assertDemoIdentityShown, backAtRp, openRp, otpToConsent, pressSignIn, shownClaims, shownError,
} = await import('./lib/user.mjs');

// Runs `steps` and returns the documents esignetd answered the browser meanwhile, and whether
// the login page's script was fetched.
async function idpTraffic(page, op, steps) {
  const { watch } = page.context();
  const docs = watch.documents.length;
  const reqs = watch.requests.length;
  await steps();
  return {
    documents: watch.documents.slice(docs).filter((d) => d.url.startsWith(op.issuer))
      .map((d) => `${d.status} ${new URL(d.url).pathname}`),
    loginScript: watch.requests.slice(reqs).some((r) => r.url.startsWith(`${op.issuer}/static/`)),
  };
}

test('prompt=none: login_required without a session, a code without any page with one', () => demoTest('prompt_none', async ({ op, rp, page, shot }) => {
  await openRp(page, rp);
  const without = await idpTraffic(page, op, () => pressSignIn(page, { prompt: 'none' }, { expect: '#error-code' }));
  assert.deepEqual(without.documents, ['303 /authorize'], 'esignetd showed a page for prompt=none');
  assert.equal(without.loginScript, false);
  const err = await shownError(page);
  assert.equal(err.code, 'login_required');
  assert.equal(err.title, 'You are not signed in at eSignet');
  await shot('rp-login-required');

  // Sign in (OTP, consent), sign out at the RP only: the eSignet session stays.
  await page.click('#start-again');
  await pressSignIn(page);
  await shot('login');
  await otpToConsent(page);
  await shot('consent');
  await backAtRp(page, rp, () => page.click('#allow'));
  const first = await shownClaims(page, '#sign-in-facts');
  await shot('claims');
  await page.click('#sign-out');
  await page.locator('#sign-in').waitFor();

  const withSession = await idpTraffic(page, op, () => pressSignIn(page, { prompt: 'none' }, { expect: '#claims' }));
  assert.deepEqual(withSession.documents, ['303 /authorize'], 'esignetd showed a page for prompt=none');
  assert.equal(withSession.loginScript, false);
  await assertDemoIdentityShown(page, ['name', 'email']);
  const again = await shownClaims(page, '#sign-in-facts');
  assert.equal(again.sub, first.sub);
  assert.equal(again['auth_time'], first['auth_time'], 'auth_time is the interactive login');
  await shot('claims-silent');
}));
