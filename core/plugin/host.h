/* The esp_host service table handed to every plugin. */
#ifndef ESG_PLUGIN_HOST_H
#define ESG_PLUGIN_HOST_H

#include <esignet/plugin.h>

/* The host table (static storage, valid for the life of the process). [any] */
const esp_host *esg_host_get(void);

#endif
