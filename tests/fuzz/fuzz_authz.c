/*
 * Authorization requests on arbitrary input: the /authorize query or form and the oauth-details
 * JSON request, through parameter reading, the client stage and the transaction build, then the
 * transaction's store round trip and the redirect builders. Byte 0 selects the input form; the
 * rest is the input.
 *
 * Checked guarantees: a refused request always says why (an OAuth error code and a description);
 * an accepted one gives a PREAUTH transaction for this client and redirect URI whose JSON form
 * restores to the same JSON; a stored transaction document of any shape is either refused or
 * restored without crashing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "config/config.h"
#include "http/form.h"
#include "oidc/authz.h"
#include "oidc/settings.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config_text[] = "issuer: https://idp.example\n"
                                  "identity_backends:\n"
                                  "  - {name: mock, type: mock}\n"
                                  "oidc:\n"
                                  "  authorize_scopes: [resident-service]\n"
                                  "  acr:\n"
                                  "    - {acr: 'mosip:idp:acr:generated-code', amr: [otp]}\n"
                                  "    - {acr: 'mosip:idp:acr:password', amr: [pwd]}\n"
                                  "    - {acr: 'mosip:idp:acr:knowledge', amr: [kba]}\n";

static char *redirect_uris[] = {"https://rp.example/cb", "https://rp.example/other"};
static char *claims[] = {"name", "email", "phone_number", "birthdate", "address"};
static char *acrs[] = {"mosip:idp:acr:generated-code", "mosip:idp:acr:password"};
static esg_client client = {
    .id = "client-1",
    .rp_id = "rp-1",
    .active = 1,
    .redirect_uris = redirect_uris,
    .n_redirect_uris = 2,
    .claims = claims,
    .n_claims = 5,
    .acrs = acrs,
    .n_acrs = 2,
};

/* Kept for the life of the process: the settings borrow from it. */
static esg_config *cfg;

static void setup_once(void)
{
    if (cfg != NULL)
        return;
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    if (esg_config_load_string("fuzz.yaml", config_text, sizeof(config_text) - 1, NULL, NULL, &cfg,
                               &errors) != 0 ||
        esg_oidc_settings_load(cfg, &errors) != 0)
        abort();
    esg_config_errors_free(&errors);
    client.name = json_pack("{s:s}", "@none", "Fuzz client");
    client.additional_config = json_object();
}

static void check_refusal(const esg_authz_error *err)
{
    if (err->oauth == NULL || err->description == NULL || err->esignet == NULL)
        abort();
}

static void check_transaction(const esg_txn *t)
{
    if (t->state != ESG_TXN_PREAUTH || strcmp(t->client_id, client.id) != 0 ||
        !esg_client_redirect_allowed(&client, t->redirect_uri, strlen(t->redirect_uri)))
        abort();
    json_t *doc = esg_txn_to_json(t);
    esg_txn *back = NULL;
    if (doc == NULL || esg_txn_from_json(doc, &back) != 0)
        abort();
    json_t *again = esg_txn_to_json(back);
    if (again == NULL || !json_equal(doc, again))
        abort();
    json_t *details = esg_authz_details(t, &client);
    if (!json_is_object(details))
        abort();
    esg_buf loc = ESG_BUF_INIT;
    if (esg_authz_code_location(t->redirect_uri, t->state_param, "code", &loc) != 0 ||
        strncmp(loc.data, t->redirect_uri, strlen(t->redirect_uri)) != 0)
        abort();
    esg_buf_free(&loc);
    json_decref(details);
    json_decref(again);
    json_decref(doc);
    esg_txn_free(back);
}

static void run_request(const esg_authz_params *p)
{
    esg_authz_error err = {0};
    if (esg_authz_check_client(
            p, p->client_id && strcmp(p->client_id, client.id) == 0 ? &client : NULL, &err) != 0) {
        check_refusal(&err);
        if (!err.fatal)
            abort();
        return;
    }
    esg_txn *t = NULL;
    int rc = esg_authz_build(p, &client, &t, &err);
    if (rc == 0) {
        check_transaction(t);
        esg_txn_free(t);
    } else if (rc == ESP_EINVAL) {
        check_refusal(&err);
        esg_buf loc = ESG_BUF_INIT;
        if (esg_authz_error_location(p->redirect_uri, p->state, err.oauth, err.description, &loc) !=
            0)
            abort();
        esg_buf_free(&loc);
    } else if (rc != ESP_ENOMEM || t != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup_once();
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    esg_authz_params p = {0};
    switch (data[0] % 3) {
    case 0: { /* a query string or form body */
        esg_form f = ESG_FORM_INIT;
        char why[160];
        if (esg_form_parse(s, n, 0, NULL, &f, why, sizeof(why)) == 0 &&
            esg_authz_params_from_form(&f, &p) == 0)
            run_request(&p);
        esg_form_free(&f);
        break;
    }
    case 1: { /* the oauth-details request object */
        json_t *req = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
        esg_authz_error err = {0};
        if (req != NULL) {
            int rc = esg_authz_params_from_json(req, &p, &err);
            if (rc == 0)
                run_request(&p);
            else if (rc == ESP_EINVAL)
                check_refusal(&err);
        }
        json_decref(req);
        break;
    }
    default: { /* a stored transaction document */
        json_t *doc = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
        esg_txn *t = NULL;
        if (doc != NULL && esg_txn_from_json(doc, &t) == 0) {
            json_t *again = esg_txn_to_json(t);
            if (again == NULL)
                abort();
            json_decref(again);
        }
        esg_txn_free(t);
        json_decref(doc);
        break;
    }
    }
    esg_authz_params_clear(&p);
    return 0;
}
