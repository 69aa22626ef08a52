// A small "browser" for the end-to-end tests: a cookie jar (RFC 6265 storage and matching rules)
// over node:http with the headers a browser sends, redirects followed by hand so that every hop is seen,
// and a transcript of all exchanges for failure messages.
import http from 'node:http';
import https from 'node:https';
import { preview } from './util.mjs';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

// Hosts whose http:// origin browsers treat as potentially trustworthy: Secure cookies are set
// and sent there too (Chromium and Firefox do this for loopback).
function trustworthy(url) {
  return url.protocol === 'https:' || LOOPBACK.test(url.hostname);
}

function defaultPath(url) {
  const p = url.pathname;
  if (!p.startsWith('/') || p.lastIndexOf('/') === 0) return '/';
  return p.slice(0, p.lastIndexOf('/'));
}

function domainMatch(host, domain) {
  return host === domain || (host.endsWith(`.${domain}`) && !/^[\d.]+$/.test(host));
}

function pathMatch(reqPath, cookiePath) {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
}

export class CookieJar {
  constructor() {
    this.cookies = []; // {name, value, domain, hostOnly, path, secure, httpOnly, sameSite, expires}
  }

  // Stores one Set-Cookie header value received from `url` (RFC 6265 §5.2, §5.3).
  setCookie(header, url) {
    const u = new URL(url);
    const parts = header.split(';');
    const nv = parts.shift();
    const eq = nv.indexOf('=');
    if (eq <= 0) return; // no name: ignored
    const name = nv.slice(0, eq).trim();
    const value = nv.slice(eq + 1).trim();
    const c = {
      name, value, domain: u.hostname, hostOnly: true, path: defaultPath(u),
      secure: false, httpOnly: false, sameSite: null, expires: null,
    };
    let maxAgeSeen = false;
    for (const attr of parts) {
      const i = attr.indexOf('=');
      const k = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
      const v = i < 0 ? '' : attr.slice(i + 1).trim();
      if (k === 'max-age') {
        if (/^-?\d+$/.test(v)) {
          const n = parseInt(v, 10);
          c.expires = n <= 0 ? 0 : Date.now() + n * 1000;
          maxAgeSeen = true;
        }
      } else if (k === 'expires') {
        const t = Date.parse(v);
        if (!maxAgeSeen && !Number.isNaN(t)) c.expires = t;
      } else if (k === 'domain') {
        const d = v.replace(/^\./, '').toLowerCase();
        if (d) {
          if (!domainMatch(u.hostname, d)) return; // a cookie for someone else's domain
          c.domain = d;
          c.hostOnly = false;
        }
      } else if (k === 'path') {
        c.path = v.startsWith('/') ? v : defaultPath(u);
      } else if (k === 'secure') {
        c.secure = true;
      } else if (k === 'httponly') {
        c.httpOnly = true;
      } else if (k === 'samesite') {
        c.sameSite = v.toLowerCase();
      }
    }
    if (c.secure && !trustworthy(u)) return;
    this.cookies = this.cookies.filter(
      (o) => !(o.name === c.name && o.domain === c.domain && o.path === c.path));
    if (c.expires !== null && c.expires <= Date.now()) return; // deletion
    this.cookies.push(c);
  }

  // Cookies that a request to `url` carries, longest path first (RFC 6265 §5.4).
  cookiesFor(url) {
    const u = new URL(url);
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires === null || c.expires > now);
    return this.cookies
      .filter((c) => (c.hostOnly ? u.hostname === c.domain : domainMatch(u.hostname, c.domain)))
      .filter((c) => pathMatch(u.pathname, c.path))
      .filter((c) => !c.secure || trustworthy(u))
      .sort((a, b) => b.path.length - a.path.length);
  }

  header(url) {
    return this.cookiesFor(url).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name, url) {
    const c = this.cookiesFor(url).find((x) => x.name === name);
    return c ? c.value : undefined;
  }
}

// One HTTP/1.1 exchange with node:http(s). Not the global fetch: fetch (undici) always sends
// Sec-Fetch-Mode: cors, while a browser navigating sends "navigate", and relying parties such as
// mod_auth_openidc answer non-navigation requests with 401 instead of a login redirect.
function exchange(url, { method, headers, body }) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, timeout: 30000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// Response headers with a fetch-like get() (names are lower-case in node:http).
class Headers {
  constructor(raw) {
    this.raw = raw;
  }

  get(name) {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : String(v);
  }

  getSetCookie() {
    const v = this.raw['set-cookie'];
    return v === undefined ? [] : [].concat(v);
  }
}

export class Browser {
  constructor({ userAgent = 'Mozilla/5.0 (X11; Linux x86_64) esignet-c-e2e/1.0' } = {}) {
    this.jar = new CookieJar();
    this.userAgent = userAgent;
    this.transcript = [];
  }

  // One HTTP exchange, cookies in and out, no redirect following. `kind` sets the headers a
  // browser adds: 'navigate' (address bar, links, redirects) or 'api' (the login page's XHR).
  // Returns {url, status, headers, text, json}.
  async request(url, { method = 'GET', headers = {}, body, json, kind = 'api' } = {}) {
    const u = new URL(url);
    const h = { host: u.host, 'user-agent': this.userAgent, 'accept-language': 'en' };
    if (kind === 'navigate') {
      Object.assign(h, {
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'upgrade-insecure-requests': '1',
        'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site',
        'sec-fetch-user': '?1',
      });
    } else {
      Object.assign(h, {
        accept: 'application/json, text/plain, */*',
        'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin',
      });
      if (method !== 'GET' && method !== 'HEAD') h.origin = u.origin;
    }
    for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
    const cookie = this.jar.header(url);
    if (cookie) h.cookie = cookie;
    let payload = body;
    if (json !== undefined) {
      payload = JSON.stringify(json);
      h['content-type'] = 'application/json';
    }
    if (payload !== undefined) h['content-length'] = String(Buffer.byteLength(payload));
    const res = await exchange(url, { method, headers: h, body: payload });
    const resHeaders = new Headers(res.headers);
    for (const sc of resHeaders.getSetCookie()) this.jar.setCookie(sc, url);
    const text = res.body.toString('utf8');
    let parsed;
    if ((resHeaders.get('content-type') || '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    const entry = {
      method, url, status: res.status, requestBody: payload, headers: resHeaders, text, json: parsed,
    };
    this.transcript.push(entry);
    return entry;
  }

  // Navigates like a browser's address bar: GET, following 3xx Location headers. Stops before
  // fetching a URL for which stopBefore(url) is true and returns {stoppedAt: url, hops}.
  async navigate(url, { maxRedirects = 10, stopBefore } = {}) {
    const hops = [];
    let current = url;
    for (let i = 0; i <= maxRedirects; i++) {
      if (stopBefore && stopBefore(new URL(current))) return { stoppedAt: current, hops };
      const res = await this.request(current, { kind: 'navigate' });
      hops.push(res);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        current = new URL(loc, current).toString();
        continue;
      }
      return { ...res, hops };
    }
    throw new Error(`too many redirects starting at ${url}:\n${this.describe(hops.length)}`);
  }

  // The last n exchanges, for assertion messages.
  describe(n = 6) {
    return this.transcript.slice(-n).map((e) =>
      `${e.method} ${e.url}${e.requestBody ? `\n  body: ${preview(e.requestBody, 400)}` : ''}` +
      `\n  -> ${e.status}${e.headers.get('location') ? ` Location: ${e.headers.get('location')}` : ''}` +
      `\n  ${preview(e.text, 600)}`).join('\n');
  }
}
