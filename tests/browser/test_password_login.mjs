// Password login (acr mosip:idp:acr:password) from the demo RP: the login page asks for the
// individual ID and the password only, and the demo RP shows the claims and the pwd method.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  ACR, DEMO_ID, DEMO_PASSWORD, assertDemoIdentityShown, backAtRp, openRp, pressSignIn,
  shownClaims, submitToConsent,
} = await import('./lib/user.mjs');

test('password login from the demo RP to its claims', () => demoTest('password_login', async ({ rp, page, shot }) => {
  await openRp(page, rp);
  await pressSignIn(page, { acr: ACR.password });
  await page.locator('#password').waitFor();
  assert.equal(await page.getAttribute('#password', 'type'), 'password');
  assert.equal(await page.locator('#send-otp, #otp').count(), 0, 'a password login offers a one-time code');
  await page.fill('#individual-id', DEMO_ID);
  await page.fill('#password', DEMO_PASSWORD);
  await shot('login-password');
  await submitToConsent(page);
  await shot('consent');
  await backAtRp(page, rp, () => page.click('#allow'));
  await assertDemoIdentityShown(page);
  const facts = await shownClaims(page, '#sign-in-facts');
  assert.match(facts.acr, new RegExp(ACR.password));
  assert.match(facts.amr, /pwd/);
  await shot('claims');
}));
