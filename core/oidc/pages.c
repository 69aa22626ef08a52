#include "oidc/pages.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/envelope.h"
#include "http/form.h"
#include "http/response.h"
#include "oidc/assets.h"
#include "oidc/settings.h"
#include "util/buf.h"
#include "util/lang.h"
#include "util/log.h"

/* Scripts, styles and connections only to this server, nothing inline, no native form
 * submission (the script posts with fetch), no framing, no <base>. Client logos may come from
 * any https origin or a data: URI; on a development server (plain http on a loopback host) also
 * from http on loopback, where a relying party under development serves its logo (CSP has no
 * syntax for IPv6 literals, so [::1] is not among them). */
#define CSP_HEAD                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:"
#define CSP_TAIL "; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
static const char csp[] = CSP_HEAD CSP_TAIL;
static const char csp_loopback[] = CSP_HEAD " http://127.0.0.1:* http://localhost:*" CSP_TAIL;

/* Versioned asset URLs (?v=<version>) may be cached for a year; others for five minutes. */
#define CACHE_VERSIONED (365u * 24 * 3600)
#define CACHE_PLAIN     300u

/* ---------------------------------------------------------------------------------------------
 * Translations: every embedded i18n/<lang>.json, parsed once.
 */

#define MAX_LANGS 64

typedef struct lang {
    char code[4];           /* "en", "ar": the file name, a primary language subtag */
    const esg_asset *asset; /* the file, served to the script */
    json_t *texts;          /* key -> text */
    int rtl;                /* meta.dir is "rtl" */
} lang;

static lang langs[MAX_LANGS];
static const char *codes[MAX_LANGS]; /* langs[i].code, for util/lang.h */
static size_t nlangs;
static const lang *english;
static const lang no_lang = {"en", NULL, NULL, 0};
static pthread_once_t langs_once = PTHREAD_ONCE_INIT;

static void langs_load(void)
{
    for (size_t i = 0; i < esg_assets_count && nlangs < MAX_LANGS; i++) {
        const esg_asset *a = &esg_assets[i];
        if (strncmp(a->name, "i18n/", 5) != 0)
            continue;
        const char *code = a->name + 5;
        size_t n = strcspn(code, ".");
        json_error_t e;
        json_t *texts = json_loadb((const char *)a->data, a->len, JSON_REJECT_DUPLICATES, &e);
        if (n < 2 || n >= sizeof(langs[0].code) || !json_is_object(texts)) {
            /* cmake/embed.cmake checks every file, so this is a build that bypassed it. */
            esg_logf(ESP_LOG_ERROR, "pages.translation_unusable", "%s: %s", a->name, e.text);
            json_decref(texts);
            continue;
        }
        lang *l = &langs[nlangs++];
        memcpy(l->code, code, n);
        l->code[n] = '\0';
        codes[nlangs - 1] = l->code;
        l->asset = a;
        l->texts = texts;
        const char *dir = json_string_value(json_object_get(texts, "meta.dir"));
        l->rtl = dir != NULL && strcmp(dir, "rtl") == 0;
        if (strcmp(l->code, "en") == 0)
            english = l;
    }
}

/* English, the fallback (or the first language, or nothing, in a build without translations). */
static const lang *lang_default(void)
{
    if (english)
        return english;
    return nlangs ? &langs[0] : &no_lang;
}

/* The text of `key` in `l`, else in English, else the key itself. */
static const char *tr(const lang *l, const char *key)
{
    const char *s = json_string_value(json_object_get(l->texts, key));
    if (s == NULL && english)
        s = json_string_value(json_object_get(english->texts, key));
    return s ? s : key;
}

/* The language of index `i` from esg_lang_*(), or NULL for -1. */
static const lang *lang_at(int i)
{
    return i >= 0 ? &langs[i] : NULL;
}

/* The request's Accept-Language choice, else the default. */
static const lang *by_accept_language(esg_http_req *req)
{
    esp_str v;
    const lang *l = NULL;
    if (esg_http_req_header(req, "Accept-Language", &v) == 0)
        l = lang_at(esg_lang_from_accept(v.ptr, v.len, codes, nlangs));
    return l ? l : lang_default();
}

/*
 * The first ui_locales parameter of a query or form string, decoded, into out[0..cap)
 * (truncated there). Only that one parameter is decoded: the error page may be for a request
 * that is malformed elsewhere. Returns its length, or -1 when absent or itself malformed.
 */
static long raw_ui_locales(const char *s, size_t len, char *out, size_t cap)
{
    static const char name[] = "ui_locales=";
    const size_t nlen = sizeof(name) - 1;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end - i > nlen && memcmp(s + i, name, nlen) == 0) {
            esg_form form = ESG_FORM_INIT;
            char why[64];
            long n = -1;
            if (esg_form_parse(s + i, end - i, ESG_FORM_PLUS_SPACE, NULL, &form, why,
                               sizeof(why)) == 0 &&
                form.n == 1) {
                n = (long)snprintf(out, cap, "%s", form.params[0].value);
                if ((size_t)n >= cap)
                    n = (long)cap - 1;
            }
            esg_form_free(&form);
            return n;
        }
        i = end + 1;
    }
    return -1;
}

/* An error page's language: the ui_locales parameter of the request, then Accept-Language. */
static const lang *error_page_lang(esg_http_req *req)
{
    char v[256];
    esp_str q = esg_http_req_query(req);
    long n = raw_ui_locales(q.ptr, q.len, v, sizeof(v));
    if (n < 0 && esg_http_req_method(req) == ESG_HTTP_POST &&
        esg_http_req_content_type(req, "application/x-www-form-urlencoded", NULL, 0) == 0) {
        esp_str body = esg_http_req_body(req);
        n = raw_ui_locales(body.ptr, body.len, v, sizeof(v));
    }
    const lang *l = n > 0 ? lang_at(esg_lang_from_list(v, (size_t)n, codes, nlangs)) : NULL;
    return l ? l : by_accept_language(req);
}

/* The login page's language: the transaction's ui_locales, then Accept-Language. */
static const lang *login_page_lang(esg_http_req *req, const json_t *ui_locales)
{
    size_t i;
    json_t *v;
    json_array_foreach(ui_locales, i, v)
    {
        const lang *l = json_is_string(v)
                            ? lang_at(esg_lang_match(json_string_value(v), json_string_length(v),
                                                     codes, nlangs))
                            : NULL;
        if (l)
            return l;
    }
    return by_accept_language(req);
}

/* ---------------------------------------------------------------------------------------------
 * Markup.
 */

static const esg_asset *asset_find(const char *name, size_t len)
{
    for (size_t i = 0; i < esg_assets_count; i++) {
        if (strlen(esg_assets[i].name) == len && memcmp(esg_assets[i].name, name, len) == 0)
            return &esg_assets[i];
    }
    return NULL;
}

/* Writes the versioned URL of an embedded file. */
static void put_asset_url(esg_buf *b, const esg_asset *a)
{
    if (a)
        esg_buf_printf(b, "/static/%s?v=%s", a->name, a->version);
}

static void put_asset_named(esg_buf *b, const char *name)
{
    put_asset_url(b, asset_find(name, strlen(name)));
}

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

static void put_html_n(esg_buf *b, const char *s, size_t n)
{
    for (const char *p = s; p < s + n; p++) {
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

static void put_html_text(esg_buf *b, const char *s)
{
    put_html_n(b, s, strlen(s));
}

/*
 * Writes <tag attrs data-i18n="key">text</tag> with the text of `key` in `l`. A "{code}" in the
 * text becomes `code`, which is also written to data-i18n-args, so that the script (i18n.js) can
 * render the element again in another language.
 */
static void put_element(esg_buf *b, const lang *l, const char *tag, const char *attrs,
                        const char *key, const char *code)
{
    esg_buf_printf(b, "<%s%s%s data-i18n=\"", tag, attrs ? " " : "", attrs ? attrs : "");
    put_html_text(b, key);
    esg_buf_putc(b, '"');
    if (code) {
        esg_buf args = ESG_BUF_INIT;
        esg_buf_puts(&args, "{\"code\":\"");
        esg_buf_json_escape(&args, code, strlen(code));
        esg_buf_puts(&args, "\"}");
        esg_buf_puts(b, " data-i18n-args=\"");
        put_html_text(b, args.data ? args.data : "{}");
        esg_buf_putc(b, '"');
        esg_buf_free(&args);
    }
    esg_buf_putc(b, '>');
    const char *s = tr(l, key);
    for (const char *hole; code && (hole = strstr(s, "{code}")) != NULL; s = hole + 6) {
        put_html_n(b, s, (size_t)(hole - s));
        put_html_text(b, code);
    }
    put_html_text(b, s);
    esg_buf_printf(b, "</%s>", tag);
}

/*
 * The language switcher: hidden until the script runs it (it switches in place, without
 * reloading). Each option names its language in that language and carries its file's URL.
 */
static void put_switcher(esg_buf *b, const lang *current)
{
    if (nlangs < 2)
        return;
    esg_buf_puts(b, "<div id=\"lang\" class=\"lang\" hidden>");
    put_element(b, current, "label", "for=\"lang-switch\"", "lang.label", NULL);
    esg_buf_puts(b, "<select id=\"lang-switch\">");
    for (size_t i = 0; i < nlangs; i++) {
        const lang *l = &langs[i];
        esg_buf_printf(b, "<option value=\"%s\" lang=\"%s\" dir=\"%s\" data-href=\"", l->code,
                       l->code, l->rtl ? "rtl" : "ltr");
        put_asset_url(b, l->asset);
        esg_buf_printf(b, "\"%s>", l == current ? " selected" : "");
        put_html_text(b, tr(l, "meta.name"));
        esg_buf_puts(b, "</option>");
    }
    esg_buf_puts(b, "</select></div>");
}

/* Everything up to the inside of <main>, in language `l`; `preload`: the script will fetch the
 * language's texts at once. */
static void put_head(esg_buf *b, const lang *l, const char *title_key, int preload)
{
    esg_buf_printf(b,
                   "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                   l->code, l->rtl ? "rtl" : "ltr");
    put_element(b, l, "title", NULL, title_key, NULL);
    /* An empty icon: without one, browsers ask for /favicon.ico and log its 404 on every page. */
    esg_buf_puts(b, "<link rel=\"icon\" href=\"data:,\">");
    if (preload && l->asset) {
        esg_buf_puts(b, "<link rel=\"preload\" as=\"fetch\" crossorigin href=\"");
        put_asset_url(b, l->asset);
        esg_buf_puts(b, "\">");
    }
    esg_buf_puts(b, "<link rel=\"stylesheet\" href=\"");
    put_asset_named(b, "login.css");
    esg_buf_puts(b, "\"></head><body><main class=\"card\">");
    put_switcher(b, l);
}

static void put_script(esg_buf *b, const char *name)
{
    esg_buf_puts(b, "<script src=\"");
    put_asset_named(b, name);
    esg_buf_puts(b, "\"></script>");
}

static int respond_page(esg_http_req *req, int status, const lang *l, esg_buf *b)
{
    esg_http_resp_set_csp(req, esg_oidc()->loopback_http ? csp_loopback : csp);
    esg_http_resp_header(req, "Content-Language", l->code);
    return esg_http_respond_buf(req, status, "text/html; charset=utf-8", b);
}

/* ---------------------------------------------------------------------------------------------
 * Pages.
 */

int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const esg_txn *t)
{
    pthread_once(&langs_once, langs_load);
    const esg_oidc_settings *S = esg_oidc();
    const lang *l = login_page_lang(req, t->ui_locales);
    int consent = t->state == ESG_TXN_AUTHENTICATED;
    char *text = esg_envelope_dump(details);
    /* The relying party's texts (login_hint, state) only ever reach the page as JSON string
     * values, escaped for the script element below; the script uses them as input values and
     * URL parameters, never as markup. `state` is here because a POST /authorize has no query
     * string for the page to read it from, and a cancelled login must still echo it. */
    json_t *ctx =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:s*,s:O*,s:b}", "hash", hash, "step",
                  consent ? "consent" : "login", "lang", l->code, "issuer", S->issuer, "basePath",
                  S->base_path, "loginHint", t->login_hint, "state", t->state_param, "uiLocales",
                  t->ui_locales, "loopbackLogos", S->loopback_http);
    char *ctx_text = ctx ? esg_envelope_dump(ctx) : NULL;
    json_decref(ctx);
    if (text == NULL || ctx_text == NULL) {
        free(text);
        free(ctx_text);
        return esg_page_error(req, ESG_PAGE_SERVER_ERROR, "server_error");
    }
    const char *title = consent ? "page.consent" : "page.sign_in";
    esg_buf b = ESG_BUF_INIT;
    put_head(&b, l, title, 1);
    /* The script fills #client and #app; #status announces progress politely, #error
     * assertively; #load-error is shown when the texts cannot be fetched. */
    esg_buf_puts(&b, "<header id=\"client\" class=\"client\"></header>");
    put_element(&b, l, "h1", "id=\"title\" tabindex=\"-1\"", title, NULL);
    esg_buf_puts(&b, "<noscript><p class=\"error\">");
    put_html_text(&b, tr(l, "page.noscript"));
    esg_buf_puts(&b, "</p></noscript>");
    put_element(&b, l, "p", "id=\"load-error\" class=\"error\" role=\"alert\" hidden",
                "page.load_failed", NULL);
    esg_buf_puts(&b, "<div id=\"app\"></div>"
                     "<p id=\"status\" class=\"status\" role=\"status\"></p>"
                     "<p id=\"error\" class=\"error\" role=\"alert\"></p></main>"
                     "<script type=\"application/json\" id=\"oauth-details\">");
    put_embedded_json(&b, text);
    esg_buf_puts(&b, "</script><script type=\"application/json\" id=\"login-context\">");
    put_embedded_json(&b, ctx_text);
    esg_buf_puts(&b, "</script>");
    put_script(&b, "i18n.js");
    put_script(&b, "login.js");
    esg_buf_puts(&b, "</body></html>\n");
    free(text);
    free(ctx_text);
    return respond_page(req, 200, l, &b);
}

static const struct problem {
    int status;
    const char *key; /* <key>.title, <key>.message, <key>.action */
} problems[] = {
    [ESG_PAGE_BAD_REQUEST] = {400, "errorpage.request"},
    [ESG_PAGE_UNKNOWN_CLIENT] = {400, "errorpage.client"},
    [ESG_PAGE_BAD_REDIRECT_URI] = {400, "errorpage.redirect_uri"},
    [ESG_PAGE_UNAVAILABLE] = {503, "errorpage.unavailable"},
    [ESG_PAGE_SERVER_ERROR] = {500, "errorpage.server"},
};

int esg_page_error(esg_http_req *req, esg_page_problem problem, const char *code)
{
    pthread_once(&langs_once, langs_load);
    if ((unsigned)problem >= sizeof(problems) / sizeof(problems[0]))
        problem = ESG_PAGE_SERVER_ERROR;
    const struct problem *p = &problems[problem];
    const lang *l = error_page_lang(req);
    char title[64], message[64], action[64];
    snprintf(title, sizeof(title), "%s.title", p->key);
    snprintf(message, sizeof(message), "%s.message", p->key);
    snprintf(action, sizeof(action), "%s.action", p->key);
    esg_buf b = ESG_BUF_INIT;
    put_head(&b, l, title, 0);
    put_element(&b, l, "h1", "id=\"title\"", title, NULL);
    put_element(&b, l, "p", "id=\"error-message\"", message, NULL);
    put_element(&b, l, "p", "id=\"error-action\"", action, NULL);
    if (code)
        put_element(&b, l, "p", "id=\"error-code\" class=\"tag\"", "errorpage.code", code);
    put_element(&b, l, "p", "id=\"load-error\" class=\"error\" role=\"alert\" hidden",
                "page.load_failed", NULL);
    esg_buf_puts(&b, "</main>");
    /* The page reads fully without script; the script only runs the language switcher. */
    put_script(&b, "i18n.js");
    esg_buf_puts(&b, "</body></html>\n");
    return respond_page(req, p->status, l, &b);
}

int esg_page_authz_error(esg_http_req *req, const esg_authz_error *err)
{
    esg_page_problem problem = ESG_PAGE_BAD_REQUEST;
    if (strcmp(err->esignet, "invalid_client_id") == 0)
        problem = ESG_PAGE_UNKNOWN_CLIENT;
    else if (strcmp(err->esignet, "invalid_redirect_uri") == 0)
        problem = ESG_PAGE_BAD_REDIRECT_URI;
    else if (strcmp(err->oauth, "temporarily_unavailable") == 0)
        problem = ESG_PAGE_UNAVAILABLE;
    else if (strcmp(err->oauth, "server_error") == 0)
        return esg_page_error(req, ESG_PAGE_SERVER_ERROR, "server_error");
    return esg_page_error(req, problem, err->esignet);
}

/* ---------------------------------------------------------------------------------------------
 * Files.
 */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".json") == 0)
        return "application/json";
    return "application/octet-stream";
}

void esg_page_asset(esg_http_req *req, void *data)
{
    (void)data;
    static const char prefix[] = "/static/";
    const size_t plen = sizeof(prefix) - 1;
    esp_str path = esg_http_req_path(req);
    const esg_asset *a = NULL;
    if (path.len > plen && memcmp(path.ptr, prefix, plen) == 0)
        a = asset_find(path.ptr + plen, path.len - plen);
    if (a == NULL) {
        esg_http_respond_error(req, 404, "invalid_request", "no such file");
        return;
    }
    /* Only the URL the pages use is cached for long: another version's URL must not keep the
     * bytes of this one. */
    esp_str q = esg_http_req_query(req);
    int versioned = q.len == 2 + strlen(a->version) && memcmp(q.ptr, "v=", 2) == 0 &&
                    memcmp(q.ptr + 2, a->version, q.len - 2) == 0;
    esg_http_resp_cache(req, versioned ? CACHE_VERSIONED : CACHE_PLAIN);
    esg_http_respond_static(req, 200, content_type(a->name), a->data, a->len);
}
