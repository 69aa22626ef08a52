/*
 * Login transactions: the state of one authorization request from /authorize (or oauth-details)
 * to the authorization code, kept in the in-flight store with a time to live.
 *
 * States and transitions (the only ones allowed, esg_txn_can_move()):
 *
 *   PREAUTH ──authenticate──▶ AUTHENTICATED ──auth-code──▶ (code issued; the transaction is
 *                                                            taken from the store, single use)
 *
 * A transaction is a JSON document in the store (namespace "txn"); this module converts between
 * that document and the struct, and derives the identifiers eSignet uses (esignet.md §1.6).
 */
#ifndef ESG_OIDC_TRANSACTION_H
#define ESG_OIDC_TRANSACTION_H

#include <jansson.h>
#include <stdint.h>

enum esg_txn_state {
    ESG_TXN_PREAUTH = 1,
    ESG_TXN_AUTHENTICATED = 2,
};

enum esg_prompt {
    ESG_PROMPT_NONE = 1u << 0,
    ESG_PROMPT_LOGIN = 1u << 1,
    ESG_PROMPT_CONSENT = 1u << 2,
    ESG_PROMPT_SELECT_ACCOUNT = 1u << 3,
};

/*
 * The transaction. Strings and JSON values are owned by the struct (esg_txn_free()). JSON arrays
 * hold strings unless noted.
 */
typedef struct esg_txn {
    char id[48];        /* transactionId: 43 base64url characters */
    int state;          /* enum esg_txn_state */
    int64_t created_at; /* seconds */
    char *client_id;
    char *rp_id;
    char *redirect_uri;
    char *state_param;    /* the RP's `state`, echoed back; may be NULL */
    char *nonce;          /* may be NULL */
    char *code_challenge; /* S256 challenge; NULL when the request had none */
    char *login_hint;
    char *client_name;        /* the client's name in the user's language, for messages */
    char *dpop_jkt;           /* DPoP key the code is bound to (RFC 9449 §10); may be NULL */
    char *hint_subject;       /* `sub` of a verified id_token_hint */
    unsigned prompt;          /* enum esg_prompt bits */
    int64_t max_age;          /* seconds, -1 when absent */
    json_t *scopes;           /* OpenID scopes requested (openid included) */
    json_t *authorize_scopes; /* eSignet authorize scopes requested */
    json_t *claims;           /* object: userinfo claim -> request detail object or null */
    json_t *essential;        /* essential claim names */
    json_t *voluntary;        /* voluntary claim names */
    json_t *acrs;             /* resolved ACR values, in priority order */
    json_t *claims_locales;
    json_t *ui_locales;
    char *oauth_details_hash;
    /* Set by authentication. */
    char *individual_id;
    char *subject; /* pairwise subject from the identity back end */
    char *kyc_token;
    int64_t auth_time;     /* seconds */
    json_t *amr;           /* AMR names satisfied */
    json_t *acr_satisfied; /* ACR values whose every AMR was satisfied */
    int consent_capture;   /* 1: the user must consent; 0: a stored consent covers the request */
    json_t *accepted_claims;
    json_t *permitted_scopes;
    /* When the consent this login relies on expires (seconds; 0: it does not, or none was
     * needed). Tokens issued from the transaction do not outlive it (esignet.md §5.2). */
    int64_t consent_expires_at;
} esg_txn;

/* A new, empty transaction with a fresh id; NULL on allocation failure. */
esg_txn *esg_txn_new(void);
/* Frees a transaction; NULL is ignored. */
void esg_txn_free(esg_txn *t);

/* Serializes to a new JSON object (caller decrefs); NULL on failure. */
json_t *esg_txn_to_json(const esg_txn *t);
/*
 * Restores a transaction from its JSON (borrowed). Returns 0 or ESP_EINVAL for a document that
 * is not a transaction (the store holds only what this module wrote, but a schema change between
 * releases must fail cleanly).
 */
int esg_txn_from_json(const json_t *doc, esg_txn **out);

/* 1 when the state machine allows `from` -> `to`. */
int esg_txn_can_move(int from, int to);

/*
 * The short authentication transaction id bound into device captures and sent to identity
 * systems (esignet.md §1.6): the transaction id without '-' and '_', read backwards from its end,
 * wrapping around, for `len` characters. `out` has len + 1 bytes.
 */
void esg_txn_auth_id(const char *transaction_id, size_t len, char *out);

#endif
