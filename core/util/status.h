/*
 * Status codes of the core. The core uses the plugin ABI's list (ESP_* in plugin.h) so that a
 * status travels unchanged from a plugin to the client; this module adds the lookups.
 */
#ifndef ESG_UTIL_STATUS_H
#define ESG_UTIL_STATUS_H

#include <esignet/plugin.h>

/* Static message of a status, e.g. "authentication failed"; "unknown status" for unknown codes. */
const char *esg_strerror(int status);
/* Static name of a status, e.g. "ESP_EAUTH"; "ESP_UNKNOWN" for unknown codes. */
const char *esg_err_name(int status);
/* OAuth 2.0 error code clients see for a status ("server_error" for unknown codes). */
const char *esg_status_oauth_error(int status);
/* eSignet envelope errorCode clients see for a status ("unknown_error" for unknown codes). */
const char *esg_status_esignet_error(int status);
/* Non-zero when `status` is one of the codes in the list. */
int esg_status_known(int status);

#endif
