// An automated accessibility audit (axe-core, the rules of WCAG 2.0 and 2.1 at levels A and AA)
// of every page a person meets on the way through a sign-in, in English and in Arabic (right to
// left), each at a desktop (1000x800) and a phone (360x740) width: the login page with each of
// the one-time code, password and knowledge methods chosen, the page after a code was sent, a
// wrong code's error message, the consent page (with required and optional claims) and the error page of an unknown client; and the
// demo relying party's start, claims and error pages. Each page must also fit 320 and 360 pixel
// widths without horizontal scrolling, every checkbox and radio button beside its label. Any violation fails the test, listed with its
// rule, impact, the elements and the rule's help (problems are collected over all the pages, so
// that one run lists them all).
// Exits 77 (SKIP) without Chromium, playwright-core or axe-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { audit, describe, requireAxe } = await import('./lib/axe.mjs');
requireAxe();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { phoneLayoutProblems } = await import('./lib/a11y.mjs');
const { PHONE, VIEWPORT } = await import('./lib/chromium.mjs');
const { demoTest } = await import('./lib/harness.mjs');
const {
  DEMO_OTP, backAtRp, errorShown, openRp, sendOtp, signInWith, submitToConsent,
} = await import('./lib/user.mjs');

const ESSENTIAL = JSON.stringify({ userinfo: { name: { essential: true }, email: { essential: true } } });

// axe is injected as an inline script, which the pages' Content-Security-Policy (script-src
// 'self') rightly forbids: this test's browser contexts bypass the policy. So this test cannot
// notice a CSP violation; the other browser tests, which run the same pages with the policy
// enforced, do.
test('no WCAG 2.1 A/AA violation on the login, consent and error pages, English and Arabic, desktop and phone', () => demoTest('accessibility', async ({ op, rp, page, newPage, shot }) => {
  const found = [];
  let audits = 0;
  const record = (step, where, url, text) => found.push(`${step} at ${where} (${url}):\n${text}`);
  // Audits the page as it is at the desktop width, then checks that it fits the phone widths
  // (no horizontal scrolling, every box beside its label) and audits it at the phone's size.
  // Problems are collected, so that one run reports every page's; a screenshot of each.
  async function check(p, step, options) {
    for (const [size, viewport] of [['desktop', VIEWPORT], ['phone', PHONE]]) {
      if (size === 'phone') {
        const layout = await phoneLayoutProblems(p, PHONE.height);
        if (layout.length) record(step, 'phone widths', p.url(), `  ${layout.join('\n  ')}`);
      }
      await p.setViewportSize(viewport);
      const violations = await audit(p, options);
      audits++;
      await shot(`${step}-${size}`, p);
      if (violations.length) record(step, `${size} size`, p.url(), describe(violations));
    }
    await p.setViewportSize(VIEWPORT);
  }

  for (const lang of ['en', 'ar']) {
    const p = lang === 'en' ? page : await newPage();
    if (lang === 'en') {
      await openRp(p, rp);
      await check(p, 'rp-start');
    }
    // The demo RP's request with two claims asked for as essential, so that consent shows
    // required claims too; prompt=consent: the second round, by the same person, is asked again.
    await signInWith(p, rp, { ui_locales: lang, prompt: 'consent' }, { claims: ESSENTIAL });
    await p.locator('#method-otp').waitFor();
    assert.equal(await p.getAttribute('html', 'lang'), lang);
    await check(p, `${lang}-login-otp`);
    await p.check('#method-pwd');
    await p.locator('#password').waitFor();
    await check(p, `${lang}-login-password`);
    await p.check('#method-kbi');
    await p.locator('#kbi').waitFor();
    await check(p, `${lang}-login-knowledge`);
    await p.check('#method-otp');
    await sendOtp(p);
    await check(p, `${lang}-otp-sent`);
    await p.fill('#otp', '000000');
    await p.click('#submit');
    await errorShown(p);
    await check(p, `${lang}-wrong-otp`);
    await p.fill('#otp', DEMO_OTP);
    await submitToConsent(p);
    assert.equal(await p.locator('#essential-claims input:disabled:checked').count(), 2);
    assert.ok(await p.locator('#voluntary-claims input:enabled').count() > 2);
    await check(p, `${lang}-consent`);
    await backAtRp(p, rp, () => p.click('#allow'));
    await p.locator('#claims').waitFor();
    if (lang === 'en') {
      await check(p, 'rp-claims');
      // The demo RP's error page: a callback it refuses (400).
      const refused = `${rp.url}/callback?error=access_denied&state=unknown`;
      p.context().watch.expectFailedLoad(refused);
      assert.equal((await p.goto(refused)).status(), 400);
      await p.locator('#error-code').waitFor();
      await check(p, 'rp-error');
    }

    // The error page of a request from an unknown client: a 400 document, which Chromium
    // reports on the console.
    const unknown = `${op.issuer}/authorize?${new URLSearchParams({
      client_id: 'nobody', redirect_uri: 'https://nowhere.example/cb', response_type: 'code',
      scope: 'openid', ui_locales: lang,
    })}`;
    p.context().watch.expectFailedLoad(unknown);
    assert.equal((await p.goto(unknown)).status(), 400);
    await p.locator('#error-message').waitFor();
    await check(p, `${lang}-error-unknown-client`);
  }
  assert.deepEqual(found, [], `accessibility violations (axe-core, ${audits} audits):\n${found.join('\n')}`);
}, { context: { bypassCSP: true } }));
