#include "oauth/par.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "http/form.h"
#include "http/response.h"
#include "oauth/client_auth.h"
#include "oauth/dpop_request.h"
#include "oauth/errors.h"
#include "oidc/authz.h"
#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

#define ID_LEN 43 /* 32 random bytes, base64url */

typedef struct par {
    esg_http_req *req;
    esg_form form;
    const char *audiences[4];
    char id[ID_LEN + 1];
    char dpop_jkt[ESG_JWK_THUMBPRINT_LEN + 1]; /* of the request's DPoP proof, "" without one */
    int64_t expires_in;                        /* seconds */
    esg_client *client;                        /* once authenticated */
} par;

static void par_free(par *p)
{
    esg_form_free(&p->form);
    esg_client_unref(p->client);
    free(p);
}

/* RFC 9126 §2.3: errors as at the token endpoint (RFC 6749 §5.2). */
static void fail(par *p, int status, const char *error, const char *description)
{
    esg_oauth_respond_error(p->req, status, error, description);
    par_free(p);
}

static void fail_status(par *p, int status)
{
    esg_oauth_respond_failure(p->req, "par", status);
    par_free(p);
}

static void on_stored(void *ud, int status, json_t *doc)
{
    par *p = ud;
    json_decref(doc);
    if (status != 0) {
        fail_status(p, status);
        return;
    }
    char uri[sizeof(ESG_PAR_URI_PREFIX) + ID_LEN];
    snprintf(uri, sizeof(uri), "%s%s", ESG_PAR_URI_PREFIX, p->id);
    json_t *body =
        json_pack("{s:s,s:I}", "request_uri", uri, "expires_in", (json_int_t)p->expires_in);
    if (body == NULL) {
        fail_status(p, ESP_ENOMEM);
        return;
    }
    esg_http_resp_header(p->req, "Pragma", "no-cache");
    esg_http_respond_json(p->req, 201, body);
    json_decref(body);
    par_free(p);
}

/* Validates the pushed parameters and stores them (the client is authenticated, the proof
 * checked). */
static void validate(par *p, const esg_client *client)
{
    int rc;
    /* The request is validated now, as /authorize would (RFC 9126 §2.1), so that the client
     * learns of a mistake from this response and not from its user's browser. The nonce and
     * id_token_hint are checked when the request is used: a nonce consumed here could not be
     * used there. */
    esg_authz_params ap;
    esg_authz_error err;
    esg_txn *t = NULL;
    rc = esg_authz_params_from_form(&p->form, &ap);
    if (rc == 0 && ap.client_id == NULL && (ap.client_id = strdup(client->id)) == NULL)
        rc = ESP_ENOMEM;
    if (rc != 0) {
        fail_status(p, rc);
        return;
    }
    ap.pushed = 1;
    /* RFC 9449 §10: a DPoP proof binds the code to its key; a dpop_jkt sent with it must name
     * the same key. */
    if (p->dpop_jkt[0] != '\0') {
        if (ap.dpop_jkt != NULL && strcmp(ap.dpop_jkt, p->dpop_jkt) != 0) {
            esg_authz_params_clear(&ap);
            fail(p, 400, "invalid_dpop_proof", "dpop_jkt is not the DPoP proof's key");
            return;
        }
        free(ap.dpop_jkt);
        if ((ap.dpop_jkt = strdup(p->dpop_jkt)) == NULL) {
            esg_authz_params_clear(&ap);
            fail_status(p, ESP_ENOMEM);
            return;
        }
    }
    rc = esg_authz_check_client(&ap, client, &err);
    if (rc == 0)
        rc = esg_authz_build(&ap, client, &t, &err);
    esg_txn_free(t);
    if (rc != 0) {
        esg_authz_params_clear(&ap);
        if (rc == ESP_EINVAL)
            fail(p, 400, err.oauth, err.description);
        else
            fail_status(p, rc);
        return;
    }
    json_t *params = esg_authz_params_to_stored(&ap);
    esg_authz_params_clear(&ap);
    json_t *entry =
        params ? json_pack("{s:s,s:o}", "client_id", client->id, "params", params) : NULL;
    const esg_oidc_settings *S = esg_oidc();
    p->expires_in = S->lifetimes.pushed_request / 1000;
    rc = entry ? esg_random_token(p->id, sizeof(p->id), 32) : ESP_ENOMEM;
    if (rc == 0)
        rc = esg_kv_json_put("par", p->id, entry, S->lifetimes.pushed_request, ESP_KV_NX, on_stored,
                             p);
    json_decref(entry);
    if (rc != 0)
        fail_status(p, rc);
}

static void on_dpop(void *ud, int status, int present, const esg_dpop_result *res);

static void on_client_auth(void *ud, int status, esg_client *client, const char *error,
                           const char *description)
{
    par *p = ud;
    if (error != NULL) {
        fail(p, 400, error, description);
        return;
    }
    if (status != 0) {
        fail_status(p, status);
        return;
    }
    p->client = client;
    /* DPoP after client authentication, so that only known clients make the server store
     * anything (a proof's jti, a nonce). */
    if (esg_dpop_request_check(p->req, esg_oidc()->par_endpoint, NULL, NULL, on_dpop, p) != 0)
        fail_status(p, ESP_ENOMEM);
}

static void on_dpop(void *ud, int status, int present, const esg_dpop_result *res)
{
    par *p = ud;
    if (status == ESP_EINVAL) {
        fail(p, 400, esg_dpop_error_code(res->error), res->reason);
        return;
    }
    if (status != 0) {
        fail_status(p, status);
        return;
    }
    if (present)
        snprintf(p->dpop_jkt, sizeof(p->dpop_jkt), "%s", res->jkt);
    validate(p, p->client);
}

void esg_oauth_par(esg_http_req *req, void *data)
{
    (void)data;
    par *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        esg_http_respond_error(req, 500, "server_error", NULL);
        return;
    }
    p->req = req;
    char why[128];
    if (esg_http_req_form(req, ESG_FORM_PLUS_SPACE, NULL, &p->form, why, sizeof(why)) != 0) {
        fail(p, 400, "invalid_request", "the body must be a form without repeated parameters");
        return;
    }
    if (esg_form_value(&p->form, "request_uri") != NULL) {
        fail(p, 400, "invalid_request", "request_uri cannot be pushed");
        return;
    }
    /* RFC 9126 §2: the PAR endpoint's URL is the audience; eSignet also accepts the token
     * endpoint's and the issuer. */
    const esg_oidc_settings *S = esg_oidc();
    p->audiences[0] = S->par_endpoint;
    p->audiences[1] = S->token_endpoint;
    p->audiences[2] = S->issuer;
    p->audiences[3] = NULL;
    if (esg_client_auth(&p->form, p->audiences, on_client_auth, p) != 0)
        fail_status(p, ESP_ENOMEM);
}

/* ---------------------------------------------------------------------------------------------
 * Use.
 */

typedef struct take {
    esg_par_cb cb;
    void *ud;
} take;

static void on_taken(void *ud, int status, json_t *doc)
{
    take *k = ud;
    const char *client_id = json_string_value(json_object_get(doc, "client_id"));
    const json_t *params = json_object_get(doc, "params");
    if (status == 0 && (client_id == NULL || !json_is_object(params)))
        status = ESP_ENOTFOUND;
    k->cb(k->ud, status, status == 0 ? client_id : NULL, status == 0 ? params : NULL);
    json_decref(doc);
    free(k);
}

int esg_par_take(const char *request_uri, esg_par_cb cb, void *ud)
{
    const size_t prefix = sizeof(ESG_PAR_URI_PREFIX) - 1;
    if (request_uri == NULL || strncmp(request_uri, ESG_PAR_URI_PREFIX, prefix) != 0 ||
        strlen(request_uri + prefix) != ID_LEN)
        return ESP_EINVAL;
    take *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ESP_ENOMEM;
    k->cb = cb;
    k->ud = ud;
    int rc = esg_kv_json_take("par", request_uri + prefix, on_taken, k);
    if (rc != 0)
        free(k);
    return rc;
}
