/*
 * The login page's script and style: core/oidc/ui/login.js and login.css, embedded at build time
 * by cmake/embed.cmake (each array ends with a NUL that `_len` does not count).
 */
#ifndef ESG_OIDC_ASSETS_H
#define ESG_OIDC_ASSETS_H

#include <stddef.h>

extern const unsigned char esg_asset_login_js[];
extern const size_t esg_asset_login_js_len;
extern const unsigned char esg_asset_login_css[];
extern const size_t esg_asset_login_css_len;

#endif
