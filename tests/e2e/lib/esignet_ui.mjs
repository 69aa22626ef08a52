// Drives eSignet's browser APIs the way eSignet's login UI (oidc-ui) does, through a Browser (so
// with its cookies): CSRF token, oauth-details v3, send-otp, v3 authenticate, auth-code, then the
// redirect back to the relying party (spec/esignet.md §0, §1.4, §1.5, §4.1-4.7).
//
// In an eSignet deployment `/authorize` is a route of the single-page UI, served as static files
// by the reverse proxy: the UI reads the query string and calls the APIs below. This driver is
// that UI, so it does not fetch the server's own login page at /authorize (which starts a
// transaction of its own; esignet-c's built-in pages are tested in headless Chromium).
import { createHash } from 'node:crypto';
import { envelope, preview } from './util.mjs';

export const DEMO_INDIVIDUAL_ID = '8267411571';
export const DEMO_OTP = '111111';

export class EsignetApiError extends Error {
  constructor(step, entry, detail) {
    super(`${step}: ${detail}\n  request: ${entry.method} ${entry.url}` +
      `${entry.requestBody ? `\n  body: ${preview(entry.requestBody, 800)}` : ''}` +
      `\n  response: ${entry.status} ${preview(entry.text, 1200)}`);
    this.step = step;
    this.entry = entry;
    this.errorCode = entry.json?.errors?.[0]?.errorCode;
  }
}

// The oauth-details-hash the UI sends: base64url, unpadded, of SHA-256 over JSON.stringify of the
// parsed `response` member (so the server must emit exactly those bytes).
export function oauthDetailsHash(response) {
  return createHash('sha256').update(JSON.stringify(response), 'utf8').digest('base64url');
}

// The oauth-details v3 request the UI builds from the /authorize query (oidc-ui Authorize.js):
// every parameter as its string value, `claims` parsed as JSON, absent ones left out.
export function oauthDetailsRequest(authorizeUrl) {
  const q = new URL(authorizeUrl).searchParams;
  const map = {
    nonce: 'nonce', state: 'state', clientId: 'client_id', redirectUri: 'redirect_uri',
    responseType: 'response_type', scope: 'scope', acrValues: 'acr_values', claims: 'claims',
    claimsLocales: 'claims_locales', display: 'display', maxAge: 'max_age', prompt: 'prompt',
    uiLocales: 'ui_locales', codeChallenge: 'code_challenge',
    codeChallengeMethod: 'code_challenge_method', idTokenHint: 'id_token_hint',
  };
  const req = {};
  for (const [camel, snake] of Object.entries(map)) {
    const v = q.get(snake);
    if (v !== null) req[camel] = v;
  }
  if (req.claims !== undefined) req.claims = JSON.parse(req.claims);
  return req;
}

// Checks the envelope of an eSignet API response (§1.1) and returns its `response` member.
function expectOk(step, entry) {
  if (entry.status !== 200) throw new EsignetApiError(step, entry, `HTTP ${entry.status}`);
  const body = entry.json;
  if (!body || typeof body !== 'object') {
    throw new EsignetApiError(step, entry, 'response is not a JSON object');
  }
  if (!Array.isArray(body.errors)) throw new EsignetApiError(step, entry, 'no errors array');
  if (body.errors.length) throw new EsignetApiError(step, entry, `errors ${body.errors[0].errorCode}`);
  if (!body.response) throw new EsignetApiError(step, entry, 'no response member');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(body.responseTime || '')) {
    throw new EsignetApiError(step, entry, `responseTime ${body.responseTime} is not yyyy-MM-ddTHH:mm:ss.SSSZ`);
  }
  return body.response;
}

export class EsignetUi {
  // browser: a Browser; apiBase: e.g. http://127.0.0.1:8088/v1/esignet
  constructor(browser, apiBase) {
    this.browser = browser;
    this.apiBase = apiBase.replace(/\/$/, '');
    this.csrf = null;
  }

  // GET /csrf/token: the cookie XSRF-TOKEN is set; the UI sends the body's token as X-XSRF-TOKEN.
  async csrfToken() {
    const url = `${this.apiBase}/csrf/token`;
    const res = await this.browser.request(url, { headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new EsignetApiError('csrf', res, `HTTP ${res.status}`);
    const cookie = this.browser.jar.get('XSRF-TOKEN', `${this.apiBase}/authorization/v3/oauth-details`);
    if (!cookie) throw new EsignetApiError('csrf', res, 'no XSRF-TOKEN cookie for /authorization/**');
    if (!res.json || res.json.token !== cookie) {
      throw new EsignetApiError('csrf', res,
        `body token ${res.json?.token} differs from the XSRF-TOKEN cookie ${cookie}`);
    }
    if (res.json.headerName !== undefined && res.json.headerName !== 'X-XSRF-TOKEN') {
      throw new EsignetApiError('csrf', res, `headerName ${res.json.headerName}`);
    }
    this.csrf = res.json.token;
    return this.csrf;
  }

  async post(step, path, request, { txn } = {}) {
    if (!this.csrf) await this.csrfToken();
    const headers = { 'x-xsrf-token': this.csrf, accept: 'application/json' };
    if (txn) {
      headers['oauth-details-key'] = txn.transactionId;
      headers['oauth-details-hash'] = txn.hash;
    }
    const res = await this.browser.request(`${this.apiBase}${path}`, {
      method: 'POST', headers, json: envelope(request),
    });
    return { res, response: expectOk(step, res) };
  }

  // POST /authorization/v3/oauth-details with the /authorize parameters. Returns the transaction:
  // {transactionId, hash, details (the response), request}.
  // A pushed request (RFC 9126) goes to par-oauth-details with {clientId, requestUri}, as the
  // UI does when /authorize carries a request_uri (esignet.md §4.2).
  async oauthDetails(authorizeUrl) {
    const q = new URL(authorizeUrl).searchParams;
    const pushed = q.get('request_uri') !== null;
    const request = pushed
      ? { clientId: q.get('client_id'), requestUri: q.get('request_uri') }
      : oauthDetailsRequest(authorizeUrl);
    const path = pushed ? '/authorization/par-oauth-details' : '/authorization/v3/oauth-details';
    const { res, response } = await this.post('oauth-details', path, request);
    if (typeof response.transactionId !== 'string' || !response.transactionId) {
      throw new EsignetApiError('oauth-details', res, 'no transactionId');
    }
    return { transactionId: response.transactionId, hash: oauthDetailsHash(response), details: response, request };
  }

  async sendOtp(txn, individualId, otpChannels = ['email']) {
    const { response } = await this.post('send-otp', '/authorization/send-otp',
      { transactionId: txn.transactionId, individualId, otpChannels }, { txn });
    return response;
  }

  async authenticate(txn, individualId, challengeList) {
    const { response } = await this.post('authenticate', '/authorization/v3/authenticate',
      { transactionId: txn.transactionId, individualId, challengeList }, { txn });
    return response;
  }

  async claimDetails(txn) {
    const res = await this.browser.request(`${this.apiBase}/authorization/claim-details`, {
      headers: {
        accept: 'application/json',
        'oauth-details-key': txn.transactionId,
        'oauth-details-hash': txn.hash,
      },
    });
    return expectOk('claim-details', res);
  }

  async authCode(txn, acceptedClaims, permittedAuthorizeScopes = []) {
    const { res, response } = await this.post('auth-code', '/authorization/auth-code',
      { transactionId: txn.transactionId, acceptedClaims, permittedAuthorizeScopes }, { txn });
    if (!response.code || !response.redirectUri) {
      throw new EsignetApiError('auth-code', res, 'no code or redirectUri');
    }
    return response;
  }

  // The redirect the UI performs after auth-code: redirectUri?state=..&code=..&iss=<issuer>
  // (spec §5.7; the parameters are added to any query the registered URI has).
  static redirectUrl(authCode, issuer) {
    const u = new URL(authCode.redirectUri);
    if (authCode.state !== undefined && authCode.state !== null) u.searchParams.set('state', authCode.state);
    u.searchParams.set('code', authCode.code);
    u.searchParams.set('iss', issuer);
    return u.toString();
  }

  // The whole OTP login for the demo identity. Returns {txn, otp, auth, claimDetails, authCode,
  // redirect} where redirect is the URL the browser goes to next.
  async loginWithOtp(authorizeUrl, {
    issuer, individualId = DEMO_INDIVIDUAL_ID, otp = DEMO_OTP, otpChannels = ['email'],
    acceptClaims = (details) => [...(details.essentialClaims || []), ...(details.voluntaryClaims || [])],
    withClaimDetails = false,
  } = {}) {
    await this.csrfToken();
    const txn = await this.oauthDetails(authorizeUrl);
    const sent = await this.sendOtp(txn, individualId, otpChannels);
    const auth = await this.authenticate(txn, individualId,
      [{ authFactorType: 'OTP', challenge: otp, format: 'alpha-numeric' }]);
    const cd = withClaimDetails ? await this.claimDetails(txn) : undefined;
    const authCode = await this.authCode(txn, acceptClaims(txn.details, auth), []);
    return { txn, otp: sent, auth, claimDetails: cd, authCode, redirect: EsignetUi.redirectUrl(authCode, issuer) };
  }
}
