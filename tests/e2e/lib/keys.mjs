// Key pairs of the relying parties: JWK (for registration and openid-client) and PEM (for Apache).
import { createHash, generateKeyPairSync } from 'node:crypto';

// RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
export function jwkThumbprint(jwk) {
  let members;
  if (jwk.kty === 'RSA') members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
  else if (jwk.kty === 'EC') members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  else throw new Error(`unsupported kty ${jwk.kty}`);
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

// type: 'RSA' (2048-bit) or 'EC' (P-256). use: 'sig' or 'enc'. alg: the JWA algorithm the key is
// used with (RS256, PS256, ES256, RSA-OAEP-256, ...).
export function generateKey({ type = 'RSA', use = 'sig', alg } = {}) {
  const { publicKey, privateKey } = type === 'RSA'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ format: 'jwk' });
  const kid = jwkThumbprint(pub);
  const meta = { kid, use, alg: alg || (type === 'RSA' ? 'RS256' : 'ES256') };
  return {
    kid,
    alg: meta.alg,
    publicJwk: { ...pub, ...meta },
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta },
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }),
    // PKCS#1 for RSA ("BEGIN RSA PRIVATE KEY") is what every OpenSSL-based reader accepts.
    privatePem: type === 'RSA'
      ? privateKey.export({ format: 'pem', type: 'pkcs1' })
      : privateKey.export({ format: 'pem', type: 'sec1' }),
    publicKey,
    privateKey,
  };
}
