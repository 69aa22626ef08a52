// The pages' translations (served as /static/i18n.js; embedded in esignetd at build time).
//
// Texts live in /static/i18n/<lang>.json (core/oidc/ui/i18n/), one key per text, with {name}
// placeholders. The server renders each page in the language it chose (ui_locales, then
// Accept-Language, then English) and marks every translated element with data-i18n="key" (and
// data-i18n-args='{"name": "value"}' for its placeholders). This script runs the language switcher
// (#lang-switch, whose options carry each language's file URL and direction): on a change it
// fetches the other language's file and renders every marked element again in place, so nothing
// the user did is lost. The login page's script (login.js) uses the same functions to build its
// texts, so they follow the switch too.
//
// Texts only ever reach the page through textContent: a translation cannot inject markup.
'use strict';
window.esgI18n = (function () {
  const root = document.documentElement;
  const select = document.getElementById('lang-switch');
  const loaded = new Map(); // lang -> texts
  const nodeArgs = new WeakMap(); // element -> args given by script (may hold functions)
  const listeners = [];
  let texts = null;
  let lang = root.lang || 'en';

  function option(code) {
    return select ? [...select.options].find((o) => o.value === code) : undefined;
  }

  async function fetchTexts(code) {
    if (loaded.has(code)) return loaded.get(code);
    const o = option(code);
    const url = o ? o.dataset.href : `/static/i18n/${encodeURIComponent(code)}.json`;
    const r = await fetch(url, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const t = await r.json();
    loaded.set(code, t);
    return t;
  }

  // The text of `key` in the current language; {name} placeholders filled from `args` (strings).
  function t(key, args) {
    const s = texts && typeof texts[key] === 'string' ? texts[key] : key;
    return s.replace(/\{(\w+)\}/g, (m, name) =>
      (args && args[name] !== undefined ? String(args[name]) : m));
  }

  function has(key) {
    return Boolean(texts && typeof texts[key] === 'string');
  }

  // Fills `el` with the text of `key`. An argument is a string, or a function called at every
  // rendering that returns a string or a node (e.g. a name isolated in a <bdi>).
  function render(el, key, args) {
    const s = has(key) ? texts[key] : key;
    const parts = [];
    let last = 0;
    s.replace(/\{(\w+)\}/g, (m, name, at) => {
      parts.push(s.slice(last, at));
      let v = args ? args[name] : undefined;
      if (typeof v === 'function') v = v();
      parts.push(v === undefined || v === null ? m : v);
      last = at + m.length;
      return m;
    });
    parts.push(s.slice(last));
    el.replaceChildren(...parts.filter((p) => p !== ''));
  }

  // Marks `el` as showing `key` and renders it; it is rendered again after a language switch.
  // `key` may also be a function returning the content (a string or a node), for texts that come
  // with the data rather than from the translation files (e.g. a configured question's label).
  function tr(el, key, args) {
    delete el.dataset.i18nArgs;
    if (typeof key === 'function') {
      el.dataset.i18n = '';
      nodeArgs.set(el, key);
    } else {
      el.dataset.i18n = key;
      if (args) nodeArgs.set(el, args);
      else nodeArgs.delete(el);
    }
    renderOne(el);
    return el;
  }

  function renderOne(el) {
    let args = nodeArgs.get(el);
    if (typeof args === 'function') {
      el.replaceChildren(args());
      return;
    }
    if (!args && el.dataset.i18nArgs) {
      try {
        args = JSON.parse(el.dataset.i18nArgs);
      } catch {
        args = undefined;
      }
    }
    render(el, el.dataset.i18n, args);
  }

  // Stops translating `el` and empties it.
  function clear(el) {
    delete el.dataset.i18n;
    delete el.dataset.i18nArgs;
    nodeArgs.delete(el);
    el.replaceChildren();
  }

  function renderAll() {
    for (const el of document.querySelectorAll('[data-i18n]')) renderOne(el);
  }

  function apply(code, t) {
    texts = t;
    lang = code;
    root.lang = code;
    root.dir = t['meta.dir'] === 'rtl' ? 'rtl' : 'ltr';
    renderAll();
    for (const fn of listeners) fn(code);
  }

  function showLoadError() {
    const box = document.getElementById('load-error');
    if (box) box.hidden = false;
  }

  let switches = 0;
  async function switchTo(code) {
    const mine = ++switches;
    try {
      const t = await fetchTexts(code);
      if (mine !== switches) return; // a later choice wins
      apply(code, t);
      const box = document.getElementById('load-error');
      if (box) box.hidden = true;
    } catch {
      if (mine !== switches) return;
      if (select) select.value = lang;
      showLoadError();
    }
  }

  if (select) {
    select.addEventListener('change', () => switchTo(select.value));
    document.getElementById('lang').hidden = false;
  }

  return {
    // The current language's texts, fetched (the page preloads them). Rejects when they cannot
    // be fetched, after showing #load-error.
    load: async () => {
      try {
        texts = await fetchTexts(lang);
        return lang;
      } catch (e) {
        showLoadError();
        throw e;
      }
    },
    t,
    has,
    tr,
    clear,
    lang: () => lang,
    // The ISO 639-3 code of the current language ("eng"), for eSignet's language maps.
    lang3: () => (texts && texts['meta.iso639_3']) || '',
    onChange: (fn) => listeners.push(fn),
  };
})();
