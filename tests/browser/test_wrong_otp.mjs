// A wrong one-time code: esignetd refuses it, the login page says so (an alert, the field
// marked), and the right code then goes through consent to the claims at the demo RP.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  ACR, DEMO_OTP, assertDemoIdentityShown, backAtRp, errorShown, openRp, pressSignIn, sendOtp,
  submitToConsent,
} = await import('./lib/user.mjs');

// The next answer of the authenticate API: its errorCode, or null on success.
function nextAuthenticate(page) {
  return page.waitForResponse((r) => r.url().includes('/authorization/v3/authenticate'))
    .then(async (r) => {
      const body = await r.json();
      return body.errors && body.errors.length ? body.errors[0].errorCode : null;
    });
}

test('a wrong OTP is refused with a message, then the right one signs in', () => demoTest('wrong_otp', async ({ rp, page, shot }) => {
  await openRp(page, rp);
  await pressSignIn(page, { acr: ACR.otp });
  await sendOtp(page);
  await shot('otp-sent');

  await page.fill('#otp', '000000');
  const refused = nextAuthenticate(page);
  await page.click('#submit');
  assert.ok(await refused, 'esignetd accepted a wrong OTP');
  const err = await errorShown(page);
  assert.equal(err.role, 'alert', 'the error is not announced');
  assert.ok(err.visible, 'the error is not visible');
  assert.equal(await page.getAttribute('#otp', 'aria-invalid'), 'true', 'the code field is not marked');
  assert.equal(await page.locator('#consent').count(), 0);
  await shot('wrong-otp');

  // The same code sent is still outstanding: the right one now.
  await page.fill('#otp', DEMO_OTP);
  const accepted = nextAuthenticate(page);
  await submitToConsent(page);
  assert.equal(await accepted, null);
  assert.equal((await page.textContent('#error')).trim(), '', 'the old error is still shown');
  await shot('consent');
  await backAtRp(page, rp, () => page.click('#allow'));
  await assertDemoIdentityShown(page, ['name', 'email']);
  await shot('claims');
}));
