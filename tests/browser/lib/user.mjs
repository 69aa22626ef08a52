// What a person does in the browser, on the demo relying party's pages and on esignetd's login
// page: clicking, typing, and waiting for what the page shows (never a fixed sleep).
import assert from 'node:assert/strict';

export const DEMO_ID = '8267411571';
export const DEMO_OTP = '111111';
export const DEMO_PASSWORD = 'Sid@Demo2024';
export const ACR = {
  otp: 'mosip:idp:acr:generated-code',
  password: 'mosip:idp:acr:password',
};

// The demo RP's start page.
export async function openRp(page, rp) {
  const res = await page.goto(`${rp.url}/`);
  assert.equal(res.status(), 200);
  await page.locator('#sign-in').waitFor();
}

// Chooses the demo RP's options ({acr, ui_locales, prompt}: values of its selects) and presses
// "Sign in with eSignet"; waits for `expect` (a selector) to be visible on the page reached.
export async function pressSignIn(page, options = {}, { expect = '#login' } = {}) {
  if (Object.keys(options).length) {
    await page.click('#options summary');
    for (const [name, value] of Object.entries(options)) {
      await page.selectOption(`#opt-${name}`, value);
    }
  }
  assert.equal((await page.textContent('#sign-in')).trim(), 'Sign in with eSignet');
  await page.click('#sign-in');
  if (expect) await page.locator(expect).waitFor();
}

// The sign-in the demo RP starts for `options` (its form's values, as in pressSignIn), with the
// parameters `extra` added to its authorization request (e.g. a claims request, which the form
// does not offer): the RP's answer is fetched in the page's browser context, so that the RP
// remembers the sign-in there, and the request opened in the page. Waits for `expect`.
export async function signInWith(page, rp, options = {}, extra = {}, { expect = '#login' } = {}) {
  const res = await page.request.get(`${rp.url}/login?${new URLSearchParams(options)}`, { maxRedirects: 0 });
  assert.equal(res.status(), 303);
  const url = new URL(res.headers().location);
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  await page.goto(url.toString());
  if (expect) await page.locator(expect).waitFor();
}

// Types the ID, presses the button that sends the code and waits for the page to say where it
// went (#status). Returns that text.
export async function sendOtp(page, id = DEMO_ID) {
  await page.fill('#individual-id', id);
  await page.click('#send-otp');
  await page.waitForFunction(() => document.getElementById('status').textContent.trim() !== '');
  return page.textContent('#status');
}

// Presses the login form's submit button and waits for the consent form.
export async function submitToConsent(page) {
  await page.click('#submit');
  await page.locator('#consent').waitFor();
}

// The one-time code login up to the consent screen. Returns what the page said when it sent
// the code.
export async function otpToConsent(page, { id = DEMO_ID, otp = DEMO_OTP } = {}) {
  const status = await sendOtp(page, id);
  await page.fill('#otp', otp);
  await submitToConsent(page);
  return status;
}

// The text of the login page's error box once it is not empty: {text, role, visible}.
export async function errorShown(page) {
  await page.waitForFunction(() => document.getElementById('error').textContent.trim() !== '');
  const box = page.locator('#error');
  return { text: await box.textContent(), role: await box.getAttribute('role'), visible: await box.isVisible() };
}

// Runs `action` (a click) and waits until the browser is back at the demo RP, on `pathname`.
export async function backAtRp(page, rp, action, pathname = '/') {
  await Promise.all([
    page.waitForURL((u) => u.origin === rp.url && u.pathname === pathname),
    action(),
  ]);
}

// The claims table of the demo RP's signed-in page: {claim: shown text}.
export async function shownClaims(page, table = '#claims') {
  await page.locator(table).waitFor();
  return page.$$eval(`${table} tr[data-claim]`, (rows) => Object.fromEntries(
    rows.map((r) => [r.dataset.claim, r.querySelector('td').textContent.trim()])));
}

// The demo RP's error page: {title, code, text}.
export async function shownError(page) {
  await page.locator('#error-code').waitFor();
  return {
    title: (await page.textContent('#error-title')).trim(),
    code: (await page.textContent('#error-code')).trim(),
    text: (await page.textContent('#error-text')).trim(),
  };
}

// What the demo identity 8267411571 (config/identities.json) looks like at the demo RP.
export const DEMO_SHOWN = {
  name: 'Siddharth K Mansour',
  given_name: 'Siddharth',
  family_name: 'Mansour',
  email: 'siddharth.mansour@example.com',
  phone_number: '+919876543210',
  birthdate: '1987-11-25',
  gender: 'Male',
  address: '14 Lake View Road, Koramangala, Bengaluru 560034, India',
};

// Asserts that the signed-in page shows the demo identity: every claim of DEMO_SHOWN (or those
// named) and a greeting by given name.
export async function assertDemoIdentityShown(page, names = Object.keys(DEMO_SHOWN)) {
  const claims = await shownClaims(page);
  for (const n of names) assert.equal(claims[n], DEMO_SHOWN[n], `claim ${n} at the RP: ${JSON.stringify(claims)}`);
  assert.equal((await page.textContent('#welcome')).trim(), 'Hello, Siddharth');
  return claims;
}
