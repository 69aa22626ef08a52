/* The esp_host service table handed to every plugin. */
#ifndef ESG_PLUGIN_HOST_H
#define ESG_PLUGIN_HOST_H

#include <esignet/plugin.h>

#include "runtime/loop.h"

/* The host table (static storage, valid for the life of the process). [any] */
const esp_host *esg_host_get(void);

/*
 * Stops and closes every plugin timer still pending on `loop`; their callbacks never run. Called
 * when a loop stops. [loop]
 */
void esg_host_close_timers(esg_loop *loop);

#endif
