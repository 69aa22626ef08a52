// The login page in Arabic, right to left: chosen by the relying party's ui_locales (the demo
// RP's language option), then by the browser's Accept-Language; the switcher (#lang-switch)
// changes the language in place, both ways, and the login goes on in the language chosen.
// Exits 77 (SKIP) without Chromium or playwright-core (tools/setup.sh --test).
import { requireBrowser } from './lib/harness.mjs';

await requireBrowser();
const { test } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { demoTest } = await import('./lib/harness.mjs');
const {
  assertDemoIdentityShown, backAtRp, openRp, otpToConsent, pressSignIn,
} = await import('./lib/user.mjs');

const ARABIC = /[\u0600-\u06ff]/;

// The page's language and direction, and its visible heading.
async function shown(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    title: document.querySelector('h1').textContent.trim(),
    switcher: document.getElementById('lang-switch') && document.getElementById('lang-switch').value,
  }));
}

async function switchTo(page, lang, dir) {
  await page.selectOption('#lang-switch', lang);
  await page.waitForFunction(([l, d]) => document.documentElement.lang === l &&
    document.documentElement.dir === d, [lang, dir]);
  return shown(page);
}

test('Arabic by ui_locales, right to left; the switcher changes language both ways', () => demoTest('language_rtl', async ({ rp, page, newPage, shot }) => {
  await openRp(page, rp);
  await pressSignIn(page, { ui_locales: 'ar' });
  await page.locator('#lang-switch').waitFor();
  const ar = await shown(page);
  assert.deepEqual([ar.lang, ar.dir, ar.switcher], ['ar', 'rtl', 'ar']);
  assert.match(ar.title, ARABIC, `the heading is not in Arabic: ${ar.title}`);
  // The relying party's Arabic name (clientNameLangMap.ara).
  assert.match(await page.textContent('#client'), /متجر تجريبي/);
  await shot('login-ar');

  const en = await switchTo(page, 'en', 'ltr');
  assert.doesNotMatch(en.title, ARABIC, `still Arabic after switching to English: ${en.title}`);
  assert.notEqual(en.title, ar.title);
  assert.doesNotMatch(await page.textContent('label[for="individual-id"]'), ARABIC);
  await shot('login-en');

  const back = await switchTo(page, 'ar', 'rtl');
  assert.equal(back.title, ar.title);
  assert.match(await page.textContent('label[for="individual-id"]'), ARABIC);
  // The login goes on in Arabic: the consent screen too.
  await otpToConsent(page);
  const consent = await shown(page);
  assert.equal(consent.dir, 'rtl');
  assert.match(consent.title, ARABIC, `the consent screen is not in Arabic: ${consent.title}`);
  await shot('consent-ar');
  await backAtRp(page, rp, () => page.click('#allow'));
  await assertDemoIdentityShown(page, ['name', 'email']);

  // No ui_locales: the browser's language (Accept-Language: ar) decides.
  const arabicBrowser = await newPage({ locale: 'ar' });
  await openRp(arabicBrowser, rp);
  await pressSignIn(arabicBrowser);
  const byBrowser = await shown(arabicBrowser);
  assert.deepEqual([byBrowser.lang, byBrowser.dir], ['ar', 'rtl']);
  assert.equal(byBrowser.title, ar.title);
  await shot('login-accept-language-ar', arabicBrowser);
}));
