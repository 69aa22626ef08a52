// Registers the demo relying party with esignet-c's client management API (docs/API.md, "Client
// management"), idempotently: a client that is not there is created; one that is there with the
// same public key is brought up to date (PUT: name, redirect URI, claims, ACRs, ACTIVE); one that
// is there with another key is an error that says what to do, since a client's key never changes.

// What the demo asks for: the claims it shows and every sign-in method of the demo configuration.
export const DEMO_CLAIMS = ['name', 'given_name', 'family_name', 'email', 'email_verified',
  'phone_number', 'birthdate', 'gender', 'address'];
export const DEMO_ACRS = ['mosip:idp:acr:generated-code', 'mosip:idp:acr:password',
  'mosip:idp:acr:knowledge'];

function envelope(request) {
  return JSON.stringify({ requestTime: new Date().toISOString(), request });
}

async function call(method, url, token, request) {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(request ? { 'content-type': 'application/json' } : {}),
    },
    body: request ? envelope(request) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // reported below
  }
  const errors = (json && Array.isArray(json.errors)) ? json.errors : [];
  return { status: res.status, json, errors, text };
}

function failure(what, r) {
  const codes = r.errors.map((e) => e.errorCode).join(', ');
  const hint = r.status === 401 ? ' (wrong admin token?)' : '';
  return new Error(`${what}: HTTP ${r.status}${hint} ${codes || r.text.slice(0, 300)}`);
}

const sameKey = (a, b) => a && b && a.kty === b.kty &&
  (a.kty === 'RSA' ? a.n === b.n && a.e === b.e : a.x === b.x && a.y === b.y);

// Returns 'created' or 'updated'.
export async function registerClient({
  apiBase, adminToken, clientId, clientName, clientNameLangMap, publicJwk, redirectUri, logoUri,
}) {
  const url = `${apiBase}/client-mgmt/client`;
  const fields = {
    clientName,
    clientNameLangMap,
    userClaims: DEMO_CLAIMS,
    authContextRefs: DEMO_ACRS,
    logoUri,
    redirectUris: [redirectUri],
    grantTypes: ['authorization_code'],
    clientAuthMethods: ['private_key_jwt'],
    additionalConfig: { userinfo_response_type: 'JWS', purpose: { type: 'login' } },
  };
  const found = await call('GET', `${url}/${encodeURIComponent(clientId)}`, adminToken);
  if (found.status === 200 && found.json && found.json.response) {
    if (!sameKey(found.json.response.publicKey, publicJwk)) {
      throw new Error(`client ${clientId} is registered with another public key (was the key file ` +
        'made anew?); give another --client-id, or remove the server\'s data to start afresh');
    }
    const r = await call('PUT', `${url}/${encodeURIComponent(clientId)}`, adminToken,
      { ...fields, status: 'ACTIVE' });
    if (r.status !== 200 || r.errors.length) throw failure(`updating client ${clientId}`, r);
    return 'updated';
  }
  if (!found.errors.some((e) => e.errorCode === 'invalid_client_id')) {
    throw failure(`reading client ${clientId}`, found);
  }
  const r = await call('POST', url, adminToken, {
    clientId, relyingPartyId: clientId, publicKey: publicJwk, ...fields,
  });
  if (r.status !== 200 || r.errors.length) throw failure(`registering client ${clientId}`, r);
  return 'created';
}
