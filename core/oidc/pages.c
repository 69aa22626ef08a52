#include "oidc/pages.h"

#include <string.h>

#include "api/envelope.h"
#include "oidc/assets.h"
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
    /* An empty icon: without one, browsers ask for /favicon.ico and log its 404 on every page. */
    esg_buf_puts(b, "</title><link rel=\"icon\" href=\"data:,\">"
                    "<link rel=\"stylesheet\" href=\"/static/login.css\"></head><body>"
                    "<main class=\"card\">");
}

int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const esg_txn *t)
{
    const esg_oidc_settings *S = esg_oidc();
    const char *step = t->state == ESG_TXN_AUTHENTICATED ? "consent" : "login";
    char *text = esg_envelope_dump(details);
    /* The relying party's texts (login_hint, state) only ever reach the page as JSON string
     * values, escaped for the script element below; the script uses them as input values and
     * URL parameters, never as markup. `state` is here because a POST /authorize has no query
     * string for the page to read it from, and a cancelled login must still echo it. */
    json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:s*,s:s*,s:O*}", "hash", hash, "step", step,
                            "issuer", S->issuer, "basePath", S->base_path, "loginHint",
                            t->login_hint, "state", t->state_param, "uiLocales", t->ui_locales);
    char *ctx_text = ctx ? esg_envelope_dump(ctx) : NULL;
    json_decref(ctx);
    if (text == NULL || ctx_text == NULL) {
        free(text);
        free(ctx_text);
        return esg_page_error(req, 500, "Something went wrong", "Please try again.");
    }
    esg_buf b = ESG_BUF_INIT;
    head(&b, "Sign in");
    /* The script fills #app; #status announces progress politely, #error assertively. */
    esg_buf_puts(&b, "<header id=\"client\" class=\"client\"></header>"
                     "<h1 id=\"title\" tabindex=\"-1\">Sign in</h1>"
                     "<noscript><p class=\"error\">This sign-in page needs JavaScript. Turn it on "
                     "in your browser and reload the page.</p></noscript>"
                     "<div id=\"app\"></div>"
                     "<p id=\"status\" class=\"status\" role=\"status\"></p>"
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

void esg_page_asset_js(esg_http_req *req, void *data)
{
    (void)data;
    esg_http_resp_cache(req, 3600);
    esg_http_respond_static(req, 200, "text/javascript; charset=utf-8",
                            (const char *)esg_asset_login_js, esg_asset_login_js_len);
}

void esg_page_asset_css(esg_http_req *req, void *data)
{
    (void)data;
    esg_http_resp_cache(req, 3600);
    esg_http_respond_static(req, 200, "text/css; charset=utf-8", (const char *)esg_asset_login_css,
                            esg_asset_login_css_len);
}
