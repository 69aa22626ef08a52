// The demo relying party's HTTP handler: sessions in memory behind an HttpOnly cookie, the
// authorization request (PKCE S256, state, nonce), the callback (state and iss checked, code
// redeemed with private_key_jwt, ID token and signed userinfo verified by openid-client) and the
// pages of pages.mjs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTIONS, claimsPage, errorPage, homePage, notFoundPage, refusedPage } from './pages.mjs';
import { DEMO_ACRS } from './register.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = {
  '/static/style.css': ['text/css; charset=utf-8', readFileSync(path.join(here, '..', 'static', 'style.css'))],
  '/static/logo.svg': ['image/svg+xml', readFileSync(path.join(here, '..', 'static', 'logo.svg'))],
};

const COOKIE = 'demo_rp_session';
const SESSION_IDLE_MS = 60 * 60 * 1000;
const PENDING_MS = 10 * 60 * 1000;
const MAX_PENDING = 10;
const MAX_SESSIONS = 10000;
const SCOPE = 'openid profile email phone address';

function parseCookies(header) {
  const out = {};
  for (const part of (header || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

export class DemoApp {
  // client: an openid-client Client; issuer: its Issuer; redirectUri: the registered one.
  constructor({ client, issuer, generators, redirectUri, log = () => {} }) {
    this.client = client;
    this.issuer = issuer;
    this.generators = generators;
    this.redirectUri = redirectUri;
    this.log = log;
    this.sessions = new Map();
    this.origin = new URL(redirectUri).origin;
    const idp = new URL(issuer.metadata.authorization_endpoint).origin;
    // No script at all; forms go to this site, whose /login redirects to the identity provider
    // (a redirect after a form submission is checked against form-action too).
    this.csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
      `form-action 'self' ${idp}; base-uri 'none'; frame-ancestors 'none'`;
  }

  handler() {
    return (req, res) => this.handle(req, res).catch((e) => {
      this.log(`error: ${req.method} ${req.url}: ${e.stack || e}`);
      if (!res.headersSent) this.send(res, 500, errorPage({ error: 'server_error', detail: 'The demo relying party failed; see its log.' }));
      else res.destroy();
    });
  }

  // The caller's session, created when `create` is set. Expired sessions are dropped lazily.
  session(req, res, create) {
    const now = Date.now();
    const sid = parseCookies(req.headers.cookie)[COOKIE];
    let s = sid && this.sessions.get(sid);
    if (s && now - s.seen > SESSION_IDLE_MS) {
      this.sessions.delete(sid);
      s = null;
    }
    if (!s && create) {
      if (this.sessions.size >= MAX_SESSIONS) this.sweep(now);
      const id = randomBytes(32).toString('base64url');
      s = { id, seen: now, pending: new Map(), user: null };
      this.sessions.set(id, s);
      res.setHeader('set-cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
    }
    if (s) s.seen = now;
    return s || null;
  }

  sweep(now) {
    for (const [id, s] of this.sessions) if (now - s.seen > SESSION_IDLE_MS) this.sessions.delete(id);
    // Still full: the oldest go (Map keeps insertion order).
    for (const id of this.sessions.keys()) {
      if (this.sessions.size < MAX_SESSIONS) break;
      this.sessions.delete(id);
    }
  }

  send(res, status, html, headers = {}) {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': this.csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      ...headers,
    });
    res.end(html);
  }

  redirect(res, location) {
    res.writeHead(303, { location, 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
    res.end();
  }

  async handle(req, res) {
    const url = new URL(req.url, this.origin);
    const route = `${req.method} ${url.pathname}`;
    const issuer = this.issuer.issuer;
    if (STATIC[url.pathname] && (req.method === 'GET' || req.method === 'HEAD')) {
      const [type, body] = STATIC[url.pathname];
      res.writeHead(200, { 'content-type': type, 'cache-control': 'max-age=3600', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    switch (route) {
      case 'GET /': {
        const s = this.session(req, res, false);
        if (s && s.user) this.send(res, 200, claimsPage({ issuer, ...s.user }));
        else this.send(res, 200, homePage({ issuer }));
        return;
      }
      case 'GET /login':
        this.login(req, res, url);
        return;
      case 'GET /callback':
        await this.callback(req, res);
        return;
      case 'POST /logout': {
        // Only from this site's own page (a cross-site form would not carry the Lax cookie
        // anyway).
        const origin = req.headers.origin;
        if (origin && origin !== this.origin) {
          this.send(res, 403, refusedPage({ issuer, reason: 'sign-out from another site' }));
          return;
        }
        const s = this.session(req, res, false);
        if (s) this.sessions.delete(s.id);
        res.setHeader('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
        this.redirect(res, '/');
        return;
      }
      default:
        this.send(res, 404, notFoundPage());
    }
  }

  // Starts a sign-in: remembers state, nonce and the PKCE verifier in the session and sends the
  // browser to the authorization endpoint.
  login(req, res, url) {
    const choice = {};
    for (const name of Object.keys(OPTIONS)) {
      const v = url.searchParams.get(name) || '';
      choice[name] = OPTIONS[name].some(([allowed]) => allowed === v) ? v : '';
    }
    const s = this.session(req, res, true);
    const now = Date.now();
    for (const [k, p] of s.pending) if (now - p.at > PENDING_MS) s.pending.delete(k);
    while (s.pending.size >= MAX_PENDING) s.pending.delete(s.pending.keys().next().value);
    const { generators } = this;
    const pending = {
      state: generators.state(), nonce: generators.nonce(), code_verifier: generators.codeVerifier(),
      at: now,
    };
    s.pending.set(pending.state, pending);
    const params = {
      scope: SCOPE,
      redirect_uri: this.redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: generators.codeChallenge(pending.code_verifier),
      code_challenge_method: 'S256',
      acr_values: choice.acr || DEMO_ACRS.join(' '),
    };
    if (choice.ui_locales) params.ui_locales = choice.ui_locales;
    if (choice.prompt) params.prompt = choice.prompt;
    this.redirect(res, this.client.authorizationUrl(params));
  }

  async callback(req, res) {
    const issuer = this.issuer.issuer;
    const params = this.client.callbackParams(req);
    const s = this.session(req, res, false);
    const pending = s && typeof params.state === 'string' ? s.pending.get(params.state) : null;
    if (!pending) {
      // No sign-in with this state was started in this browser (or it was already used).
      this.send(res, 400, refusedPage({
        issuer,
        reason: 'This answer does not belong to a sign-in started in this browser, or it was already used.',
      }));
      return;
    }
    s.pending.delete(params.state); // single use
    let tokens;
    let userinfo;
    try {
      // Checks state and iss (RFC 9207) first, then turns an error response into an OPError;
      // then the token request with private_key_jwt and the PKCE verifier, and the ID token
      // (signature, iss, aud, exp, nonce, at_hash).
      tokens = await this.client.callback(this.redirectUri, params, {
        state: pending.state, nonce: pending.nonce, code_verifier: pending.code_verifier,
        response_type: 'code',
      });
      // A signed JWT (application/jwt): signature and sub checked against the ID token.
      userinfo = await this.client.userinfo(tokens);
    } catch (e) {
      if (e.name === 'OPError') {
        this.send(res, 200, errorPage({ issuer, error: e.error, description: e.error_description }));
      } else {
        this.log(`callback refused: ${e.message}`);
        this.send(res, 400, refusedPage({ issuer, reason: e.message }));
      }
      return;
    }
    s.user = { userinfo, idToken: tokens.claims() };
    this.log(`signed in: sub ${s.user.idToken.sub} acr ${s.user.idToken.acr}`);
    this.redirect(res, '/');
  }
}
