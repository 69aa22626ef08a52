/*
 * Every endpoint of the server. Later protocol modules (authorization, token, userinfo, client
 * management, PAR, OpenID4VCI, binding, linked login) add their rows here.
 */
#include "runtime/routes.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/authorization_api.h"
#include "api/clients_api.h"
#include "http/response.h"
#include "oauth/par.h"
#include "oauth/token.h"
#include "oidc/pages.h"
#include "oidc/userinfo.h"
#include "plugin/call.h"
#include "runtime/metrics.h"
#include "runtime/server_internal.h"
#include "store/store.h"

#define GET  ESG_HTTP_M(ESG_HTTP_GET)
#define POST ESG_HTTP_M(ESG_HTTP_POST)

/* Discovery and JWKS: cached bodies, public, readable cross-origin (browser-based RPs). */
static void serve_document(esg_http_req *req, int doc)
{
    esg_http_body *body = esg_server_document(req, doc);
    if (body == NULL) {
        esg_http_respond_error(req, 503, "temporarily_unavailable", "not ready");
        return;
    }
    esg_http_resp_cache(req, 300);
    esg_http_resp_cors_any(req);
    esg_http_respond_body(req, 200, body);
}

static void h_openid(esg_http_req *req, void *data)
{
    (void)data;
    serve_document(req, ESG_DOC_OPENID);
}

static void h_oauth(esg_http_req *req, void *data)
{
    (void)data;
    serve_document(req, ESG_DOC_OAUTH);
}

static void h_jwks(esg_http_req *req, void *data)
{
    (void)data;
    serve_document(req, ESG_DOC_JWKS);
}

/* Liveness: the loop that answers is alive. */
static void h_health(esg_http_req *req, void *data)
{
    (void)data;
    static const char body[] = "{\"status\":\"UP\"}";
    esg_http_respond_static(req, 200, "application/json", body, sizeof(body) - 1);
}

/*
 * Readiness: serving, not draining, and both stores answer. The stores are probed with a lookup
 * of a key that does not exist: "not found" proves the store is reachable.
 */
typedef struct ready_probe {
    esg_http_req *req;
    int pending;
    int inflight; /* status of each probe; 1 until it answers */
    int persistent;
} ready_probe;

static const char *probe_text(int status)
{
    return status == 0 || status == ESP_ENOTFOUND ? "UP" : "DOWN";
}

static void ready_answer(ready_probe *p)
{
    int up = (p->inflight == 0 || p->inflight == ESP_ENOTFOUND) &&
             (p->persistent == 0 || p->persistent == ESP_ENOTFOUND);
    json_t *doc = json_pack("{s:s,s:{s:s,s:s}}", "status", up ? "UP" : "DOWN", "checks", "inflight",
                            probe_text(p->inflight), "persistent", probe_text(p->persistent));
    esg_http_respond_json(p->req, up ? 200 : 503, doc);
    json_decref(doc);
    free(p);
}

static void ready_inflight(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    ready_probe *p = ud;
    p->inflight = status;
    if (--p->pending == 0)
        ready_answer(p);
}

static void ready_persistent(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    ready_probe *p = ud;
    p->persistent = status;
    if (--p->pending == 0)
        ready_answer(p);
}

static void h_ready(esg_http_req *req, void *data)
{
    (void)data;
    const char *why = esg_server_not_ready_reason();
    if (why != NULL) {
        json_t *doc = json_pack("{s:s,s:s}", "status", "DOWN", "reason", why);
        esg_http_respond_json(req, 503, doc);
        json_decref(doc);
        return;
    }
    ready_probe *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        esg_http_respond_error(req, 500, "server_error", NULL);
        return;
    }
    p->req = req;
    p->pending = 2;
    esp_kv_request kq = {
        sizeof(kq), ESP_STR_LIT("health"), ESP_STR_LIT("probe"), ESP_STR_NULL, 0, 0, 0};
    esp_rec_request rq = {sizeof(rq),
                          ESP_STR_LIT("health"),
                          ESP_STR_LIT("probe"),
                          ESP_STR_NULL,
                          0,
                          NULL,
                          0,
                          ESP_STR_NULL,
                          ESP_STR_NULL,
                          0};
    int rc = esg_kv(ESP_KV_GET, &kq, ready_inflight, p);
    if (rc != 0) {
        p->inflight = rc;
        p->pending--;
    }
    rc = esg_rec(ESP_REC_GET, &rq, ready_persistent, p);
    if (rc != 0) {
        p->persistent = rc;
        p->pending--;
    }
    if (p->pending == 0)
        ready_answer(p);
}

static int is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0;
}

static void h_metrics(esg_http_req *req, void *data)
{
    (void)data;
    if (!esg_server_metrics_allowed(esg_http_req_remote_addr(req), is_loopback)) {
        esg_http_respond_error(req, 403, "access_denied", "metrics are served to loopback only");
        return;
    }
    esg_buf out = ESG_BUF_INIT;
    if (esg_metrics_render(&out) != 0) {
        esg_buf_free(&out);
        esg_http_respond_error(req, 500, "server_error", NULL);
        return;
    }
    esg_http_respond_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &out);
}

static const esg_route_def table[] = {
    /* Discovery and keys (OpenID Connect Discovery, RFC 8414, RFC 7517). */
    {GET, "/.well-known/openid-configuration", 0, h_openid, "openid-configuration"},
    {GET, "/.well-known/oauth-authorization-server", 0, h_oauth, "oauth-authorization-server"},
    {GET, "/.well-known/jwks.json", 0, h_jwks, "jwks"},
    /* The same documents at eSignet's own paths, for integrations that call those. */
    {GET, "/oidc/.well-known/openid-configuration", 1, h_openid, "esignet-openid-configuration"},
    {GET, "/oauth/.well-known/oauth-authorization-server", 1, h_oauth,
     "esignet-oauth-authorization-server"},
    {GET, "/oauth/.well-known/jwks.json", 1, h_jwks, "esignet-jwks"},
    /* OpenID Connect: authorization (and the page assets), token, userinfo. */
    {GET | POST, "/authorize", 0, esg_api_authorize, "authorize"},
    {GET, "/static/{file}", 0, esg_page_asset, "static"},
    {GET, "/static/i18n/{file}", 0, esg_page_asset, "static-i18n"},
    {POST, "/oauth/par", 1, esg_oauth_par, "par"},
    {POST, "/oauth/v2/token", 1, esg_oauth_token, "token"},
    {GET | POST, "/oidc/userinfo", 1, esg_oidc_userinfo, "userinfo"},
    /* eSignet's browser authorization APIs (esignet.md §4). */
    {GET, "/csrf/token", 1, esg_api_csrf_token, "csrf-token"},
    {POST, "/authorization/v3/oauth-details", 1, esg_api_oauth_details, "oauth-details-v3"},
    {POST, "/authorization/v2/oauth-details", 1, esg_api_oauth_details, "oauth-details-v2"},
    /* The same with {clientId, requestUri} of a pushed request (esignet.md §4.2). */
    {POST, "/authorization/par-oauth-details", 1, esg_api_par_oauth_details, "par-oauth-details"},
    {POST, "/authorization/send-otp", 1, esg_api_send_otp, "send-otp"},
    {POST, "/authorization/v3/authenticate", 1, esg_api_authenticate, "authenticate-v3"},
    {POST, "/authorization/v2/authenticate", 1, esg_api_authenticate, "authenticate-v2"},
    {GET, "/authorization/claim-details", 1, esg_api_claim_details, "claim-details"},
    {POST, "/authorization/auth-code", 1, esg_api_auth_code, "auth-code"},
    /* Operations. */
    {GET, "/healthz", 0, h_health, "healthz"},
    {GET, "/readyz", 0, h_ready, "readyz"},
    {GET, "/actuator/health", 1, h_health, "actuator-health"},
    {GET, "/metrics", 0, h_metrics, "metrics"},
    /* Client management (eSignet §12): v3, and the deprecated v2 and v1 forms. */
    {POST, "/client-mgmt/client", 1, esg_clients_api_v3, "client-mgmt-create"},
    {GET | ESG_HTTP_M(ESG_HTTP_PUT) | ESG_HTTP_M(ESG_HTTP_PATCH), "/client-mgmt/client/{client_id}",
     1, esg_clients_api_v3, "client-mgmt-client"},
    {POST, "/client-mgmt/oauth-client", 1, esg_clients_api_v2, "client-mgmt-oauth-create"},
    {ESG_HTTP_M(ESG_HTTP_PUT), "/client-mgmt/oauth-client/{client_id}", 1, esg_clients_api_v2,
     "client-mgmt-oauth-update"},
    {POST, "/client-mgmt/oidc-client", 1, esg_clients_api_v1, "client-mgmt-oidc-create"},
    {ESG_HTTP_M(ESG_HTTP_PUT), "/client-mgmt/oidc-client/{client_id}", 1, esg_clients_api_v1,
     "client-mgmt-oidc-update"},
};

const esg_route_def *esg_routes(size_t *n)
{
    *n = sizeof(table) / sizeof(table[0]);
    return table;
}
