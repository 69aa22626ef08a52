// The login page's script (served as /static/login.js; embedded in esignetd at build time).
//
// It drives eSignet's browser APIs exactly as eSignet's own UI does (CSRF double-submit token,
// oauth-details-key and oauth-details-hash headers, request envelopes), so the same server also
// works with that UI. Its input is two JSON blocks in the page: "oauth-details" (the
// oauth-details response the hash is computed over) and "login-context" (hash, step, issuer,
// basePath, and the relying party's loginHint, state and uiLocales).
//
// No markup is ever built from strings: every text, including the relying party's and the
// user's, goes through textContent, attribute values or URL parameters.
'use strict';
(function () {
  const details = JSON.parse(document.getElementById('oauth-details').textContent);
  const ctx = JSON.parse(document.getElementById('login-context').textContent);
  const base = (ctx.basePath || '/v1/esignet').replace(/\/$/, '');
  const configs = details.configs || {};
  const app = document.getElementById('app');
  const title = document.getElementById('title');
  const errorBox = document.getElementById('error');
  const statusBox = document.getElementById('status');
  let csrf = null;
  let leaving = false;
  let lastError = null;

  // ---------------------------------------------------------------------------------------------
  // Texts.

  // What the user is told for each eSignet error code (docs/API.md); the code itself follows in
  // parentheses, for support.
  const MESSAGES = {
    auth_failed: 'The details you entered are not correct. Check them and try again.',
    invalid_identifier: 'Enter your individual ID.',
    invalid_individual_id: 'This individual ID is not known. Check it and try again.',
    no_email_mobile_found: 'There is no e-mail address or phone number to send a code to.',
    invalid_otp_channel: 'A code cannot be sent this way.',
    otp_expired: 'The code has expired or was not sent. Send a new code.',
    invalid_otp: 'The code is not correct. Check it and try again.',
    invalid_challenge: 'What you entered does not have the expected length or format.',
    invalid_challenge_format: 'What you entered does not have the expected format.',
    invalid_no_of_challenges: 'Fill in every field of the sign-in method.',
    auth_factor_mismatch: 'This sign-in method is not accepted for this application.',
    no_attempts_left: 'Too many attempts. Go back to the application and start again later.',
    individual_id_blocked:
      'This individual ID is blocked for a while after too many failed attempts. Try again later.',
    invalid_transaction:
      'This sign-in request has expired or was already used. Go back to the application and start again.',
    invalid_accepted_claim: 'The information you chose to share is not valid for this request.',
    invalid_permitted_scope: 'The permissions you chose are not valid for this request.',
    invalid_client_id: 'This application can no longer sign you in.',
    invalid_csrf_token: 'Your browser session changed. Reload the page and try again.',
    send_otp_failed: 'The code could not be sent. Try again in a moment.',
    unknown_error: 'Something went wrong. Try again.',
    network_error: 'The sign-in service cannot be reached. Check your connection and try again.',
  };
  // Errors after which this page can do nothing more for the transaction.
  const FINAL = new Set(['invalid_transaction', 'no_attempts_left', 'invalid_client_id']);

  const FACTOR_NAMES = {
    OTP: 'One-time code', PWD: 'Password', PIN: 'PIN', KBI: 'Security questions',
  };

  // OpenID Connect Core §5.1 claims in words.
  const CLAIM_NAMES = {
    name: 'Full name', given_name: 'Given name', family_name: 'Family name',
    middle_name: 'Middle name', nickname: 'Nickname', preferred_username: 'Username',
    profile: 'Profile page', picture: 'Photo', website: 'Website', email: 'E-mail address',
    email_verified: 'Whether your e-mail address is verified', gender: 'Gender',
    birthdate: 'Date of birth', zoneinfo: 'Time zone', locale: 'Language',
    phone_number: 'Phone number', phone_number_verified: 'Whether your phone number is verified',
    address: 'Address', updated_at: 'When your details were last updated',
    individual_id: 'Individual ID',
  };

  // The knowledge questions when the deployment configures none (identity-mock's defaults).
  const DEFAULT_KBI_FIELDS = [
    { id: 'full_name', type: 'text', label: 'Full name', autocomplete: 'name' },
    { id: 'date_of_birth', type: 'date', label: 'Date of birth', autocomplete: 'bday' },
  ];

  // ISO 639-1 codes of ui_locales to the ISO 639-3 keys of eSignet's clientName.
  const LANG3 = {
    en: 'eng', ar: 'ara', fr: 'fra', hi: 'hin', kn: 'kan', ta: 'tam', es: 'spa', pt: 'por',
  };

  // ---------------------------------------------------------------------------------------------
  // Small helpers.

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function now() { return new Date().toISOString(); }

  function showError(code, detail) {
    if (!code) {
      errorBox.textContent = '';
      return;
    }
    const text = MESSAGES[code] || MESSAGES.unknown_error;
    errorBox.textContent = detail ? `${text} ${detail}` : `${text} (${code})`;
  }

  function showStatus(text) { statusBox.textContent = text || ''; }

  function setTitle(text) {
    title.textContent = text;
    document.title = text;
  }

  // Marks a field wrong (or right again) for assistive technology and the eye.
  function invalid(input, yes) {
    if (yes) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  // The client's name in the first of the relying party's ui_locales that it has, else its
  // default. clientName is an object by ISO 639-3 language ("@none" the default) or a string.
  function clientName() {
    const n = details.clientName;
    if (typeof n === 'string') return { text: n };
    if (!n || typeof n !== 'object') return null;
    for (const loc of ctx.uiLocales || []) {
      const lang = String(loc).toLowerCase().split('-')[0];
      const key = LANG3[lang] || lang;
      if (typeof n[key] === 'string') return { text: n[key], lang };
    }
    if (typeof n['@none'] === 'string') return { text: n['@none'] };
    if (typeof n.eng === 'string') return { text: n.eng, lang: 'en' };
    const first = Object.keys(n).find((k) => typeof n[k] === 'string');
    return first ? { text: n[first] } : null;
  }

  const client = clientName();
  const clientText = client ? client.text : 'the application';

  // A name in any script, isolated so that a right-to-left name does not reorder the sentence.
  function nameSpan(cls) {
    const span = el('bdi', { class: cls, lang: client && client.lang, dir: 'auto' },
      clientText);
    return span;
  }

  function showClient() {
    const box = document.getElementById('client');
    box.replaceChildren();
    const logo = details.logoUrl;
    // Only logos the page's Content-Security-Policy lets load (img-src 'self' data: https:).
    if (typeof logo === 'string' && /^(https:|data:image\/)/i.test(logo)) {
      box.append(el('img', { src: logo, alt: '' }));
    }
    const p = el('p', { id: 'client-name' });
    p.append('to continue to ', nameSpan('client-name'));
    box.append(p);
  }

  function base64url(text) {
    const bytes = new TextEncoder().encode(text);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // ---------------------------------------------------------------------------------------------
  // The eSignet browser APIs.

  class ApiError extends Error {
    constructor(code, message) {
      super(message || code);
      this.code = code;
    }
  }

  async function token(fresh) {
    if (csrf && !fresh) return csrf;
    let r;
    try {
      r = await fetch(`${base}/csrf/token`, { credentials: 'same-origin' });
    } catch (e) {
      throw new ApiError('network_error', e.message);
    }
    if (!r.ok) throw new ApiError('unknown_error', `csrf: HTTP ${r.status}`);
    csrf = (await r.json()).token;
    return csrf;
  }

  async function post(path, body, retried) {
    const headers = {
      'Content-Type': 'application/json',
      'X-XSRF-TOKEN': await token(),
      'oauth-details-key': details.transactionId,
      'oauth-details-hash': ctx.hash,
    };
    let r;
    try {
      r = await fetch(base + path, {
        method: 'POST',
        credentials: 'same-origin',
        headers,
        body: JSON.stringify({ requestTime: now(), request: body }),
      });
    } catch (e) {
      throw new ApiError('network_error', e.message);
    }
    let j = null;
    try {
      j = await r.json();
    } catch {
      j = null;
    }
    const code = j && Array.isArray(j.errors) && j.errors.length ? j.errors[0].errorCode : null;
    // The CSRF cookie can change under the page (another tab): fetch it again, once.
    if (code === 'invalid_csrf_token' && !retried) {
      await token(true);
      return post(path, body, true);
    }
    if (code) throw new ApiError(code);
    if (!r.ok || !j || !j.response) throw new ApiError('unknown_error', `HTTP ${r.status}`);
    return j.response;
  }

  // Leaves for the relying party's redirect URI with the given parameters.
  function go(url, params) {
    const u = new URL(url);
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null) u.searchParams.set(k, v);
    }
    leaving = true;
    for (const b of document.querySelectorAll('button, input')) b.disabled = true;
    location.assign(u.toString());
  }

  // The user declined: back to the relying party with access_denied (RFC 6749 §4.1.2.1),
  // with the state it sent and our issuer (RFC 9207).
  function cancel() {
    go(details.redirectUri, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in',
      state: ctx.state,
      iss: ctx.issuer,
    });
  }

  function cancelButton(label) {
    const b = el('button', { type: 'button', id: 'cancel', class: 'secondary' }, label || 'Cancel');
    b.addEventListener('click', cancel);
    return b;
  }

  // Runs an API call with the form's buttons disabled, showing any error. Returns the
  // response, or undefined after an error.
  async function busy(form, fn) {
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showError('');
    lastError = null;
    try {
      return await fn();
    } catch (e) {
      const code = e instanceof ApiError ? e.code : 'unknown_error';
      lastError = code;
      showError(code);
      if (FINAL.has(code)) {
        // Nothing more can be done here but going back.
        for (const b of buttons) if (b.id !== 'cancel') b.hidden = true;
      }
      return undefined;
    } finally {
      form.removeAttribute('aria-busy');
      if (!leaving) for (const b of buttons) b.disabled = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Consent.

  async function finish(form, accepted, permitted) {
    const r = await busy(form, () => post('/authorization/auth-code', {
      transactionId: details.transactionId,
      acceptedClaims: accepted,
      permittedAuthorizeScopes: permitted,
    }));
    if (r) go(r.redirectUri, { code: r.code, state: r.state, iss: ctx.issuer });
  }

  function claimRow(name, prefix, essential) {
    const id = `${prefix}-${name}`;
    const box = el('input', { type: 'checkbox', id, value: name, name: prefix });
    box.checked = true;
    if (essential) {
      box.disabled = true;
      box.setAttribute('aria-describedby', `${id}-tag`);
    }
    const label = el('label', { for: id }, CLAIM_NAMES[name] || name);
    const row = el('div', { class: 'row' });
    row.append(box, label);
    if (essential) row.append(el('span', { class: 'tag', id: `${id}-tag` }, '(required)'));
    return { row, box };
  }

  function consent() {
    app.replaceChildren();
    showError('');
    showStatus('');
    setTitle('Share your information');
    const essential = details.essentialClaims || [];
    const voluntary = (details.voluntaryClaims || []).filter((c) => !essential.includes(c));
    const scopes = details.authorizeScopes || [];
    const form = el('form', { id: 'consent', novalidate: true });
    const intro = el('p', { id: 'consent-intro' });
    intro.append(nameSpan(), ' asks for the following information about you.');
    form.append(intro);
    const optional = [];
    if (essential.length) {
      const fs = el('fieldset', { id: 'essential-claims' });
      fs.append(el('legend', {}, 'Required to continue'));
      for (const c of essential) fs.append(claimRow(c, 'claim', true).row);
      form.append(fs);
    }
    if (voluntary.length) {
      const fs = el('fieldset', { id: 'voluntary-claims' });
      fs.append(el('legend', {}, 'Optional: untick what you do not want to share'));
      for (const c of voluntary) {
        const r = claimRow(c, 'claim', false);
        optional.push(r.box);
        fs.append(r.row);
      }
      form.append(fs);
    }
    const scopeBoxes = [];
    if (scopes.length) {
      const fs = el('fieldset', { id: 'authorize-scopes' });
      fs.append(el('legend', {}, 'Permissions'));
      for (const s of scopes) {
        const r = claimRow(s, 'scope', false);
        scopeBoxes.push(r.box);
        fs.append(r.row);
      }
      form.append(fs);
    }
    if (!essential.length && !voluntary.length && !scopes.length) {
      form.append(el('p', {}, 'No information about you is shared beyond the fact that you signed in.'));
    }
    const actions = el('div', { class: 'actions' });
    actions.append(el('button', { type: 'submit', id: 'allow' }, 'Allow'), cancelButton('Cancel'));
    form.append(actions);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (form.getAttribute('aria-busy') || leaving) return;
      const accepted = essential.concat(optional.filter((b) => b.checked).map((b) => b.value));
      finish(form, accepted, scopeBoxes.filter((b) => b.checked).map((b) => b.value));
    });
    app.append(form);
    title.focus();
  }

  async function authenticated(form, r) {
    if (r.consentAction === 'CAPTURE') consent();
    else await finish(form, [], []);
  }

  // ---------------------------------------------------------------------------------------------
  // Login.

  // The authentication alternatives this page can offer: each a list of factors that must all be
  // given (OTP, PWD, PIN, KBI; biometrics and wallets need other software).
  function alternatives() {
    const ok = new Set(Object.keys(FACTOR_NAMES));
    return (details.authFactors || []).filter((alt) =>
      Array.isArray(alt) && alt.length > 0 && alt.every((f) => ok.has(f.type)));
  }

  function kbiFields() {
    const conf = configs['auth.factor.kbi.field-details'];
    const skip = configs['auth.factor.kbi.individual-id-field'];
    const list = Array.isArray(conf) && conf.length ? conf : DEFAULT_KBI_FIELDS;
    return list.filter((f) => f && typeof f.id === 'string' && f.id !== skip);
  }

  function kbiLabel(f) {
    if (typeof f.label === 'string') return f.label;
    if (f.labelName && typeof f.labelName === 'object') {
      return f.labelName.eng || f.labelName.en || Object.values(f.labelName)[0];
    }
    const words = f.id.replace(/[_-]+/g, ' ');
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // The OTP channels to ask for: eSignet's UI setting "send.otp.channels" or both.
  function otpChannels() {
    const c = configs['send.otp.channels'];
    if (typeof c === 'string' && c.trim()) return c.split(',').map((s) => s.trim()).filter(Boolean);
    return ['email', 'phone'];
  }

  // Builds the fields of one alternative inside `box`; returns {focus, challenges, reset}.
  function methodFields(alt, box, idInput, form) {
    const parts = [];
    for (const f of alt) {
      if (f.type === 'OTP') parts.push(otpPart(box, idInput, form));
      else if (f.type === 'PWD') parts.push(secretPart(box, 'password', 'Password', 'current-password', 'PWD', 'alpha-numeric'));
      else if (f.type === 'PIN') parts.push(secretPart(box, 'pin', 'PIN', 'off', 'PIN', 'number', 'numeric'));
      else if (f.type === 'KBI') parts.push(kbiPart(box));
    }
    return {
      focus: () => parts[0] && parts[0].focus(),
      // The challenge list, or null after telling the user what is missing.
      challenges: () => {
        const list = [];
        for (const p of parts) {
          const c = p.challenge();
          if (!c) return null;
          list.push(c);
        }
        return list;
      },
      reset: () => { for (const p of parts) p.reset(); },
    };
  }

  function secretPart(box, id, labelText, autocomplete, type, format, inputmode) {
    const label = el('label', { for: id }, labelText);
    const input = el('input', {
      id, name: id, type: 'password', autocomplete, inputmode, required: true,
    });
    box.append(label, input);
    return {
      focus: () => input.focus(),
      challenge: () => {
        if (!input.value) {
          invalid(input, true);
          errorBox.textContent = `Enter your ${labelText.toLowerCase()}.`;
          input.focus();
          return null;
        }
        invalid(input, false);
        return { authFactorType: type, challenge: input.value, format };
      },
      reset: () => {
        input.value = '';
        invalid(input, true);
      },
    };
  }

  function kbiPart(box) {
    const inputs = [];
    const fs = el('fieldset', { id: 'kbi' });
    fs.append(el('legend', {}, 'Answer these questions'));
    for (const f of kbiFields()) {
      const id = `kbi-${f.id}`;
      const type = f.type === 'date' ? 'date' : 'text';
      const input = el('input', {
        id, name: f.id, type, required: true, autocomplete: f.autocomplete || 'off',
        spellcheck: 'false',
      });
      fs.append(el('label', { for: id }, kbiLabel(f)), input);
      inputs.push({ f, input, label: kbiLabel(f) });
    }
    box.append(fs);
    return {
      focus: () => inputs[0] && inputs[0].input.focus(),
      challenge: () => {
        const answers = {};
        for (const { f, input, label } of inputs) {
          if (!input.value.trim()) {
            invalid(input, true);
            errorBox.textContent = `Answer "${label}".`;
            input.focus();
            return null;
          }
          invalid(input, false);
          answers[f.id] = input.value.trim();
        }
        return {
          authFactorType: 'KBI', challenge: base64url(JSON.stringify(answers)),
          format: 'base64url-encoded-json',
        };
      },
      reset: () => {
        for (const { input } of inputs) invalid(input, true);
      },
    };
  }

  function otpPart(box, idInput, form) {
    let sent = false;
    const send = el('button', { type: 'button', id: 'send-otp', class: 'secondary' }, 'Send code');
    const label = el('label', { for: 'otp' }, 'One-time code');
    const hint = el('p', { id: 'otp-hint', class: 'hint' },
      'Press "Send code" and enter the code you receive.');
    const input = el('input', {
      id: 'otp', name: 'otp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      required: true, 'aria-describedby': 'otp-hint', spellcheck: 'false',
    });
    box.append(send, label, hint, input);

    async function sendTo(channels) {
      return post('/authorization/send-otp', {
        transactionId: details.transactionId,
        individualId: idInput.value.trim(),
        otpChannels: channels,
      });
    }

    send.addEventListener('click', async () => {
      if (!checkId(idInput)) return;
      showStatus('');
      const r = await busy(form, async () => {
        const channels = otpChannels();
        try {
          return await sendTo(channels);
        } catch (e) {
          // Someone with only an e-mail address or only a phone still gets the code.
          if (!(e instanceof ApiError) || e.code !== 'no_email_mobile_found' || channels.length < 2) throw e;
          for (const c of channels) {
            try {
              return await sendTo([c]);
            } catch (e2) {
              if (!(e2 instanceof ApiError) || e2.code !== 'no_email_mobile_found') throw e2;
            }
          }
          throw e;
        }
      });
      if (!r) return;
      sent = true;
      const to = [r.maskedEmail, r.maskedMobile].filter(Boolean);
      const where = to.length ? ` to ${to.join(' and ')}` : '';
      hint.textContent = `We sent a code${where}. Enter it here.`;
      showStatus(`Code sent${where}.`);
      send.textContent = 'Send a new code';
      input.value = '';
      input.focus();
    });

    return {
      focus: () => (sent ? input : send).focus(),
      challenge: () => {
        if (!sent) {
          errorBox.textContent = 'First press "Send code", then enter the code you receive.';
          send.focus();
          return null;
        }
        const v = input.value.trim();
        if (!v) {
          invalid(input, true);
          errorBox.textContent = 'Enter the code you received.';
          input.focus();
          return null;
        }
        invalid(input, false);
        return { authFactorType: 'OTP', challenge: v, format: 'alpha-numeric' };
      },
      reset: () => {
        input.value = '';
        invalid(input, true);
      },
    };
  }

  function checkId(idInput) {
    if (!idInput.value.trim()) {
      invalid(idInput, true);
      errorBox.textContent = MESSAGES.invalid_identifier;
      idInput.focus();
      return false;
    }
    invalid(idInput, false);
    return true;
  }

  function methodLabel(alt) {
    return alt.map((f) => FACTOR_NAMES[f.type]).join(' and ');
  }

  function login() {
    setTitle('Sign in');
    const alts = alternatives();
    const form = el('form', { id: 'login', novalidate: true });
    if (!alts.length) {
      const types = [...new Set((details.authFactors || []).flat().map((f) => f.type))];
      form.append(el('p', { id: 'no-method' },
        `This application asks for a sign-in method this page does not offer (${types.join(', ') || 'none'}).`));
      const actions = el('div', { class: 'actions' });
      actions.append(cancelButton('Go back'));
      form.append(actions);
      app.replaceChildren(form);
      return;
    }
    const idLabel = el('label', { for: 'individual-id' }, 'Individual ID');
    const idInput = el('input', {
      id: 'individual-id', name: 'individual-id', type: 'text', autocomplete: 'username',
      required: true, spellcheck: 'false', autocapitalize: 'off',
    });
    if (typeof ctx.loginHint === 'string') idInput.value = ctx.loginHint;
    form.append(idLabel, idInput);

    const box = el('div', { id: 'method' });
    let current = null;
    function choose(i) {
      box.replaceChildren();
      showError('');
      showStatus('');
      current = methodFields(alts[i], box, idInput, form);
    }
    if (alts.length > 1) {
      const fs = el('fieldset', { id: 'methods', class: 'methods' });
      fs.append(el('legend', {}, 'Sign in with'));
      alts.forEach((alt, i) => {
        const id = `method-${alt.map((f) => f.type.toLowerCase()).join('-')}`;
        const radio = el('input', { type: 'radio', name: 'method', id, value: String(i) });
        radio.checked = i === 0;
        radio.addEventListener('change', () => { if (radio.checked) choose(i); });
        const label = el('label', { for: id });
        label.append(radio, methodLabel(alt));
        fs.append(label);
      });
      form.append(fs);
    }
    form.append(box);
    choose(0);

    const actions = el('div', { class: 'actions' });
    actions.append(el('button', { type: 'submit', id: 'submit' }, 'Continue'), cancelButton('Cancel'));
    form.append(actions);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (form.getAttribute('aria-busy') || leaving) return;
      showError('');
      if (!checkId(idInput)) return;
      const challengeList = current.challenges();
      if (!challengeList) return;
      const r = await busy(form, () => post('/authorization/v3/authenticate', {
        transactionId: details.transactionId,
        individualId: idInput.value.trim(),
        challengeList,
      }));
      if (r) {
        await authenticated(form, r);
      } else if (!FINAL.has(lastError)) {
        // A wrong secret: clear it and let the user try again.
        current.reset();
        current.focus();
      }
    });
    app.replaceChildren(form);
    if (idInput.value) current.focus();
    else idInput.focus();
  }

  showClient();
  if (ctx.step === 'consent') consent();
  else login();
})();
