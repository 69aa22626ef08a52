// A minimal stand-in for esignetd that follows the same contract (discovery, client management,
// CSRF, oauth-details v3 with its hash, send-otp, v3 authenticate, auth-code, token endpoint with
// private_key_jwt and PKCE, userinfo as JWS or nested JWE). It exists only to check the test
// harness (browser, cookie jar, Apache configuration, openid-client settings) on its own:
// E2E_OP=stub node tests/e2e/test_openid_client.mjs. ctest always runs against esignetd.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import {
  CompactEncrypt, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify,
} from 'jose';
import { IDENTITIES } from './esignetd.mjs';
import { randomToken, sha256Hex } from './util.mjs';

const b64 = (buf) => Buffer.from(buf).toString('base64url');

export class StubOp {
  constructor() {
    this.clients = new Map();
    this.txns = new Map();
    this.codes = new Map();
    this.tokens = new Map();
    this.adminToken = randomToken(32);
    this.lines = [];
    this.tokenSigningAlg = 'RS256';
  }

  get issuer() {
    return `http://127.0.0.1:${this.port}`;
  }

  get apiBase() {
    return `${this.issuer}/v1/esignet`;
  }

  logTail() {
    return this.lines.slice(-25).join('\n');
  }

  async start() {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.signKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), use: 'sig', alg: 'RS256' };
    this.jwk.kid = await calculateJwkThumbprint(this.jwk);
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        this.lines.push(`${req.method} ${req.url}`);
        this.handle(req, body, res).catch((e) => {
          this.lines.push(`error: ${e.stack}`);
          res.writeHead(500);
          res.end(String(e));
        });
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    return this;
  }

  stop() {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }

  // Same as Esignetd.registerClient, through HTTP.
  async registerClient(args) {
    const { Esignetd } = await import('./esignetd.mjs');
    return Esignetd.prototype.registerClient.call(this, args);
  }

  discovery() {
    const i = this.issuer;
    return {
      issuer: i,
      authorization_endpoint: `${i}/authorize`,
      token_endpoint: `${i}/v1/esignet/oauth/v2/token`,
      userinfo_endpoint: `${i}/v1/esignet/oidc/userinfo`,
      jwks_uri: `${i}/.well-known/jwks.json`,
      scopes_supported: ['openid', 'profile', 'email', 'phone'],
      response_types_supported: ['code'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      userinfo_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  envelope(res, response, errorCode) {
    const doc = {
      responseTime: new Date().toISOString(),
      response: errorCode ? null : response,
      errors: errorCode ? [{ errorCode, errorMessage: errorCode }] : [],
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(doc));
  }

  cookie(req, name) {
    const m = (req.headers.cookie || '').split(/;\s*/).find((c) => c.startsWith(`${name}=`));
    return m ? m.slice(name.length + 1) : undefined;
  }

  identity() {
    const doc = JSON.parse(readFileSync(IDENTITIES, 'utf8'));
    const list = Array.isArray(doc) ? doc : (doc.identities || Object.values(doc));
    return list.find((x) => Object.values(x).includes('8267411571')) || {};
  }

  async handle(req, body, res) {
    const url = new URL(req.url, this.issuer);
    const p = url.pathname;
    const json = (status, obj, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(obj));
    };
    if (p === '/.well-known/openid-configuration') return json(200, this.discovery());
    if (p === '/.well-known/jwks.json') return json(200, { keys: [this.jwk] });
    if (p === '/v1/esignet/client-mgmt/client' && req.method === 'POST') {
      if (req.headers.authorization !== `Bearer ${this.adminToken}`) return json(401, {});
      const r = JSON.parse(body).request;
      this.clients.set(r.clientId, r);
      return this.envelope(res, { clientId: r.clientId, status: 'ACTIVE' });
    }
    if (p === '/v1/esignet/csrf/token') {
      const token = randomUUID();
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `XSRF-TOKEN=${token}; Path=/` });
      return res.end(JSON.stringify({ token, parameterName: '_csrf', headerName: 'X-XSRF-TOKEN' }));
    }
    if (p.startsWith('/v1/esignet/authorization/')) {
      const csrf = this.cookie(req, 'XSRF-TOKEN');
      if (req.method === 'POST' && (!csrf || req.headers['x-xsrf-token'] !== csrf)) return json(403, {});
      const r = req.method === 'POST' ? JSON.parse(body).request : {};
      if (p.endsWith('/v3/oauth-details')) {
        const client = this.clients.get(r.clientId);
        if (!client || !client.redirectUris.includes(r.redirectUri)) return this.envelope(res, null, 'invalid_client_id');
        const transactionId = randomToken(32);
        const response = {
          transactionId, logoUrl: client.logoUri, authFactors: [[{ type: 'OTP', count: 0, subTypes: null }]],
          authorizeScopes: [], essentialClaims: [], voluntaryClaims: client.userClaims,
          configs: {}, redirectUri: r.redirectUri, clientName: { '@none': client.clientName }, credentialScopes: [],
        };
        const text = JSON.stringify(response);
        this.txns.set(transactionId, { r, client, hash: b64(createHash('sha256').update(text).digest()) });
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(`{"responseTime":"${new Date().toISOString()}","response":${text},"errors":[]}`);
      }
      const t = this.txns.get(req.headers['oauth-details-key']);
      if (!t || t.hash !== req.headers['oauth-details-hash']) return this.envelope(res, null, 'invalid_transaction');
      if (p.endsWith('/send-otp')) return this.envelope(res, { transactionId: t.r.transactionId, maskedEmail: 'x', maskedMobile: 'y' });
      if (p.endsWith('/v3/authenticate')) {
        if (r.challengeList?.[0]?.challenge !== '111111' || r.individualId !== '8267411571') return this.envelope(res, null, 'auth_failed');
        t.authTime = Math.floor(Date.now() / 1000);
        return this.envelope(res, { transactionId: r.transactionId, consentAction: 'CAPTURE' });
      }
      if (p.endsWith('/auth-code')) {
        const code = randomToken(32);
        this.codes.set(code, { ...t, accepted: r.acceptedClaims });
        this.txns.delete(r.transactionId);
        return this.envelope(res, { code, redirectUri: t.r.redirectUri, state: t.r.state, nonce: t.r.nonce });
      }
    }
    if (p === '/v1/esignet/oauth/v2/token' && req.method === 'POST') {
      const f = new URLSearchParams(body);
      const err = (e) => json(400, { error: e }, { 'cache-control': 'no-store' });
      const t = this.codes.get(f.get('code'));
      if (!t) return err('invalid_grant');
      this.codes.delete(f.get('code'));
      if (f.get('redirect_uri') !== t.r.redirectUri) return err('invalid_grant');
      const challenge = b64(createHash('sha256').update(f.get('code_verifier') || '').digest());
      if (challenge !== t.r.codeChallenge) return err('invalid_grant');
      const key = await importJWK(t.client.publicKey, t.client.publicKey.alg);
      try {
        const { payload } = await jwtVerify(f.get('client_assertion'), key, {
          issuer: t.client.clientId, subject: t.client.clientId,
          audience: [this.issuer, `${this.issuer}/v1/esignet/oauth/v2/token`],
        });
        this.lines.push(`assertion from ${t.client.clientId}: aud=${JSON.stringify(payload.aud)} alg=${JSON.parse(Buffer.from(f.get('client_assertion').split('.')[0], 'base64url')).alg}`);
        if (!payload.jti) return err('invalid_client');
      } catch (e) {
        this.lines.push(`assertion: ${e.message}`);
        return err('invalid_client');
      }
      const sub = sha256Hex(`${t.client.relyingPartyId}:8267411571`).slice(0, 32);
      const at = randomToken(32);
      const atHash = b64(createHash('sha256').update(at).digest().subarray(0, 16));
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({
        nonce: t.r.nonce, at_hash: atHash, auth_time: t.authTime, acr: 'mosip:idp:acr:generated-code',
      }).setProtectedHeader({ alg: 'RS256', kid: this.jwk.kid }).setIssuer(this.issuer)
        .setSubject(sub).setAudience(t.client.clientId).setIssuedAt(now).setExpirationTime(now + 3600)
        .sign(this.signKey);
      this.tokens.set(at, { ...t, sub });
      return json(200, { id_token: idToken, access_token: at, token_type: 'Bearer', expires_in: 3600 },
        { 'cache-control': 'no-store' });
    }
    if (p === '/v1/esignet/oidc/userinfo') {
      const t = this.tokens.get((req.headers.authorization || '').replace(/^Bearer /, ''));
      if (!t) {
        res.writeHead(401, { 'www-authenticate': 'error="invalid_token"' });
        return res.end();
      }
      const rec = this.identity();
      const id = rec.claims || rec; // identity-mock's {individual_id, claims} or eSignet's mock record
      const all = {
        name: id.fullName?.[0]?.value ?? id.name, email: id.email, phone_number: id.phone ?? id.phone_number,
        birthdate: (id.dateOfBirth ?? id.birthdate ?? '').replace(/\//g, '-'), gender: id.gender?.[0]?.value ?? id.gender,
      };
      const claims = Object.fromEntries(Object.entries(all).filter(([k]) => t.accepted.includes(k)));
      let jwt = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'RS256', kid: this.jwk.kid })
        .setIssuer(this.issuer).setSubject(t.sub).setAudience(t.client.clientId).sign(this.signKey);
      if (t.client.additionalConfig?.userinfo_response_type === 'JWE') {
        const enc = t.client.encPublicKey;
        jwt = await new CompactEncrypt(new TextEncoder().encode(jwt))
          .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: enc.kid })
          .encrypt(await importJWK(enc, 'RSA-OAEP-256'));
      }
      res.writeHead(200, { 'content-type': 'application/jwt' });
      return res.end(jwt);
    }
    res.writeHead(404);
    return res.end();
  }
}
