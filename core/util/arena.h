/*
 * A region allocator: many small allocations freed together. Used for the memory a plugin call
 * owns (its request and result copies). Freeing wipes every block, because requests and results
 * may hold secrets (OTPs, passwords, decrypted keys).
 */
#ifndef ESG_UTIL_ARENA_H
#define ESG_UTIL_ARENA_H

#include <stddef.h>

#include <esignet/plugin.h>

typedef struct esg_arena_block esg_arena_block;

typedef struct esg_arena {
    esg_arena_block *head;
    size_t used;  /* bytes used in head */
    size_t total; /* bytes allocated by every block, for limits */
} esg_arena;

#define ESG_ARENA_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Allocates `n` zeroed bytes aligned for any type; NULL on failure. Owned by the arena. */
void *esg_arena_alloc(esg_arena *a, size_t n);
/* Copies `s` (NUL-terminated copy); the result's ptr is NULL only when s.len is 0 and s.ptr NULL.
 */
int esg_arena_str(esg_arena *a, esp_str s, esp_str *out);
/* Wipes and frees every block; the arena is empty and reusable afterwards. */
void esg_arena_free(esg_arena *a);

#endif
