// The login page's script (served as /static/login.js; embedded in esignetd at build time).
//
// It drives eSignet's browser APIs exactly as eSignet's own UI does (CSRF double-submit token,
// oauth-details-key and oauth-details-hash headers, request envelopes), so the same server also
// works with that UI. Its input is two JSON blocks in the page: "oauth-details" (the
// oauth-details response the hash is computed over) and "login-context" (hash, step, lang,
// issuer, basePath, and the relying party's loginHint, state and uiLocales).
//
// Every text comes from the translation files through i18n.js (loaded before this script): the
// elements it fills are re-rendered in place when the user switches language, so a code already
// sent, a countdown or the consent step survive the switch. No markup is ever built from
// strings: every text, including the relying party's and the user's, goes through textContent,
// attribute values or URL parameters; nothing sets inline styles (the Content-Security-Policy
// forbids them), visibility uses the `hidden` attribute.
//
// The page's test contract: these element ids are stable (browser tests use them).
//   Server-rendered, every page:  lang (the switcher's box, hidden until this script runs),
//     lang-switch (the <select>), title (the <h1>), load-error (texts could not be fetched)
//   Login page:                   client (who asks), client-name, app (what the script builds),
//     status (role=status, polite), error (role=alert)
//   Error pages:                  error-message, error-action, error-code
//   Login step:                   login (the form), individual-id, methods (fieldset, when the
//     request allows several ways), method-<factors> (one radio each: method-otp, method-pwd,
//     method-kbi, method-otp-pwd ...), method (the chosen way's fields), submit, cancel,
//     no-method (when no way is offered; with cancel)
//   One-time code:                send-otp (sends, then sends a new code once the countdown
//     ends), otp-countdown (the countdown, hidden when none runs), otp-hint, otp
//   Password, PIN, knowledge:     password, pin, kbi (fieldset), kbi-<field id>
//   Consent step:                 consent (the form), consent-intro, essential-claims,
//     voluntary-claims, authorize-scopes (fieldsets), claim-<name>, scope-<name> (checkboxes),
//     claim-<name>-tag ("required"), allow, cancel
'use strict';
(function () {
  const I = window.esgI18n;
  const { t, tr } = I;
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

  // Errors after which this page can do nothing more for the transaction.
  const FINAL = new Set(['invalid_transaction', 'no_attempts_left', 'invalid_client_id']);

  // The factors this page can take (biometrics and wallets need other software); the name of
  // each is the text factor.<type>.
  const FACTORS = ['OTP', 'PWD', 'PIN', 'KBI'];

  // The knowledge questions when the deployment configures none (identity-mock's defaults); the
  // label of each is the text kbi.<id>.
  const DEFAULT_KBI_FIELDS = [
    { id: 'full_name', type: 'text', autocomplete: 'name' },
    { id: 'date_of_birth', type: 'date', autocomplete: 'bday' },
  ];

  // ISO 639-1 codes of ui_locales to the ISO 639-3 keys of eSignet's language maps.
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

  // An element showing the text `key` (re-rendered on a language switch).
  function tel(tag, attrs, key, args) {
    return tr(el(tag, attrs), key, args);
  }

  function now() { return new Date().toISOString(); }

  // Text that is not in the page's language (an error code, a masked address), isolated so that
  // it does not reorder the sentence around it.
  function isolated(text, dir) {
    return el('bdi', { dir: dir || 'ltr' }, text);
  }

  // Brings the error box into view once the caller has moved the focus (to the field concerned,
  // at once): under the buttons, it can be below the fold of a phone's screen.
  function revealError() {
    requestAnimationFrame(() => {
      if (errorBox.textContent) errorBox.scrollIntoView({ block: 'nearest' });
    });
  }

  // Shows the message for an eSignet error code (the code follows for support), or clears the
  // box. `key` overrides the message's text.
  function showError(code, key) {
    if (!code) {
      I.clear(errorBox);
      return;
    }
    const k = key || (I.has(`error.${code}`) ? `error.${code}` : 'error.unknown_error');
    tr(errorBox, 'error.with_code', { message: () => t(k), code: () => isolated(code) });
    revealError();
  }

  // Tells the user what to fix (no error code).
  function showProblem(key, args) {
    tr(errorBox, key, args);
    revealError();
  }

  function showStatus(key, args) {
    if (key) tr(statusBox, key, args);
    else I.clear(statusBox);
  }

  function setTitle(key) {
    tr(title, key);
    tr(document.querySelector('title'), key);
  }

  // Marks a field wrong (or right again) for assistive technology and the eye; a wrong field is
  // also described by the error box, so that the message is read with it.
  function invalid(input, yes) {
    const described = (input.getAttribute('aria-describedby') || '').split(/\s+/)
      .filter((id) => id && id !== errorBox.id);
    if (yes) {
      input.setAttribute('aria-invalid', 'true');
      described.push(errorBox.id);
    } else {
      input.removeAttribute('aria-invalid');
    }
    if (described.length) input.setAttribute('aria-describedby', described.join(' '));
    else input.removeAttribute('aria-describedby');
  }

  // "a and b", "a, b and c" in the page's language: strings in, string out.
  function andText(items) {
    if (items.length < 2) return items[0] || '';
    return t('list.and', { first: items.slice(0, -1).join(', '), second: items[items.length - 1] });
  }

  // The same with nodes (each a function returning a fresh node).
  function andNodes(makers) {
    if (makers.length === 1) return makers[0]();
    return tr(el('span'), 'list.and', {
      first: () => andNodes(makers.slice(0, -1)), second: makers[makers.length - 1],
    });
  }

  // The value of a language map (eSignet's {"eng": ..., "ara": ..., "@none": ...}) for the page's
  // language, then the relying party's ui_locales, then the default; {text, lang} or null.
  function fromLanguageMap(n) {
    if (typeof n === 'string') return { text: n };
    if (!n || typeof n !== 'object') return null;
    for (const loc of [I.lang(), ...(ctx.uiLocales || [])]) {
      const lang = String(loc).toLowerCase().split('-')[0];
      const key = LANG3[lang] || (lang === I.lang() && I.lang3()) || lang;
      if (typeof n[key] === 'string') return { text: n[key], lang };
      if (typeof n[lang] === 'string') return { text: n[lang], lang };
    }
    if (typeof n['@none'] === 'string') return { text: n['@none'] };
    if (typeof n.eng === 'string') return { text: n.eng, lang: 'en' };
    const first = Object.keys(n).find((k) => typeof n[k] === 'string');
    return first ? { text: n[first] } : null;
  }

  // The client's name in any script, isolated so that a right-to-left name does not reorder the
  // sentence; "the application" when it has none.
  function clientNode() {
    const c = fromLanguageMap(details.clientName);
    if (!c) return t('client.unnamed');
    return el('bdi', { class: 'client-name', lang: c.lang, dir: 'auto' }, c.text);
  }

  function showClient() {
    const box = document.getElementById('client');
    box.replaceChildren();
    const logo = details.logoUrl;
    // Only logos the page's Content-Security-Policy lets load: img-src 'self' data: https:, and
    // on a development server (ctx.loopbackLogos) http on a loopback host.
    const loopback = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//i;
    if (typeof logo === 'string' &&
        (/^(https:|data:image\/)/i.test(logo) || (ctx.loopbackLogos && loopback.test(logo)))) {
      box.append(el('img', { src: logo, alt: '' }));
    }
    box.append(tel('p', { id: 'client-name' }, 'client.continue_to', { client: clientNode }));
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
    for (const b of document.querySelectorAll('button, input, select')) b.disabled = true;
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

  function cancelButton(key) {
    const b = tel('button', { type: 'button', id: 'cancel', class: 'secondary' }, key);
    b.addEventListener('click', cancel);
    return b;
  }

  // Runs an API call with the form's buttons disabled, showing any error (`keyFor(code)` may
  // name a more precise message). Returns the response, or undefined after an error. A button
  // marked data-wait (the resend button during its countdown) stays disabled.
  async function busy(form, fn, keyFor) {
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
      showError(code, keyFor && keyFor(code));
      if (FINAL.has(code)) {
        // Nothing more can be done here but going back.
        for (const b of buttons) if (b.id !== 'cancel') b.hidden = true;
      }
      return undefined;
    } finally {
      form.removeAttribute('aria-busy');
      if (!leaving) for (const b of buttons) if (!b.dataset.wait) b.disabled = false;
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

  // A claim or scope in words (claim.<name>, scope.<name>), or its name when it has none.
  function nameLabel(label, prefix, name) {
    const key = `${prefix}.${name}`;
    if (I.has(key)) tr(label, key);
    else label.textContent = name;
    return label;
  }

  function claimRow(name, prefix, essential) {
    const id = `${prefix}-${name}`;
    const box = el('input', { type: 'checkbox', id, value: name, name: prefix });
    box.checked = true;
    if (essential) {
      box.disabled = true;
      box.setAttribute('aria-describedby', `${id}-tag`);
    }
    const label = nameLabel(el('label', { for: id }), prefix, name);
    const row = el('div', { class: 'row' });
    row.append(box, label);
    if (essential) {
      row.append(tel('span', { class: 'tag', id: `${id}-tag` }, 'consent.required_tag'));
    }
    return { row, box };
  }

  function consent() {
    app.replaceChildren();
    showError('');
    showStatus('');
    setTitle('page.consent');
    const essential = details.essentialClaims || [];
    const voluntary = (details.voluntaryClaims || []).filter((c) => !essential.includes(c));
    const scopes = details.authorizeScopes || [];
    const form = el('form', { id: 'consent', novalidate: true });
    form.append(tel('p', { id: 'consent-intro' }, 'consent.intro', { client: clientNode }));
    const optional = [];
    if (essential.length) {
      const fs = el('fieldset', { id: 'essential-claims' });
      fs.append(tel('legend', {}, 'consent.required'));
      for (const c of essential) fs.append(claimRow(c, 'claim', true).row);
      form.append(fs);
    }
    if (voluntary.length) {
      const fs = el('fieldset', { id: 'voluntary-claims' });
      fs.append(tel('legend', {}, 'consent.optional'));
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
      fs.append(tel('legend', {}, 'consent.scopes'));
      for (const s of scopes) {
        const r = claimRow(s, 'scope', false);
        scopeBoxes.push(r.box);
        fs.append(r.row);
      }
      form.append(fs);
    }
    if (!essential.length && !voluntary.length && !scopes.length) {
      form.append(tel('p', {}, 'consent.nothing'));
    }
    const actions = el('div', { class: 'actions' });
    actions.append(tel('button', { type: 'submit', id: 'allow' }, 'consent.allow'),
      cancelButton('consent.cancel'));
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
  // given.
  function alternatives() {
    return (details.authFactors || []).filter((alt) =>
      Array.isArray(alt) && alt.length > 0 && alt.every((f) => FACTORS.includes(f.type)));
  }

  function kbiFields() {
    const conf = configs['auth.factor.kbi.field-details'];
    const skip = configs['auth.factor.kbi.individual-id-field'];
    const list = Array.isArray(conf) && conf.length ? conf : DEFAULT_KBI_FIELDS;
    return list.filter((f) => f && typeof f.id === 'string' && f.id !== skip);
  }

  // A question's label, as a function of the page's language: the deployment's own label
  // (a string or a language map), else the text kbi.<id>, else the id in words.
  function kbiLabel(f) {
    return () => {
      if (typeof f.label === 'string') return f.label;
      const named = fromLanguageMap(f.labelName);
      if (named) return named.text;
      if (I.has(`kbi.${f.id}`)) return t(`kbi.${f.id}`);
      const words = f.id.replace(/[_-]+/g, ' ');
      return words.charAt(0).toUpperCase() + words.slice(1);
    };
  }

  // The OTP channels to ask for: eSignet's UI setting "send.otp.channels" or both.
  function otpChannels() {
    const c = configs['send.otp.channels'];
    if (typeof c === 'string' && c.trim()) return c.split(',').map((s) => s.trim()).filter(Boolean);
    return ['email', 'phone'];
  }

  // Seconds before a new code may be asked for: eSignet's UI setting "resend.otp.delay.secs"
  // (esignet.md, mosip.esignet.ui.config.key-values), else 60.
  function resendDelay() {
    const v = configs['resend.otp.delay.secs'];
    const n = v === undefined || v === null || v === '' ? NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? Math.min(Math.floor(n), 3600) : 60;
  }

  // Minutes and seconds, "1:05".
  function clock(secs) {
    return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
  }

  // The message for auth_failed with this alternative: what exactly may be wrong.
  function authFailedKey(alt) {
    if (alt.length !== 1) return 'error.auth_failed';
    return `error.auth_failed_${alt[0].type.toLowerCase()}`;
  }

  // Builds the fields of one alternative inside `box`; returns {focus, challenges, reset, stop}.
  function methodFields(alt, box, idInput, form, otpState) {
    const parts = [];
    for (const f of alt) {
      if (f.type === 'OTP') {
        parts.push(otpPart(box, idInput, form, otpState));
      } else if (f.type === 'PWD') {
        parts.push(secretPart(box, 'password', 'factor.PWD', 'login.enter_password',
          'current-password', 'PWD', 'alpha-numeric'));
      } else if (f.type === 'PIN') {
        parts.push(secretPart(box, 'pin', 'factor.PIN', 'login.enter_pin', 'off', 'PIN', 'number',
          'numeric'));
      } else if (f.type === 'KBI') {
        parts.push(kbiPart(box));
      }
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
      stop: () => { for (const p of parts) if (p.stop) p.stop(); },
    };
  }

  function secretPart(box, id, labelKey, missingKey, autocomplete, type, format, inputmode) {
    const label = tel('label', { for: id }, labelKey);
    const input = el('input', {
      id, name: id, type: 'password', autocomplete, inputmode, required: true,
    });
    box.append(label, input);
    return {
      focus: () => input.focus(),
      challenge: () => {
        if (!input.value) {
          invalid(input, true);
          showProblem(missingKey);
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
    fs.append(tel('legend', {}, 'kbi.legend'));
    for (const f of kbiFields()) {
      const id = `kbi-${f.id}`;
      const type = f.type === 'date' ? 'date' : 'text';
      const input = el('input', {
        id, name: f.id, type, required: true, autocomplete: f.autocomplete || 'off',
        spellcheck: 'false',
      });
      const label = kbiLabel(f);
      fs.append(tr(el('label', { for: id }), label), input);
      inputs.push({ f, input, label });
    }
    box.append(fs);
    return {
      focus: () => inputs[0] && inputs[0].input.focus(),
      challenge: () => {
        const answers = {};
        for (const { f, input, label } of inputs) {
          if (!input.value.trim()) {
            invalid(input, true);
            showProblem('kbi.missing', { question: label });
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

  // The one-time code: send, then a countdown before a new code may be asked for. `state`
  // outlives the fields (choosing another way and back keeps the code sent and the countdown):
  // {sent, to (masked addresses), until (ms when a new code may be asked for)}.
  function otpPart(box, idInput, form, state) {
    const send = tel('button', {
      type: 'button', id: 'send-otp', class: 'secondary', 'aria-describedby': 'otp-countdown',
    }, 'otp.send');
    // Not a live region: it changes every second. The end is announced once, in #status.
    const countdown = el('p', { id: 'otp-countdown', class: 'hint' });
    countdown.hidden = true;
    const label = tel('label', { for: 'otp' }, 'otp.label');
    const hint = tel('p', { id: 'otp-hint', class: 'hint' }, 'otp.hint');
    const input = el('input', {
      id: 'otp', name: 'otp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      required: true, 'aria-describedby': 'otp-hint', spellcheck: 'false',
    });
    box.append(send, countdown, label, hint, input);
    let timer = null;

    // The masked addresses, each isolated (they are left-to-right in any page).
    const destination = () => andNodes(state.to.map((m) => () => isolated(m)));

    function showSent() {
      tr(send, 'otp.resend');
      if (state.to.length) tr(hint, 'otp.hint_sent', { destination });
      else tr(hint, 'otp.hint_sent_anywhere');
    }

    function tick() {
      const left = Math.ceil((state.until - Date.now()) / 1000);
      if (left > 0) {
        tr(countdown, 'otp.countdown', { time: clock(left) });
        return;
      }
      stop();
      delete send.dataset.wait;
      if (!form.getAttribute('aria-busy') && !leaving) send.disabled = false;
      showStatus('otp.can_resend');
    }

    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      countdown.hidden = true;
      I.clear(countdown);
    }

    function startCountdown() {
      stop();
      if (Date.now() >= state.until) return;
      send.dataset.wait = '1';
      send.disabled = true;
      countdown.hidden = false;
      tick();
      timer = setInterval(tick, 1000);
    }

    async function sendTo(channels) {
      return post('/authorization/send-otp', {
        transactionId: details.transactionId,
        individualId: idInput.value.trim(),
        otpChannels: channels,
      });
    }

    send.addEventListener('click', async () => {
      if (send.dataset.wait || !checkId(idInput)) return;
      showStatus('');
      const r = await busy(form, async () => {
        const channels = otpChannels();
        try {
          return await sendTo(channels);
        } catch (e) {
          // Someone with only an e-mail address or only a phone still gets the code.
          const none = e instanceof ApiError && e.code === 'no_email_mobile_found';
          if (!none || channels.length < 2) throw e;
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
      state.sent = true;
      state.to = [r.maskedEmail, r.maskedMobile].filter((m) => typeof m === 'string' && m);
      state.until = Date.now() + resendDelay() * 1000;
      showSent();
      if (state.to.length) showStatus('otp.status_sent', { destination });
      else showStatus('otp.status_sent_anywhere');
      input.value = '';
      invalid(input, false);
      startCountdown();
      input.focus();
    });

    if (state.sent) {
      showSent();
      startCountdown();
    }

    return {
      focus: () => (state.sent ? input : send).focus(),
      challenge: () => {
        if (!state.sent) {
          showProblem('otp.send_first');
          send.focus();
          return null;
        }
        const v = input.value.trim();
        if (!v) {
          invalid(input, true);
          showProblem('otp.enter');
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
      stop,
    };
  }

  function checkId(idInput) {
    if (!idInput.value.trim()) {
      invalid(idInput, true);
      showProblem('error.invalid_identifier');
      idInput.focus();
      return false;
    }
    invalid(idInput, false);
    return true;
  }

  // The name of an alternative in the page's language ("One-time code and Password").
  function methodLabel(alt) {
    return () => andText(alt.map((f) => t(`factor.${f.type}`)));
  }

  function login() {
    setTitle('page.sign_in');
    const alts = alternatives();
    const form = el('form', { id: 'login', novalidate: true });
    if (!alts.length) {
      const types = [...new Set((details.authFactors || []).flat().map((f) => f.type))];
      form.append(tel('p', { id: 'no-method' }, 'login.no_method', {
        methods: () => (types.length ? isolated(types.join(', ')) : t('login.no_method_none')),
      }));
      const actions = el('div', { class: 'actions' });
      actions.append(cancelButton('login.go_back'));
      form.append(actions);
      app.replaceChildren(form);
      return;
    }
    const idLabel = tel('label', { for: 'individual-id' }, 'login.individual_id');
    const idInput = el('input', {
      id: 'individual-id', name: 'individual-id', type: 'text', autocomplete: 'username',
      required: true, spellcheck: 'false', autocapitalize: 'off',
    });
    if (typeof ctx.loginHint === 'string') idInput.value = ctx.loginHint;
    form.append(idLabel, idInput);

    const box = el('div', { id: 'method' });
    const otpState = { sent: false, to: [], until: 0 };
    let current = null;
    let alt = alts[0];
    function choose(i) {
      if (current) current.stop();
      box.replaceChildren();
      showError('');
      showStatus('');
      alt = alts[i];
      current = methodFields(alt, box, idInput, form, otpState);
    }
    if (alts.length > 1) {
      const fs = el('fieldset', { id: 'methods', class: 'methods' });
      fs.append(tel('legend', {}, 'login.sign_in_with'));
      alts.forEach((a, i) => {
        const id = `method-${a.map((f) => f.type.toLowerCase()).join('-')}`;
        const radio = el('input', { type: 'radio', name: 'method', id, value: String(i) });
        radio.checked = i === 0;
        radio.addEventListener('change', () => { if (radio.checked) choose(i); });
        const label = el('label', { for: id });
        label.append(radio, tr(el('span'), methodLabel(a)));
        fs.append(label);
      });
      form.append(fs);
    }
    form.append(box);
    choose(0);

    const actions = el('div', { class: 'actions' });
    actions.append(tel('button', { type: 'submit', id: 'submit' }, 'login.continue'),
      cancelButton('login.cancel'));
    form.append(actions);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (form.getAttribute('aria-busy') || leaving) return;
      showError('');
      if (!checkId(idInput)) return;
      const challengeList = current.challenges();
      if (!challengeList) return;
      const used = alt;
      const r = await busy(form, () => post('/authorization/v3/authenticate', {
        transactionId: details.transactionId,
        individualId: idInput.value.trim(),
        challengeList,
      }), (code) => (code === 'auth_failed' ? authFailedKey(used) : null));
      if (r) {
        current.stop();
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

  I.load().then(() => {
    showClient();
    if (ctx.step === 'consent') consent();
    else login();
  }, () => {});
})();
