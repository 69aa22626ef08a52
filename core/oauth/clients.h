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
#include <stdint.h>

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
    int64_t created_at;       /* seconds since the epoch */
    int64_t updated_at;       /* seconds since the epoch */
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

/* ------------------------------------------------------------------------------------------------
 * Settings, validation and writes, for the client management API (core/api/clients_api.c).
 *
 * Stored document (collection "clients", key = client_id), named after eSignet's client_detail
 * columns (spec esignet.md §13.1) so that a PostgreSQL storage plugin or a migration maps 1:1:
 *   {"id", "name": {"@none": ..., "<iso639-3>": ...}, "rp_id", "logo_uri", "redirect_uris": [],
 *    "claims": [], "acr_values": [], "public_key": {JWK}, "public_key_hash": "<hex>",
 *    "enc_public_key": {JWK} (optional), "enc_public_key_hash": "<hex>" (optional),
 *    "grant_types": [], "auth_methods": [], "status": "ACTIVE" | "INACTIVE",
 *    "additional_config": {}, "cr_dtimes": "<ISO time>", "upd_dtimes": "<ISO time>"}
 * with a unique index public_key_hash and a plain index rp_id.
 */

/*
 * Reads the client settings from the normalized `oidc` configuration section (borrowed; copied):
 * clients.admin_token_sha256, clients.redirect_uri_wildcards, claims_supported and the acr list.
 * Replaces earlier settings. Returns 0, or ESP_ECONFIG (with the reason in `err`) or ESP_ENOMEM.
 * [init]
 */
int esg_clients_configure(const json_t *oidc, esg_buf *err);
/* Forgets the settings and every cached client. [init] */
void esg_clients_reset(void);

/*
 * 1 when SHA-256(token[0..len)) equals the configured admin_token_sha256 (compared in constant
 * time); 0 otherwise, and always 0 when none is configured. [any]
 */
int esg_clients_admin_token_ok(const char *token, size_t len);
/* 1 when `claim` is in oidc.claims_supported. [any] */
int esg_clients_claim_supported(const char *claim);
/* 1 when `acr` is one of the configured oidc.acr values. [any] */
int esg_clients_acr_supported(const char *acr);
/* 1 when the deployment enables eSignet's wildcard redirect URIs. [any] */
int esg_clients_wildcards(void);

/*
 * 1 when `uri` may be registered as a redirect URI: printable ASCII, absolute, no fragment, no
 * dot segments, and either https with a host, http with a loopback host (127.0.0.1, localhost,
 * [::1]), or a private-use scheme containing a dot (RFC 8252 §7.1, "com.example.app:/cb").
 * Scheme and host are lower case. '*' is refused unless wildcards are enabled, and wildcards are
 * never accepted in the scheme or host. [any]
 */
int esg_clients_redirect_uri_valid(const char *uri, size_t len);
/* 1 when `uri` may be registered as a logo URI: http or https with a host, printable ASCII. [any]
 */
int esg_clients_logo_uri_valid(const char *uri, size_t len);

/*
 * eSignet's public key hash (spec esignet.md §1.6): lower-case hex of SHA-256 over the JWK's "n"
 * member (RSA) or "x" followed by "y" (EC), as the base64url text appears in the JWK, written
 * with a NUL to out[65]. The JWK must have been validated (esg_jwk_import), which makes that
 * text canonical. Returns 0 or ESP_EINVAL. [any]
 */
int esg_clients_key_hash(const json_t *jwk, char out[65]);

/* Completion of a write: 0 or a negative status, as the function's comment lists. [loop] */
typedef void (*esg_clients_done_cb)(void *ud, int status);
/* Completion of esg_clients_load(): `doc` (owned by the callback) is set when status is 0. */
typedef void (*esg_clients_doc_cb)(void *ud, int status, json_t *doc);

/*
 * Stores a new client document (borrowed; validated by the caller). `cb` later receives 0,
 * ESP_EEXIST (the client id is taken), ESP_EDUPLICATE_KEY (another client has the same public key
 * hash) or a storage failure. Returns 0, or an error (ESP_EINVAL for a document without id or
 * public_key_hash, ESP_EUNAVAIL without a persistent store, ...) and `cb` never runs. [loop]
 */
int esg_clients_insert(const json_t *doc, esg_clients_done_cb cb, void *ud);
/*
 * Replaces an existing client's document (borrowed) and evicts the client from this instance's
 * cache. `cb` later receives 0, ESP_ENOTFOUND or a storage failure. Returns as
 * esg_clients_insert(). [loop]
 */
int esg_clients_replace(const json_t *doc, esg_clients_done_cb cb, void *ud);
/*
 * Reads a client's stored document, active or not, bypassing the cache (management API). `cb`
 * later receives 0 with the document, ESP_ENOTFOUND or a storage failure. Returns 0, or
 * ESP_EINVAL (bad id) or ESP_ENOMEM and `cb` never runs. [loop]
 */
int esg_clients_load(const char *client_id, esg_clients_doc_cb cb, void *ud);

#endif
