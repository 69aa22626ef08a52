/*
 * An immutable, reference-counted byte string. Documents that every loop serves (discovery,
 * JWKS) are built once as a blob and shared; a new version replaces the pointer while requests
 * in flight keep the old one alive.
 */
#ifndef ESG_UTIL_BLOB_H
#define ESG_UTIL_BLOB_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct esg_blob {
    _Atomic long refs;
    size_t len;
    char data[]; /* NUL-terminated */
} esg_blob;

/* New blob holding a copy of `n` bytes, with one reference; NULL on failure. [any] */
esg_blob *esg_blob_new(const void *p, size_t n);
/* Takes a reference; returns `b`. [any] */
esg_blob *esg_blob_ref(esg_blob *b);
/* Drops a reference; frees on the last one. NULL is ignored. [any] */
void esg_blob_unref(esg_blob *b);

/* A slot holding the current version of a shared blob, safe to read and replace from any thread. */
typedef struct esg_blob_slot {
    _Atomic(esg_blob *) current;
    _Atomic int lock;
} esg_blob_slot;

/* Returns a reference to the current blob (NULL when none); the caller unrefs it. [any] */
esg_blob *esg_blob_slot_get(esg_blob_slot *slot);
/* Replaces the current blob; takes over the caller's reference to `b`. [any] */
void esg_blob_slot_set(esg_blob_slot *slot, esg_blob *b);

#endif
