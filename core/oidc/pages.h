/*
 * The pages the server shows people: the login page (which runs the eSignet browser APIs from
 * its own script) and error pages for requests that cannot go back to the relying party. Pages
 * carry a strict Content-Security-Policy: scripts, styles and connections to this server only,
 * nothing inline, no forms, no framing.
 *
 * Texts come from the translation files core/oidc/ui/i18n/<lang>.json, embedded at build time
 * and served at /static/i18n/<lang>.json for the pages' script. A page's language is the first
 * of the request's ui_locales that has a translation (compared on the primary subtag), else the
 * best of the browser's Accept-Language (q-values honoured, q=0 excluded), else English; the
 * page sets <html lang dir> for it. Both pages carry a language switcher that the script
 * (i18n.js) reveals and runs in place, without repeating the request.
 */
#ifndef ESG_OIDC_PAGES_H
#define ESG_OIDC_PAGES_H

#include <jansson.h>

#include "http/request.h"
#include "oidc/authz.h"
#include "oidc/transaction.h"

/*
 * Answers 200 with the login page for a transaction: `details` (borrowed) is the oauth-details
 * response, `hash` its oauth-details-hash, `t` the transaction. The page's login context tells
 * the script the step ("login", or "consent" when a session already authenticated the user), the
 * page language, the issuer and base path, and the relying party's login_hint (pre-fills the
 * individual ID), state (echoed on cancel) and ui_locales (chooses the client name's language).
 * [loop]
 */
int esg_page_login(esg_http_req *req, const json_t *details, const char *hash, const esg_txn *t);

/* What an error page tells the user; each has a title, what happened and what to do. */
typedef enum esg_page_problem {
    ESG_PAGE_BAD_REQUEST,      /* 400: parameters malformed, repeated or missing */
    ESG_PAGE_UNKNOWN_CLIENT,   /* 400: client_id unknown, missing or inactive */
    ESG_PAGE_BAD_REDIRECT_URI, /* 400: redirect_uri missing or not registered */
    ESG_PAGE_UNAVAILABLE,      /* 503: a store or back end did not answer */
    ESG_PAGE_SERVER_ERROR,     /* 500: anything else */
} esg_page_problem;

/*
 * Answers an error page for `problem`, in the language of the request's ui_locales parameter
 * (query, or form body of a POST) or Accept-Language. `code` (static, may be NULL) is shown as
 * the error code for support. [loop]
 */
int esg_page_error(esg_http_req *req, esg_page_problem problem, const char *code);

/* Answers the error page for an authorization error that cannot go to a redirect URI. [loop] */
int esg_page_authz_error(esg_http_req *req, const esg_authz_error *err);

/*
 * Route handler for the pages' files: /static/<name> and /static/i18n/<lang>.json, with their
 * content type; 404 for any other name. With ?v=<version> (the URLs the pages use) the answer is
 * cacheable for a year, otherwise for five minutes. [loop]
 */
void esg_page_asset(esg_http_req *req, void *data);

#endif
