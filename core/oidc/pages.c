#include "oidc/pages.h"

#include <string.h>

#include "api/envelope.h"
#include "http/response.h"
#include "oidc/settings.h"
#include "util/buf.h"

/* Scripts and styles only from this server, nothing inline, no framing, forms only to us. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data: https:; connect-src 'self'; form-action 'self'; "
                          "base-uri 'none'; frame-ancestors 'none'";

/*
 * Appends JSON for embedding in a <script type="application/json"> element: '<', '>' and '&' are
 * written as \u escapes (the same JSON value), so no byte sequence can close the element.
 */
static void put_embedded_json(esg_buf *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '<')
            esg_buf_puts(b, "\\u003c");
        else if (*p == '>')
            esg_buf_puts(b, "\\u003e");
        else if (*p == '&')
            esg_buf_puts(b, "\\u0026");
        else
            esg_buf_putc(b, *p);
    }
}

static void put_html_text(esg_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<':
            esg_buf_puts(b, "&lt;");
            break;
        case '>':
            esg_buf_puts(b, "&gt;");
            break;
        case '&':
            esg_buf_puts(b, "&amp;");
            break;
        case '"':
            esg_buf_puts(b, "&quot;");
            break;
        default:
            esg_buf_putc(b, *p);
        }
    }
}

static void head(esg_buf *b, const char *title)
{
    esg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>");
    put_html_text(b, title);
    esg_buf_puts(b, "</title><link rel=\"stylesheet\" href=\"/static/login.css\"></head><body>"
                    "<main class=\"card\">");
}

int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const char *step,
                   const char *login_hint)
{
    char *text = esg_envelope_dump(details);
    /* The hint is the relying party's text: it only ever reaches the page as a JSON string value
     * (escaped for the script element below) that the script assigns to an input's value. */
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s*}", "hash", hash, "step", step, "issuer",
                            esg_oidc()->issuer, "loginHint", login_hint);
    char *ctx_text = ctx ? esg_envelope_dump(ctx) : NULL;
    json_decref(ctx);
    if (text == NULL || ctx_text == NULL) {
        free(text);
        free(ctx_text);
        return esg_page_error(req, 500, "Something went wrong", "Please try again.");
    }
    esg_buf b = ESG_BUF_INIT;
    head(&b, "Sign in");
    esg_buf_puts(&b, "<h1 id=\"title\">Sign in</h1><p id=\"client\"></p>"
                     "<div id=\"app\" aria-live=\"polite\"></div>"
                     "<p id=\"error\" class=\"error\" role=\"alert\"></p></main>"
                     "<script type=\"application/json\" id=\"oauth-details\">");
    put_embedded_json(&b, text);
    esg_buf_puts(&b, "</script><script type=\"application/json\" id=\"login-context\">");
    put_embedded_json(&b, ctx_text);
    esg_buf_puts(&b, "</script><script src=\"/static/login.js\"></script></body></html>\n");
    free(text);
    free(ctx_text);
    esg_http_resp_set_csp(req, csp);
    return esg_http_respond_buf(req, 200, "text/html; charset=utf-8", &b);
}

int esg_page_error(esg_http_req *req, int status, const char *title, const char *message)
{
    esg_buf b = ESG_BUF_INIT;
    head(&b, title);
    esg_buf_puts(&b, "<h1>");
    put_html_text(&b, title);
    esg_buf_puts(&b, "</h1><p>");
    put_html_text(&b, message ? message : "");
    esg_buf_puts(&b, "</p><p>Go back to the application you came from and start again.</p>"
                     "</main></body></html>\n");
    esg_http_resp_set_csp(req, csp);
    return esg_http_respond_buf(req, status, "text/html; charset=utf-8", &b);
}

/*
 * The login script: it drives eSignet's browser APIs exactly as eSignet's UI does (CSRF token,
 * oauth-details key and hash headers), so the same server also works with that UI.
 */
static const char login_js[] =
    "'use strict';\n"
    "(function () {\n"
    "const details = JSON.parse(document.getElementById('oauth-details').textContent);\n"
    "const ctx = JSON.parse(document.getElementById('login-context').textContent);\n"
    "const base = '/v1/esignet';\n"
    "const app = document.getElementById('app');\n"
    "const errorBox = document.getElementById('error');\n"
    "const state = new URLSearchParams(location.search).get('state');\n"
    "let csrf = null;\n"
    "const name = details.clientName && (details.clientName['@none'] || details.clientName.eng);\n"
    "document.getElementById('client').textContent = name ? 'to continue to ' + name : '';\n"
    "function now() { return new Date().toISOString(); }\n"
    "function showError(code) { errorBox.textContent = code ? 'Error: ' + code : ''; }\n"
    "async function token() {\n"
    "  if (csrf) return csrf;\n"
    "  const r = await fetch(base + '/csrf/token', {credentials: 'same-origin'});\n"
    "  csrf = (await r.json()).token; return csrf;\n"
    "}\n"
    "async function call(path, body) {\n"
    "  const headers = {'Content-Type': 'application/json', 'X-XSRF-TOKEN': await token(),\n"
    "    'oauth-details-key': details.transactionId, 'oauth-details-hash': ctx.hash};\n"
    "  const r = await fetch(base + path, {method: 'POST', credentials: 'same-origin', headers,\n"
    "    body: JSON.stringify({requestTime: now(), request: body})});\n"
    "  const j = await r.json();\n"
    "  if (j.errors && j.errors.length) throw new Error(j.errors[0].errorCode);\n"
    "  return j.response;\n"
    "}\n"
    "function go(url, params) {\n"
    "  const u = new URL(url);\n"
    "  for (const [k, v] of Object.entries(params)) if (v != null) u.searchParams.set(k, v);\n"
    "  location.assign(u.toString());\n"
    "}\n"
    "function el(tag, attrs, text) {\n"
    "  const e = document.createElement(tag);\n"
    "  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);\n"
    "  if (text) e.textContent = text; return e;\n"
    "}\n"
    "function factors() {\n"
    "  const t = new Set();\n"
    "  for (const alt of details.authFactors) if (alt.length === 1) t.add(alt[0].type);\n"
    "  return t;\n"
    "}\n"
    "async function finish(accepted, permitted) {\n"
    "  const r = await call('/authorization/auth-code', {transactionId: details.transactionId,\n"
    "    acceptedClaims: accepted, permittedAuthorizeScopes: permitted});\n"
    "  go(r.redirectUri, {code: r.code, state: r.state, iss: ctx.issuer});\n"
    "}\n"
    "function consent() {\n"
    "  app.replaceChildren();\n"
    "  document.getElementById('title').textContent = 'Share your information';\n"
    "  const form = el('form');\n"
    "  const boxes = [];\n"
    "  for (const c of details.essentialClaims.concat(details.voluntaryClaims)) {\n"
    "    const essential = details.essentialClaims.includes(c);\n"
    "    const id = 'claim-' + c;\n"
    "    const box = el('input', {type: 'checkbox', id, value: c});\n"
    "    box.checked = true; if (essential) box.disabled = true; boxes.push(box);\n"
    "    const label = el('label', {for: id}, c + (essential ? ' (required)' : ''));\n"
    "    const row = el('div', {class: 'row'}); row.append(box, label); form.append(row);\n"
    "  }\n"
    "  const allow = el('button', {type: 'submit', id: 'allow'}, 'Allow');\n"
    "  const deny = el('button', {type: 'button', id: 'deny', class: 'secondary'}, 'Cancel');\n"
    "  form.append(allow, deny);\n"
    "  form.addEventListener('submit', (ev) => { ev.preventDefault();\n"
    "    finish(boxes.filter(b => b.checked).map(b => b.value), details.authorizeScopes)\n"
    "      .catch(e => showError(e.message)); });\n"
    "  deny.addEventListener('click', () => go(details.redirectUri, {error: 'access_denied',\n"
    "    error_description: 'The user denied the request', state, iss: ctx.issuer}));\n"
    "  app.append(form);\n"
    "}\n"
    "async function authenticated(r) {\n"
    "  if (r.consentAction === 'CAPTURE') consent(); else await finish([], []);\n"
    "}\n"
    "function login() {\n"
    "  const have = factors();\n"
    "  const form = el('form');\n"
    "  const idLabel = el('label', {for: 'individual-id'}, 'Individual ID');\n"
    "  const id = el('input', {id: 'individual-id', autocomplete: 'username', required: ''});\n"
    "  if (ctx.loginHint) id.value = ctx.loginHint;\n"
    "  form.append(idLabel, id);\n"
    "  let secretType = have.has('OTP') ? 'OTP' : have.has('PWD') ? 'PWD' : null;\n"
    "  const secretLabel = el('label', {for: 'secret'}, secretType === 'OTP' ? 'One-time code' :\n"
    "    'Password');\n"
    "  const secret = el('input', {id: 'secret', type: secretType === 'OTP' ? 'text' : "
    "'password',\n"
    "    autocomplete: secretType === 'OTP' ? 'one-time-code' : 'current-password'});\n"
    "  if (secretType === 'OTP') {\n"
    "    const send = el('button', {type: 'button', id: 'send-otp', class: 'secondary'},\n"
    "      'Send code');\n"
    "    send.addEventListener('click', () => call('/authorization/send-otp', {transactionId:\n"
    "      details.transactionId, individualId: id.value, otpChannels: ['email', 'phone']})\n"
    "      .then(r => { showError(''); send.textContent = 'Send again'; })\n"
    "      .catch(e => showError(e.message)));\n"
    "    form.append(send);\n"
    "  }\n"
    "  if (secretType) form.append(secretLabel, secret);\n"
    "  form.append(el('button', {type: 'submit', id: 'submit'}, 'Continue'));\n"
    "  form.addEventListener('submit', (ev) => { ev.preventDefault();\n"
    "    call('/authorization/v3/authenticate', {transactionId: details.transactionId,\n"
    "      individualId: id.value, challengeList: [{authFactorType: secretType,\n"
    "      challenge: secret.value, format: secretType === 'OTP' ? 'alpha-numeric' :\n"
    "      'alpha-numeric'}]}).then(authenticated).catch(e => showError(e.message)); });\n"
    "  app.append(form);\n"
    "}\n"
    "if (ctx.step === 'consent') consent(); else login();\n"
    "})();\n";

static const char login_css[] =
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d1d1f}"
    ".card{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:12px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08)}"
    "label{display:block;margin:1rem 0 .3rem;font-weight:600}"
    "input[type=text],input:not([type]),input[type=password]{width:100%;box-sizing:border-box;"
    "padding:.6rem;border:1px solid #767676;border-radius:6px;font-size:1rem}"
    "button{margin-top:1rem;margin-right:.5rem;padding:.6rem 1.2rem;border:0;border-radius:6px;"
    "background:#0b57d0;color:#fff;font-size:1rem;cursor:pointer}"
    "button.secondary{background:#e8eaed;color:#1d1d1f}"
    ".row{display:flex;gap:.5rem;align-items:center}.row label{margin:.4rem 0;font-weight:400}"
    ".error{color:#b3261e}:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}\n";

void esg_page_asset_js(esg_http_req *req, void *data)
{
    (void)data;
    esg_http_resp_cache(req, 3600);
    esg_http_respond_static(req, 200, "text/javascript; charset=utf-8", login_js,
                            sizeof(login_js) - 1);
}

void esg_page_asset_css(esg_http_req *req, void *data)
{
    (void)data;
    esg_http_resp_cache(req, 3600);
    esg_http_respond_static(req, 200, "text/css; charset=utf-8", login_css, sizeof(login_css) - 1);
}
