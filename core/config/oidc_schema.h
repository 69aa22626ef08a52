/* Schema of the `oidc` configuration section (see oidc_schema.c). */
#ifndef ESG_CONFIG_OIDC_SCHEMA_H
#define ESG_CONFIG_OIDC_SCHEMA_H

#include <esignet/plugin.h>

/* The section's options, static. */
extern const esp_option esg_oidc_options[];

#endif
