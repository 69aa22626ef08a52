// Interop with the npm `jose` package (an independent JOSE implementation on Node's WebCrypto):
// it verifies our JWS and decrypts our JWE, produces JWS and JWE that esg-jose must verify and
// decrypt, and computes the same RFC 7638 thumbprints. Run by ctest through jose_node.sh with
// ESG_JOSE set to the esg-jose binary. Prints one line per check and "N passed, M failed".
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';

const bin = process.env.ESG_JOSE;
if (!bin) {
  console.error('ESG_JOSE is not set');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'esg-jose-interop-'));
let passed = 0;
let failed = 0;

function esg(args, input) {
  return execFileSync(bin, args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

// Runs esg-jose and reports whether it exited with status 0.
function esgOk(args, input) {
  try {
    esg(args, input);
    return true;
  } catch {
    return false;
  }
}

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    failed++;
  }
}

function assertEq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

function writeJwk(name, jwk) {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(jwk));
  return path;
}

function publicPart(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

const keygenSpec = {
  RS256: 'RSA-2048', RS512: 'RSA-3072', PS256: 'RSA-2048', PS384: 'RSA-2048',
  ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', EdDSA: 'Ed25519',
};
const payload = JSON.stringify({ iss: 'https://idp.example', sub: 'interop', n: 'é✓' });

for (const alg of Object.keys(keygenSpec)) {
  // Our key and token, checked by jose.
  await check(`${alg}: esg-jose signs, jose verifies`, async () => {
    const ours = JSON.parse(esg(['keygen', keygenSpec[alg]]).toString());
    const keyFile = writeJwk(`ours-${alg}.jwk`, ours);
    const token = esg(['sign', '-k', keyFile, '-a', alg, '-H', '{"typ":"JWT","kid":"k1"}'], payload)
      .toString().trim();
    const key = await jose.importJWK(publicPart(ours), alg);
    const { payload: got, protectedHeader } = await jose.compactVerify(token, key, { algorithms: [alg] });
    assertEq(new TextDecoder().decode(got), payload, 'payload');
    assertEq(protectedHeader.kid, 'k1', 'kid');
    const thp = esg(['thumbprint', '-k', keyFile]).toString().trim();
    assertEq(thp, await jose.calculateJwkThumbprint(publicPart(ours), 'sha256'), 'thumbprint');
  });
  // jose's key and token, checked by us; a tampered copy must fail.
  await check(`${alg}: jose signs, esg-jose verifies`, async () => {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    const jwk = await jose.exportJWK(privateKey);
    const keyFile = writeJwk(`theirs-${alg}.jwk`, jwk);
    const token = await new jose.CompactSign(new TextEncoder().encode(payload))
      .setProtectedHeader({ alg, typ: 'JWT' })
      .sign(privateKey);
    assertEq(esg(['verify', '-k', keyFile, '-a', alg], token).toString(), payload, 'payload');
    const [h, p, s] = token.split('.');
    const flipped = s[5] === 'A' ? 'B' : 'A';
    const bad = `${h}.${p}.${s.slice(0, 5)}${flipped}${s.slice(6)}`;
    if (esgOk(['verify', '-k', keyFile, '-a', alg], bad)) throw new Error('tampered token verified');
    if (esgOk(['verify', '-k', keyFile, '-a', alg === 'ES256' ? 'ES384' : 'ES256'], token))
      throw new Error('algorithm outside the allow-list verified');
    const thp = esg(['thumbprint', '-k', keyFile]).toString().trim();
    assertEq(thp, await jose.calculateJwkThumbprint(publicPart(jwk), 'sha256'), 'thumbprint');
  });
}

// The RFC 8037 A.4 vector, checked by jose too, and our export of its key.
await check('RFC 8037 A.4 Ed25519 vector', async () => {
  const data = join(new URL('.', import.meta.url).pathname, '..', 'data', 'jose');
  const token = readFileSync(join(data, 'rfc8037_a4.jws'), 'utf8').trim();
  const pub = JSON.parse(esg(['pub', '-k', join(data, 'rfc8037_a1.jwk')]).toString());
  const { payload: got } = await jose.compactVerify(token, await jose.importJWK(pub, 'EdDSA'));
  assertEq(new TextDecoder().decode(got), 'Example of Ed25519 signing', 'payload');
});

// The HS256 confusion: a token MACed with our public JWK text must not verify.
await check('HS256 with the public key as secret is refused', async () => {
  const ours = JSON.parse(esg(['keygen', 'RSA-2048']).toString());
  const keyFile = writeJwk('hs-victim.jwk', ours);
  const secret = new TextEncoder().encode(JSON.stringify(publicPart(ours)));
  const token = await new jose.CompactSign(new TextEncoder().encode('{}'))
    .setProtectedHeader({ alg: 'HS256' })
    .sign(secret);
  if (esgOk(['verify', '-k', keyFile, '-a', 'RS256,PS256,ES256,EdDSA'], token))
    throw new Error('HS256 token verified');
});

for (const alg of ['RSA-OAEP-256', 'RSA-OAEP']) {
  for (const enc of ['A256GCM', 'A128GCM', 'A128CBC-HS256', 'A256CBC-HS512']) {
    await check(`${alg} ${enc}: esg-jose encrypts, jose decrypts`, async () => {
      const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
      const keyFile = writeJwk(`enc-${alg}-${enc}.jwk`, await jose.exportJWK(publicKey));
      const token = esg(['encrypt', '-k', keyFile, '-a', alg, '-e', enc, '-H', '{"cty":"JWT","kid":"e1"}'],
        payload).toString().trim();
      const { plaintext, protectedHeader } = await jose.compactDecrypt(token, privateKey, {
        keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc],
      });
      assertEq(new TextDecoder().decode(plaintext), payload, 'plaintext');
      assertEq(protectedHeader.cty, 'JWT', 'cty');
      assertEq(protectedHeader.kid, 'e1', 'kid');
    });
    await check(`${alg} ${enc}: jose encrypts, esg-jose decrypts`, async () => {
      const ours = JSON.parse(esg(['keygen', 'RSA-2048']).toString());
      const keyFile = writeJwk(`dec-${alg}-${enc}.jwk`, ours);
      const pub = await jose.importJWK(publicPart(ours), alg);
      const token = await new jose.CompactEncrypt(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg, enc, cty: 'JWT' })
        .encrypt(pub);
      assertEq(esg(['decrypt', '-k', keyFile, '-a', alg, '-e', enc], token).toString(), payload,
        'plaintext');
      const parts = token.split('.');
      parts[3] = parts[3].slice(0, -2) + (parts[3].endsWith('AA') ? 'BA' : 'AA');
      if (esgOk(['decrypt', '-k', keyFile, '-a', alg, '-e', enc], parts.join('.')))
        throw new Error('tampered JWE decrypted');
      if (esgOk(['decrypt', '-k', keyFile, '-a', alg, '-e', enc === 'A256GCM' ? 'A128GCM' : 'A256GCM'], token))
        throw new Error('enc outside the allow-list decrypted');
    });
  }
}

rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
