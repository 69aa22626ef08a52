/*
 * Relying parties (OAuth clients): the model the protocol code reads, stored as records of the
 * persistent store (collection "clients") and cached in memory.
 *
 * A client is immutable once loaded and reference-counted, so a request can hold it across
 * asynchronous steps while an update replaces the cached version. Updates through the client
 * management API evict the cache entry on the instance that made them; other instances pick the
 * change up when their cache entry expires (client_cache_ttl).
 */
#ifndef ESG_OAUTH_CLIENTS_H
#define ESG_OAUTH_CLIENTS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stddef.h>

#include "util/buf.h"

typedef enum esg_userinfo_type {
    ESG_USERINFO_JWS = 0, /* signed JWT */
    ESG_USERINFO_JWE = 1, /* signed, then encrypted to the client's encryption key */
} esg_userinfo_type;

typedef struct esg_client {
    _Atomic long refs;
    char *id;     /* client_id */
    char *rp_id;  /* relyingPartyId: the pairwise subject is per relying party */
    int active;   /* status ACTIVE; inactive clients are invisible to the flows */
    json_t *name; /* {"@none": "...", "<iso639-3>": "..."} */
    char *logo_uri;
    char **redirect_uris; /* registered, as registered */
    size_t n_redirect_uris;
    char **claims; /* userinfo claims the client may receive */
    size_t n_claims;
    char **acrs; /* ACR values the client may ask for, in registration order */
    size_t n_acrs;
    EVP_PKEY *public_key;      /* verifies private_key_jwt assertions */
    char *public_key_alg;      /* the JWK's "alg" when registered with one, else NULL */
    json_t *public_jwk;        /* as registered (public members only) */
    EVP_PKEY *enc_key;         /* encrypts userinfo when userinfo_type is JWE; NULL when none */
    char *enc_kid;             /* the encryption JWK's kid, or NULL */
    json_t *additional_config; /* as registered (object, possibly empty) */
    /* Derived from additional_config (eSignet §6.3). */
    esg_userinfo_type userinfo_type;
    int userinfo_type_set; /* the client chose; otherwise the server default applies */
    int require_pkce;
    int require_par;
    int dpop_bound;
    long consent_expire_mins; /* 0: consents do not expire */
    int64_t created_at;
    int64_t updated_at;
} esg_client;

/* Takes a reference; returns `c`. [any] */
esg_client *esg_client_ref(esg_client *c);
/* Drops a reference; the last frees the client. NULL is ignored. [any] */
void esg_client_unref(esg_client *c);

/*
 * Completion of esg_clients_get(): `status` 0 with a client (a reference the callback owns and
 * must unref), ESP_ENOTFOUND (no such client, or inactive), or a storage failure
 * (ESP_EUNAVAIL, ESP_ETIMEDOUT, ...). [loop]
 */
typedef void (*esg_client_cb)(void *ud, int status, esg_client *client);

/*
 * Looks a client up by id, from the cache or the persistent store. Returns 0 and `cb` runs once,
 * later (never inline); or ESP_EINVAL (empty or oversized id) and `cb` never runs. [loop]
 */
int esg_clients_get(const char *client_id, esg_client_cb cb, void *ud);

/*
 * 1 when `uri` may be used as redirect_uri for `c`: equal, byte for byte, to a registered URI
 * (RFC 9700 §4.1.3), or, only when the deployment enables eSignet's wildcards, matching a
 * registered pattern. [any]
 */
int esg_client_redirect_allowed(const esg_client *c, const char *uri, size_t len);

/* 1 when `claim` is among the client's registered claims. [any] */
int esg_client_has_claim(const esg_client *c, const char *claim);

/* The client's display name for `lang` (ISO 639-3), falling back to "@none"; never NULL. [any] */
const char *esg_client_name(const esg_client *c, const char *lang);

/* Drops every cached client (tests, and after a bulk change). [loop] */
void esg_clients_cache_clear(void);

#endif
