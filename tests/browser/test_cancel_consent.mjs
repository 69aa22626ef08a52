// Cancel at consent: esignetd sends the browser back with error=access_denied (with state and
// iss, which the demo RP checks), and the demo RP says "You cancelled". Also: an error response
// carrying markup in error_description is shown as text, never as markup; a response with
// another iss is refused and uses its state up.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  ACR, backAtRp, openRp, otpToConsent, pressSignIn, shownError,
} = await import('./lib/user.mjs');

test('Cancel at consent: the demo RP shows access_denied, "You cancelled"', () => demoTest('cancel_consent', async ({ op, rp, page, shot }) => {
  await openRp(page, rp);
  await pressSignIn(page, { acr: ACR.otp });
  await shot('login');
  await otpToConsent(page);
  await shot('consent');
  await backAtRp(page, rp, () => page.click('#consent #cancel'), '/callback');
  const q = Object.fromEntries(new URL(page.url()).searchParams);
  assert.equal(q.error, 'access_denied');
  assert.equal(q.iss, op.issuer);
  assert.ok(q.state, 'no state in the error response');
  assert.equal(q.code, undefined);
  const shown = await shownError(page);
  assert.equal(shown.title, 'You cancelled');
  assert.equal(shown.code, 'access_denied');
  assert.match(shown.text, /nothing was shared/);
  await shot('rp-cancelled');

  // Start again: the start page, and no one is signed in.
  await page.click('#start-again');
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.locator('#claims').count(), 0);

  // An error response whose description holds markup (state and iss right, so the RP accepts
  // it): shown as text. (The user is known to esignetd now: it may go straight to consent.)
  await pressSignIn(page, { acr: ACR.otp }, { expect: '#login, #consent' });
  const state = new URL(page.url()).searchParams.get('state');
  const markup = '<img id="injected" src="/static/logo.svg"><b>bold</b>';
  const forged = new URL(`${rp.url}/callback`);
  for (const [k, v] of Object.entries({ error: 'server_error', error_description: markup, state, iss: op.issuer })) {
    forged.searchParams.set(k, v);
  }
  await page.goto(forged.toString());
  const err = await shownError(page);
  assert.equal(err.code, 'server_error');
  assert.equal(err.title, 'Sign-in did not complete');
  assert.equal((await page.textContent('#error-description')).trim(), markup);
  assert.equal(await page.locator('#injected, #error-description b').count(), 0, 'markup from the callback was rendered');
  await shot('rp-error-escaped');

  // A response with another issuer (RFC 9207 mix-up defence) is refused, and its state is used
  // up: the right issuer afterwards is refused too. (Requests from the browser context, with its
  // cookies, outside the page: a 400 page would log a console error.)
  await page.click('#start-again');
  await pressSignIn(page, { acr: ACR.otp }, { expect: '#login, #consent' });
  const state2 = new URL(page.url()).searchParams.get('state');
  const callback = (iss) => page.context().request.get(`${rp.url}/callback?${new URLSearchParams({ code: 'x', state: state2, iss })}`);
  const wrongIss = await callback('http://127.0.0.1:1');
  assert.equal(wrongIss.status(), 400);
  assert.match(await wrongIss.text(), /invalid_callback[\s\S]*iss mismatch/);
  const replay = await callback(op.issuer);
  assert.equal(replay.status(), 400);
  assert.match(await replay.text(), /does not belong to a sign-in started in this browser/);
}));
