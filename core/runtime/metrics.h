/*
 * Prometheus metrics (text exposition format 0.0.4). Request counters and latency histograms are
 * kept per loop, written only by their loop thread, and summed when /metrics is read, so the hot
 * path never contends on a shared cache line. Plugin call statistics live in each instance
 * (plugin/registry.h) and store sizes come from the storage plugins' count().
 */
#ifndef ESG_RUNTIME_METRICS_H
#define ESG_RUNTIME_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Sets up counters for `n_routes` routes named `route_names` (borrowed, static) and `n_loops`
 * loops. Returns 0 or ESP_ENOMEM. [init]
 */
int esg_metrics_init(size_t n_routes, const char *const *route_names, int n_loops);
/* Frees the counters. [init] */
void esg_metrics_free(void);

/*
 * Counts one finished request on loop `loop_index`: `route` is the route's index, or -1 for
 * requests no route handled; `status` the HTTP status; `latency_us` its duration. [loop]
 */
void esg_metrics_request(int loop_index, int route, int status, uint64_t latency_us);

/* Appends the whole exposition to `out`. Returns 0 or ESP_ENOMEM. [loop] */
int esg_metrics_render(esg_buf *out);

#endif
