/*
 * The identities file of identity-mock: parsing, strict validation and password verification.
 * Kept apart from the plugin so that the fuzz target (tests/fuzz/fuzz_identity_file.c) can call
 * the parser directly. Nothing here talks to the host: errors are returned as text.
 *
 * A parsed file is immutable, so the plugin reads it from any loop or worker thread without
 * locking.
 */
#ifndef IDENTITY_MOCK_IDENTITIES_H
#define IDENTITY_MOCK_IDENTITIES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define IDENTITIES_MAX_FILE (64u * 1024 * 1024)
#define IDENTITY_ID_MAX     128

enum password_kind {
    PASSWORD_NONE = 0,   /* no password: PWD never succeeds */
    PASSWORD_PBKDF2 = 1, /* pbkdf2-sha256$<iterations>$<salt>$<hash> */
    PASSWORD_SHA256 = 2, /* sha256$<hex>, eSignet's mock identity system */
};

typedef struct password_hash {
    int kind;
    uint32_t iterations;
    unsigned char salt[64];
    size_t salt_len;
    unsigned char hash[64];
    size_t hash_len;
} password_hash;

typedef struct identity {
    const char *individual_id; /* borrowed from the document */
    password_hash password;
    const char *pin;    /* NULL when absent */
    json_t *knowledge;  /* object of strings, or NULL; read only, owned by the document */
    json_t *claims;     /* object; read only, owned by the document */
    const char *email;  /* claims.email, or NULL */
    const char *phone;  /* claims.phone_number, or NULL */
    const char *locale; /* claims.locale, or NULL */
} identity;

typedef struct identities {
    json_t *doc;     /* owns every string and object the identities point to */
    identity *items; /* sorted by individual_id */
    size_t n;
    password_hash dummy; /* as costly as the dearest real hash, for unknown individuals */
} identities;

/*
 * Parses and validates an identities document. On failure returns ESP_EINVAL (or ESP_ENOMEM) and
 * appends to `err` one message naming the identity (by position and individual_id) and the field.
 */
int identities_parse(const char *text, size_t len, identities **out, esg_buf *err);

/*
 * Parses a YAML identities document (the same structure as the JSON one); `name` (borrowed) is
 * used in error positions. Same results as identities_parse().
 */
int identities_parse_yaml(const char *name, const char *text, size_t len, identities **out,
                          esg_buf *err);

/*
 * Reads `path` (at most IDENTITIES_MAX_FILE bytes) and parses it, as YAML when the name ends in
 * .yaml or .yml and as JSON otherwise; ESP_EIO when unreadable.
 */
int identities_load(const char *path, identities **out, esg_buf *err);

void identities_free(identities *db);

/* The identity with `id`, or NULL. */
const identity *identities_find(const identities *db, const char *id, size_t len);

/*
 * Checks `password` against `h` in time that depends only on the hash parameters. Returns 1 on a
 * match. A PASSWORD_NONE hash never matches. Blocks for the PBKDF2 iterations: call it off the
 * loop threads.
 */
int password_verify(const password_hash *h, const char *password, size_t len);

#endif
