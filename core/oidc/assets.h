/*
 * The login pages' files (core/oidc/ui): scripts, style and translations (i18n/<lang>.json),
 * embedded at build time by cmake/embed.cmake, which also checks that every translation has the
 * keys of i18n/en.json. Nothing is read from disk at run time.
 */
#ifndef ESG_OIDC_ASSETS_H
#define ESG_OIDC_ASSETS_H

#include <stddef.h>

typedef struct esg_asset {
    const char *name;          /* path under core/oidc/ui: "login.js", "i18n/ar.json" */
    const unsigned char *data; /* the bytes, followed by a NUL that `len` does not count */
    size_t len;
    const char *version; /* 16 hex digits of the SHA-256 of the bytes, for cache-busting URLs */
} esg_asset;

/* Every embedded file, in the order CMake listed them. */
extern const esg_asset esg_assets[];
extern const size_t esg_assets_count;

#endif
