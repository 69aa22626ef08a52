// The demo relying party's signing key for private_key_jwt: an RSA-2048 private JWK (RS256), made
// on first run into a file only its owner can read (0600), and reused afterwards so that the
// registered client keeps working across restarts.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

// RFC 7638 thumbprint of an RSA key: SHA-256 over the required members in lexical order.
function thumbprint(jwk) {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

function create(file) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const key = { kty: jwk.kty, kid: `demo-rp-${thumbprint(jwk).slice(0, 16)}`, use: 'sig', alg: 'RS256', ...jwk };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a key that appeared meanwhile; the mode applies at creation.
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(key, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  return key;
}

// Returns {privateJwk, publicJwk, created}. Refuses a key file that others can read or that does
// not hold an RSA or EC private key.
export function loadOrCreateKey(file) {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    const key = create(file);
    return { privateJwk: key, publicJwk: publicOf(key), created: true };
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new Error(`${file} can be read by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`);
  }
  let key;
  try {
    key = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not a JWK: ${e.message}`);
  }
  if (!key || !['RSA', 'EC'].includes(key.kty) || typeof key.d !== 'string') {
    throw new Error(`${file} does not hold an RSA or EC private JWK`);
  }
  if (!key.alg) key.alg = key.kty === 'RSA' ? 'RS256' : 'ES256';
  return { privateJwk: key, publicJwk: publicOf(key), created: false };
}

// The public half: only the public members and the key's metadata.
export function publicOf(jwk) {
  const members = jwk.kty === 'RSA' ? ['kty', 'n', 'e'] : ['kty', 'crv', 'x', 'y'];
  const out = {};
  for (const m of [...members, 'kid', 'use', 'alg']) if (jwk[m] !== undefined) out[m] = jwk[m];
  return out;
}
