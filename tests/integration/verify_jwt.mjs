// Verifies a JWT (argv[2]) against a JWKS read from stdin with the npm `jose` package, an
// implementation independent of ours. Prints the claims; exits non-zero when verification fails.
import { createLocalJWKSet, jwtVerify } from 'jose';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const jwks = createLocalJWKSet(JSON.parse(Buffer.concat(chunks).toString()));
try {
  const { payload } = await jwtVerify(process.argv[2], jwks, { algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] });
  process.stdout.write(JSON.stringify(payload));
} catch (e) {
  process.stderr.write(`verification failed: ${e.code || e.message}\n`);
  process.exit(1);
}
