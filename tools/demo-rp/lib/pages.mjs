// The demo relying party's pages: plain HTML and one style sheet, no script. Every value that
// comes from outside (claims, error codes and descriptions, the issuer) goes through esc().

export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

const CLAIM_LABELS = {
  name: 'Name', given_name: 'Given name', middle_name: 'Middle name', family_name: 'Family name',
  nickname: 'Nickname', preferred_username: 'Username', birthdate: 'Date of birth',
  gender: 'Gender', email: 'E-mail address', email_verified: 'E-mail address verified',
  phone_number: 'Phone number', phone_number_verified: 'Phone number verified',
  address: 'Address', picture: 'Photo', locale: 'Language', zoneinfo: 'Time zone',
  website: 'Website', profile: 'Profile page', updated_at: 'Last updated',
};

const JWT_MEMBERS = new Set(['sub', 'iss', 'aud', 'iat', 'exp', 'nbf', 'jti', 'azp', 'nonce']);

const ACR_LABELS = {
  'mosip:idp:acr:generated-code': 'One-time code',
  'mosip:idp:acr:password': 'Password',
  'mosip:idp:acr:knowledge': 'Security questions',
};

// Choices of the sign-in form; the server accepts only these values.
export const OPTIONS = {
  acr: [['', 'Let me choose on the eSignet page'], ...Object.entries(ACR_LABELS)],
  ui_locales: [['', 'My browser\'s language'], ['en', 'English'], ['ar', 'العربية (Arabic)']],
  prompt: [['', 'Ask only when needed'], ['login', 'Always sign in again (prompt=login)'],
    ['consent', 'Always ask for consent (prompt=consent)'],
    ['none', 'Only if already signed in, without any page (prompt=none)']],
};

// What an error from the identity provider means for the person in front of the page.
const ERRORS = {
  access_denied: ['You cancelled', 'You cancelled the sign-in at eSignet, so nothing was shared with this site.'],
  login_required: ['You are not signed in at eSignet', 'This site asked to sign you in without showing any page (prompt=none), but you are not signed in at eSignet in this browser. Sign in normally.'],
  consent_required: ['Consent is needed', 'This site asked to sign you in without showing any page (prompt=none), but you have not yet agreed to share your information with it. Sign in normally.'],
  interaction_required: ['eSignet needs to ask you something', 'A sign-in without any page (prompt=none) was not possible. Sign in normally.'],
};

function page(title, body, { issuer } = {}) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Demo shop</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header class="bar">
<a class="brand" href="/"><img src="/static/logo.svg" alt="" width="32" height="32"> Demo shop</a>
<span class="note">a relying party demo for esignet-c</span>
</header>
<main>
${body}
</main>
<footer>${issuer ? `Identity provider: <code>${esc(issuer)}</code>` : ''}</footer>
</body>
</html>
`;
}

function select(name, label, current) {
  const opts = OPTIONS[name].map(([v, text]) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(text)}</option>`).join('');
  return `<label for="opt-${esc(name)}">${esc(label)}</label><select id="opt-${esc(name)}" name="${esc(name)}">${opts}</select>`;
}

export function homePage({ issuer, demoHint = true }) {
  return page('Welcome', `<h1>Welcome to the demo shop</h1>
<p>This site signs you in with eSignet. The button below starts the OpenID Connect authorization
code flow with PKCE (S256); on the way back the site checks <code>state</code> and
<code>iss</code>, redeems the code with a <code>private_key_jwt</code> client assertion, verifies
the ID token and the signed userinfo, and shows you what it learnt.</p>
<form class="sign-in" method="get" action="/login">
<button type="submit" id="sign-in" class="primary">Sign in with eSignet</button>
<details id="options">
<summary>Options</summary>
<div class="fields">
${select('acr', 'Sign-in method', '')}
${select('ui_locales', 'Language of the eSignet pages', '')}
${select('prompt', 'When to show the eSignet pages', '')}
</div>
</details>
</form>
${demoHint ? `<p class="hint">Demo identity: individual ID <code>8267411571</code>, one-time code
<code>111111</code> (the mock identity system only), password <code>Sid@Demo2024</code>.</p>` : ''}`, { issuer });
}

function claimValue(v) {
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (v && typeof v === 'object') {
    if (typeof v.formatted === 'string') return esc(v.formatted);
    return Object.entries(v).map(([k, x]) => `${esc(k)}: ${esc(typeof x === 'object' ? JSON.stringify(x) : x)}`).join('<br>');
  }
  return esc(v);
}

function when(seconds) {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';
}

export function claimsPage({ issuer, userinfo, idToken }) {
  // The person's claims in a familiar order; the members of the userinfo JWT itself (iss, aud,
  // iat, ...) are not about the person.
  const order = Object.keys(CLAIM_LABELS);
  const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length);
  const rows = Object.entries(userinfo).filter(([k]) => !JWT_MEMBERS.has(k))
    .sort(([a], [b]) => rank(a) - rank(b)).map(([k, v]) => `<tr data-claim="${esc(k)}"><th scope="row">${esc(CLAIM_LABELS[k] || k)}</th><td>${claimValue(v)}</td></tr>`).join('\n');
  const amr = Array.isArray(idToken.amr) ? idToken.amr.join(', ') : (idToken.amr || '');
  const about = [
    ['sub', 'Subject (pairwise, for this site only)', idToken.sub],
    ['acr', 'Sign-in method (acr)', `${ACR_LABELS[idToken.acr] || ''} ${idToken.acr ? `(${idToken.acr})` : ''}`.trim()],
    ['amr', 'Authentication methods (amr)', amr],
    ['auth_time', 'Signed in at', when(idToken.auth_time)],
    ['iss', 'Issuer', idToken.iss],
  ].map(([k, label, v]) => `<tr data-claim="${esc(k)}"><th scope="row">${esc(label)}</th><td>${esc(v ?? '')}</td></tr>`).join('\n');
  return page('Signed in', `<h1 id="welcome">Hello, ${esc(userinfo.given_name || userinfo.name || 'there')}</h1>
<p>You are signed in. eSignet vouched for this information about you; its signatures on the ID token
and on the userinfo response were verified.</p>
<table id="claims">
<caption>Your verified claims</caption>
<thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="2">eSignet shared no claims.</td></tr>'}
</tbody>
</table>
<table id="sign-in-facts">
<caption>About this sign-in (from the ID token)</caption>
<tbody>
${about}
</tbody>
</table>
<form method="post" action="/logout" class="actions">
<button type="submit" id="sign-out">Sign out</button>
</form>`, { issuer });
}

export function errorPage({ issuer, error, description, detail }) {
  const [title, text] = ERRORS[error] || ['Sign-in did not complete', 'eSignet did not sign you in.'];
  return page(title, `<h1 id="error-title">${esc(title)}</h1>
<p id="error-text">${esc(text)}</p>
<dl class="details">
<dt>Error code</dt><dd><code id="error-code">${esc(error)}</code></dd>
${description ? `<dt>Description</dt><dd id="error-description">${esc(description)}</dd>` : ''}
${detail ? `<dt>Detail</dt><dd id="error-detail">${esc(detail)}</dd>` : ''}
</dl>
<p><a id="start-again" class="button" href="/">Start again</a></p>`, { issuer });
}

// A callback this site cannot accept (unknown or reused state, a forged or tampered response):
// not the identity provider's error, but the relying party's refusal.
export function refusedPage({ issuer, reason }) {
  return errorPage({ issuer, error: 'invalid_callback', detail: reason });
}

export function notFoundPage() {
  return page('Not found', '<h1>Not found</h1><p><a href="/">Go to the start page</a></p>');
}
