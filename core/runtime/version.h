/* Version of the server and of the plugin ABI it implements. */
#ifndef ESG_RUNTIME_VERSION_H
#define ESG_RUNTIME_VERSION_H

/* "esignetd 0.1.0 (plugin ABI 1.0; libuv 1.44.2, OpenSSL 3.0.x, jansson 2.14, libyaml 0.2.5, ...)"
 */
const char *esg_version_text(void);

#endif
