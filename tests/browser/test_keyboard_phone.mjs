// A sign-in with the keyboard only, on a phone-sized screen (360x740): from the demo relying
// party's "Sign in with eSignet" through esignetd's login page (the language switcher, to the
// other language and back with the arrow keys; the individual ID; the sign-in methods chosen
// with the arrow keys; send the code; the code; Continue; Cancel: that order, forwards and
// backwards; a wrong code first, whose message comes into view) and the consent page (its
// checkboxes, one unticked with Space, Allow) to the claims at the relying party. Every tab
// stop shows where the focus is (an outline of 2 px or more at 3:1 contrast, or a box shadow);
// no page scrolls sideways at 320 or 360 pixels, and every checkbox and radio button is beside
// its label. Then the same in Arabic (ui_locales=ar, chosen in the relying party's options with
// the keyboard), right to left. Only page.keyboard acts: no click, and no field is filled
// without tabbing to it.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { PHONE } = await import('./lib/chromium.mjs');
const { demoTest } = await import('./lib/harness.mjs');
const {
  assertFitsPhones, assertFocusVisible, focused, pressTo,
} = await import('./lib/a11y.mjs');
const {
  DEMO_ID, DEMO_OTP, DEMO_SHOWN, backAtRp, openRp, shownClaims,
} = await import('./lib/user.mjs');

// The demo RP's selects, in their order in its options.
const RP_OPTIONS = ['acr', 'ui_locales', 'prompt'];

// At the demo RP's start page: Tab to "Sign in with eSignet"; with `choices` ({name: value} of
// its options) open the options (Enter on their summary), choose each value with the arrow
// keys and Shift+Tab back to the button; Enter. Waits for the login page.
async function signInAtRp(page, rp, shot, choices = null) {
  await openRp(page, rp);
  await assertFitsPhones(page, 'the demo RP\'s start page');
  await pressTo(page, 'Tab', 'a.brand');
  await pressTo(page, 'Tab', 'sign-in');
  if (choices) {
    await pressTo(page, 'Tab', 'summary');
    await page.keyboard.press('Enter');
    for (const name of RP_OPTIONS) {
      await pressTo(page, 'Tab', `opt-${name}`);
      // A closed select takes the next option on ArrowDown.
      for (let i = 0; i < 5 && choices[name] && await page.inputValue(`#opt-${name}`) !== choices[name]; i++) {
        await page.keyboard.press('ArrowDown');
      }
      assert.equal(await page.inputValue(`#opt-${name}`), choices[name] || '');
    }
    for (const id of [...RP_OPTIONS.slice(0, -1).reverse().map((n) => `opt-${n}`), 'summary', 'sign-in']) {
      await pressTo(page, 'Shift+Tab', id);
    }
  }
  if (choices) await assertFitsPhones(page, 'the demo RP\'s start page with its options');
  await shot('rp-start');
  await page.keyboard.press('Enter');
  await page.locator('#login').waitFor();
}

// esignetd's login page by keyboard, in `lang` and `dir`, up to the consent page.
async function logIn(page, shot, lang, dir) {
  await page.locator('#send-otp').waitFor();
  assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]), [lang, dir]);
  // The page puts the focus in its first field.
  assert.equal((await focused(page)).id, 'individual-id');
  await assertFitsPhones(page, `the login page (${lang})`);
  await shot(`login-${lang}`);
  await pressTo(page, 'Shift+Tab', 'lang-switch');
  // The switcher works from the keyboard: an arrow key to the other language and back.
  const [away, back] = await page.$eval('#lang-switch', (s) => (s.selectedIndex > 0 ? ['ArrowUp', 'ArrowDown'] : ['ArrowDown', 'ArrowUp']));
  await page.keyboard.press(away);
  await page.waitForFunction((l) => document.documentElement.lang !== l, lang);
  await pressTo(page, back, 'lang-switch');
  await page.waitForFunction(([l, d]) => document.documentElement.lang === l && document.documentElement.dir === d, [lang, dir]);
  await pressTo(page, 'Tab', 'individual-id');
  await page.keyboard.type(DEMO_ID);
  // One tab stop for the methods; the arrow keys choose among them (and round again).
  await pressTo(page, 'Tab', 'method-otp');
  for (const [id, shown] of [['method-pwd', '#password'], ['method-kbi', '#kbi'], ['method-otp', '#send-otp']]) {
    assert.ok((await pressTo(page, 'ArrowDown', id)).checked, `${id} is not chosen`);
    await page.locator(shown).waitFor();
  }
  for (const id of ['send-otp', 'otp', 'submit', 'cancel']) await pressTo(page, 'Tab', id);
  for (const id of ['submit', 'otp', 'send-otp']) await pressTo(page, 'Shift+Tab', id);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.getElementById('status').textContent.trim() !== '');
  // Once the code is sent, the page moves the focus to its field.
  const f = await focused(page);
  assert.equal(f.id, 'otp');
  assertFocusVisible(f);
  await assertFitsPhones(page, `the login page with a code sent (${lang})`);
  await shot(`otp-sent-${lang}`);
  // A wrong code first: the message comes into view, the focus goes back to the field, which is
  // marked and described by the message.
  await page.keyboard.type('000000');
  await pressTo(page, 'Tab', 'submit');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('error').textContent.trim() !== '');
  await page.waitForFunction(() => {
    const r = document.getElementById('error').getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }, null, { timeout: 3000 }).catch(() => assert.fail('the error message stays out of view'));
  assert.equal((await focused(page)).id, 'otp');
  assert.equal(await page.getAttribute('#otp', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#otp', 'aria-describedby'), /\berror\b/);
  await shot(`wrong-otp-${lang}`);
  await page.keyboard.type(DEMO_OTP);
  await pressTo(page, 'Tab', 'submit');
  await pressTo(page, 'Tab', 'cancel');
  await pressTo(page, 'Shift+Tab', 'submit');
  await page.keyboard.press('Enter');
  await page.locator('#consent').waitFor();
}

// The consent page by keyboard: every checkbox that can be changed in turn (Space on `untick`),
// Allow, Cancel, back to Allow and Enter. Waits for the claims at the demo RP.
async function consent(page, rp, shot, lang, dir, untick = null) {
  assert.equal(await page.evaluate(() => document.documentElement.dir), dir);
  // The page moves the focus to its heading, which names the new step.
  assert.equal((await focused(page)).id, 'title');
  await assertFitsPhones(page, `the consent page (${lang})`);
  const boxes = await page.$$eval('#consent input[type=checkbox]:not(:disabled)', (b) => b.map((x) => x.id));
  assert.ok(boxes.length >= 4, `consent offers ${boxes}`);
  if (untick) assert.ok(boxes.includes(untick), `consent does not offer ${untick}: ${boxes}`);
  for (const id of boxes) {
    await pressTo(page, 'Tab', id);
    if (id === untick) {
      await page.keyboard.press('Space');
      assert.equal((await focused(page)).checked, false, `Space did not untick ${id}`);
    }
  }
  await shot(`consent-${lang}`);
  await pressTo(page, 'Tab', 'allow');
  await pressTo(page, 'Tab', 'cancel');
  await pressTo(page, 'Shift+Tab', 'allow');
  await backAtRp(page, rp, () => page.keyboard.press('Enter'));
  await page.locator('#claims').waitFor();
  await assertFitsPhones(page, 'the demo RP\'s claims page');
  await shot(`claims-${lang}`);
  return shownClaims(page);
}

test('keyboard only at phone width: OTP login with consent, in English and in Arabic', () => demoTest('keyboard_phone', async ({ rp, page, newPage, shot }) => {
  await signInAtRp(page, rp, shot);
  await logIn(page, shot, 'en', 'ltr');
  const claims = await consent(page, rp, shot, 'en', 'ltr', 'claim-address');
  for (const n of ['name', 'email', 'phone_number', 'birthdate']) assert.equal(claims[n], DEMO_SHOWN[n]);
  assert.equal(claims.address, undefined, 'the claim unticked at consent reached the RP');

  // Arabic, right to left, in another browser; prompt=consent: the same person is asked again.
  const ar = await newPage();
  const shotAr = (step) => shot(step, ar);
  await signInAtRp(ar, rp, shotAr, { ui_locales: 'ar', prompt: 'consent' });
  await logIn(ar, shotAr, 'ar', 'rtl');
  const claimsAr = await consent(ar, rp, shotAr, 'ar', 'rtl');
  assert.equal(claimsAr.name, DEMO_SHOWN.name);
}, { context: { viewport: PHONE } }));
