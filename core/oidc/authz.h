/*
 * Authorization requests: the parameters of /authorize (query or form, OpenID Connect Core
 * §3.1.2.1) or of eSignet's oauth-details API (the same parameters in camelCase JSON), validated
 * into a new login transaction.
 *
 * Validation runs in two stages. The client stage (client exists and is active, redirect_uri is
 * registered) decides whether errors may be sent to the redirect URI at all: a failure there is
 * `fatal` and the user sees an error page (RFC 6749 §4.1.2.1). Every later failure goes back to
 * the relying party with error, error_description, state and iss (RFC 9207).
 */
#ifndef ESG_OIDC_AUTHZ_H
#define ESG_OIDC_AUTHZ_H

#include <jansson.h>

#include "http/form.h"
#include "oauth/clients.h"
#include "oidc/transaction.h"

/* The raw parameters, owned copies (NULL when absent). */
typedef struct esg_authz_params {
    char *client_id, *redirect_uri, *response_type, *scope, *state, *nonce, *prompt, *display,
        *max_age, *acr_values, *claims, *claims_locales, *ui_locales, *code_challenge,
        *code_challenge_method, *id_token_hint, *login_hint, *response_mode, *request, *request_uri,
        *dpop_jkt;
    int pushed; /* 1: taken from a pushed authorization request (RFC 9126) */
} esg_authz_params;

/* Why a request was refused. Strings are static. */
typedef struct esg_authz_error {
    const char *oauth;       /* RFC 6749 / OIDC error code for the redirect */
    const char *esignet;     /* eSignet error code for the oauth-details envelope */
    const char *description; /* for error_description; never echoes request bytes */
    int fatal;               /* 1: do not redirect (unknown client, unregistered redirect URI) */
} esg_authz_error;

/* Reads the parameters from a decoded query or form. Returns 0 or ESP_ENOMEM. */
int esg_authz_params_from_form(const esg_form *form, esg_authz_params *out);
/*
 * Reads the parameters from an oauth-details `request` object (camelCase; claims as an object,
 * maxAge as a number). Returns 0, ESP_EINVAL (a member of the wrong type; *err says which) or
 * ESP_ENOMEM.
 */
int esg_authz_params_from_json(const json_t *request, esg_authz_params *out, esg_authz_error *err);
/*
 * A pushed request's parameters as stored until its request_uri is used: a new JSON object of
 * the present parameters by their /authorize names (all strings), or NULL without memory.
 */
json_t *esg_authz_params_to_stored(const esg_authz_params *p);
/*
 * Reads parameters stored by esg_authz_params_to_stored() (borrowed) and marks them pushed.
 * Returns 0, ESP_EINVAL (not such an object) or ESP_ENOMEM.
 */
int esg_authz_params_from_stored(const json_t *stored, esg_authz_params *out);
/* Frees the strings of `p` (not `p` itself). */
void esg_authz_params_clear(esg_authz_params *p);

/*
 * Client stage: `client` (borrowed) is the client named by client_id or NULL when unknown. Returns
 * 0, or ESP_EINVAL with *err (fatal) set.
 */
int esg_authz_check_client(const esg_authz_params *p, const esg_client *client,
                           esg_authz_error *err);

/*
 * Everything else, producing the transaction: response type, scopes, claims (with the claims
 * parameter), ACR resolution (esignet.md §6.2), prompt, max_age, display, PKCE, unsupported
 * request objects. The nonce replay check and id_token_hint verification need the store and the
 * keys, so the caller does them. On success sets *out (a new PREAUTH transaction the caller owns)
 * and returns 0; otherwise ESP_EINVAL with *err set, or ESP_ENOMEM.
 */
int esg_authz_build(const esg_authz_params *p, const esg_client *client, esg_txn **out,
                    esg_authz_error *err);

/*
 * The oauth-details `response` object for a transaction (esignet.md §4.1): transactionId,
 * logoUrl, authFactors, authorizeScopes, essentialClaims, voluntaryClaims, configs, redirectUri,
 * clientName, credentialScopes. Returns a new object or NULL.
 */
json_t *esg_authz_details(const esg_txn *t, const esg_client *client);

/*
 * Appends the redirect to the relying party with `error` for `t`'s redirect URI and state
 * (error, error_description, state, iss) to `out`. Returns 0 or ESP_ENOMEM.
 */
int esg_authz_error_location(const char *redirect_uri, const char *state, const char *error,
                             const char *description, esg_buf *out);
/* Appends the success redirect (code, state, iss) to `out`. Returns 0 or ESP_ENOMEM. */
int esg_authz_code_location(const char *redirect_uri, const char *state, const char *code,
                            esg_buf *out);

/* 1 when `scope` is an eSignet authorize scope or an OpenID scope this server knows. */
int esg_authz_scope_known(const char *scope);

#endif
