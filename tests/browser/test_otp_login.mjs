// A newcomer's first sign-in, in headless Chromium: the demo relying party's "Sign in with
// eSignet", esignetd's login page (individual ID, send the one-time code, type it), the consent
// screen, and back at the relying party the verified claims of the demo identity.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  ACR, DEMO_OTP, assertDemoIdentityShown, backAtRp, openRp, pressSignIn, sendOtp, shownClaims,
  submitToConsent,
} = await import('./lib/user.mjs');

test('OTP login with consent from the demo RP to the claims it shows', () => demoTest('otp_login', async ({ op, rp, page, shot }) => {
  await openRp(page, rp);
  await shot('rp-start');
  await pressSignIn(page);
  // esignetd's login page, for the demo RP by name, the one-time code offered first.
  assert.equal(new URL(page.url()).origin, op.issuer);
  assert.match(await page.textContent('#client'), /Demo shop/);
  // Its logo, served by the RP on loopback http, which a development server's CSP allows.
  await page.waitForFunction(() => {
    const img = document.querySelector('#client img');
    return img && img.complete && img.naturalWidth > 0;
  });
  await page.locator('#send-otp').waitFor();
  await shot('login');

  const status = await sendOtp(page);
  assert.match(status, /s\*+@|\*{3,}/, `the page names the masked destination: ${status}`);
  // A new code only after a countdown.
  assert.equal(await page.isDisabled('#send-otp'), true, 'a new code can be asked for at once');
  await shot('otp-sent');
  await page.fill('#otp', DEMO_OTP);
  await submitToConsent(page);

  // The consent screen lists what the RP asks for; Allow sends the browser back.
  const asked = await page.$$eval('#consent input[type=checkbox]', (boxes) => boxes.map((b) => b.value));
  for (const c of ['name', 'email', 'phone_number', 'birthdate']) {
    assert.ok(asked.includes(c), `consent does not list ${c}: ${asked}`);
  }
  await shot('consent');
  await backAtRp(page, rp, () => page.click('#allow'));

  await assertDemoIdentityShown(page);
  const facts = await shownClaims(page, '#sign-in-facts');
  assert.match(facts.acr, new RegExp(ACR.otp));
  assert.match(facts.amr, /otp/i);
  assert.equal(facts.iss, op.issuer);
  assert.match(facts.sub, /\S{10,}/);
  await shot('claims');

  // Sign out at the RP: the start page again.
  await page.click('#sign-out');
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.locator('#claims').count(), 0);
  await shot('signed-out');
}));
