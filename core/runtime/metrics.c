#include "runtime/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "plugin/call.h"
#include "plugin/registry.h"
#include "runtime/version.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "util/clock.h"

#define MIN_STATUS 100
#define N_STATUS   500 /* 100 .. 599 */
#define N_BUCKETS  ESG_LATENCY_BUCKETS

/* One loop's counters for one route. Single writer (the loop), readers use relaxed loads. */
typedef struct route_stats {
    _Atomic uint64_t by_status[N_STATUS];
    _Atomic uint64_t buckets[N_BUCKETS + 1];
    _Atomic uint64_t latency_us_sum;
} route_stats;

static size_t n_routes_;
static const char *const *route_names_;
static int n_loops_;
static route_stats *stats_; /* [loop][route + 1]; index 0 is "no route" */
static int64_t started_s;

int esg_metrics_init(size_t n_routes, const char *const *route_names, int n_loops)
{
    stats_ = calloc((size_t)n_loops * (n_routes + 1), sizeof(*stats_));
    if (stats_ == NULL)
        return ESP_ENOMEM;
    n_routes_ = n_routes;
    route_names_ = route_names;
    n_loops_ = n_loops;
    started_s = esg_wall_s();
    return 0;
}

void esg_metrics_free(void)
{
    free(stats_);
    stats_ = NULL;
    n_routes_ = 0;
    n_loops_ = 0;
}

/* Single-writer increment: a plain load and store, no locked instruction. */
static inline void bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

void esg_metrics_request(int loop_index, int route, int status, uint64_t latency_us)
{
    if (stats_ == NULL || loop_index < 0 || loop_index >= n_loops_ || route >= (int)n_routes_)
        return;
    route_stats *s = &stats_[(size_t)loop_index * (n_routes_ + 1) + (size_t)(route + 1)];
    if (status >= MIN_STATUS && status < MIN_STATUS + N_STATUS)
        bump(&s->by_status[status - MIN_STATUS], 1);
    double ms = (double)latency_us / 1000.0;
    int b = 0;
    while (b < N_BUCKETS && ms > esg_latency_bounds_ms[b])
        b++;
    bump(&s->buckets[b], 1);
    bump(&s->latency_us_sum, latency_us);
}

static uint64_t load(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void label_escape(esg_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            esg_buf_putc(b, '\\');
        if (*s == '\n') {
            esg_buf_puts(b, "\\n");
            continue;
        }
        esg_buf_putc(b, *s);
    }
}

static void render_histogram(esg_buf *b, const char *name, const char *labels,
                             const uint64_t *buckets, uint64_t sum_us)
{
    uint64_t cum = 0;
    for (int i = 0; i <= N_BUCKETS; i++) {
        cum += buckets[i];
        if (i < N_BUCKETS)
            esg_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
                           esg_latency_bounds_ms[i] / 1000.0, (unsigned long long)cum);
        else
            esg_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
                           (unsigned long long)cum);
    }
    esg_buf_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, (double)sum_us / 1e6,
                   name, labels, (unsigned long long)cum);
}

static void render_http(esg_buf *b)
{
    esg_buf_puts(b, "# HELP esignet_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE esignet_http_requests_total counter\n");
    for (size_t r = 0; r <= n_routes_; r++) {
        const char *name = r == 0 ? "none" : route_names_[r - 1];
        for (int st = 0; st < N_STATUS; st++) {
            uint64_t n = 0;
            for (int l = 0; l < n_loops_; l++)
                n += load(&stats_[(size_t)l * (n_routes_ + 1) + r].by_status[st]);
            if (n == 0)
                continue;
            esg_buf_puts(b, "esignet_http_requests_total{route=\"");
            label_escape(b, name);
            esg_buf_printf(b, "\",status=\"%d\"} %llu\n", st + MIN_STATUS, (unsigned long long)n);
        }
    }
    esg_buf_puts(b, "# HELP esignet_http_request_duration_seconds Time from the first request "
                    "byte to the end of the response.\n"
                    "# TYPE esignet_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= n_routes_; r++) {
        uint64_t buckets[N_BUCKETS + 1] = {0}, sum = 0, total = 0;
        for (int l = 0; l < n_loops_; l++) {
            route_stats *s = &stats_[(size_t)l * (n_routes_ + 1) + r];
            for (int i = 0; i <= N_BUCKETS; i++) {
                buckets[i] += load(&s->buckets[i]);
                total += load(&s->buckets[i]);
            }
            sum += load(&s->latency_us_sum);
        }
        if (total == 0)
            continue;
        esg_buf labels = ESG_BUF_INIT;
        esg_buf_puts(&labels, "route=\"");
        label_escape(&labels, r == 0 ? "none" : route_names_[r - 1]);
        esg_buf_putc(&labels, '"');
        render_histogram(b, "esignet_http_request_duration_seconds", labels.data, buckets, sum);
        esg_buf_free(&labels);
    }
}

static void render_plugins(esg_buf *b)
{
    static const struct {
        const char *help_name;
        const char *type;
        const char *help;
    } fams[] = {
        {"esignet_plugin_calls_total", "counter", "Plugin calls started."},
        {"esignet_plugin_call_failures_total", "counter", "Plugin calls that failed."},
        {"esignet_plugin_call_timeouts_total", "counter",
         "Plugin calls that missed their deadline."},
        {"esignet_plugin_late_completions_total", "counter",
         "Completions that arrived after the deadline and were dropped."},
        {"esignet_plugin_double_completions_total", "counter",
         "Second completions of a call, refused (a plugin bug)."},
    };
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        esg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fams[f].help_name, fams[f].help,
                       fams[f].help_name, fams[f].type);
        for (struct esp_instance *i = esg_instances_first(); i != NULL; i = i->next) {
            const esg_kind_info *k = esg_kind_find(i->kind);
            for (int op = 0; op < ESG_OP_COUNT; op++) {
                const esg_op_stats *s = &i->stats[op];
                uint64_t v = f == 0   ? load(&s->calls)
                             : f == 1 ? load(&s->failures)
                             : f == 2 ? load(&s->timeouts)
                             : f == 3 ? load(&s->late)
                                      : load(&s->double_completions);
                if (load(&s->calls) == 0)
                    continue;
                esg_buf_printf(b, "%s{kind=\"%s\",instance=\"", fams[f].help_name, k->section);
                label_escape(b, i->name);
                esg_buf_printf(b, "\",op=\"%s\"} %llu\n", esg_op_name(op), (unsigned long long)v);
            }
        }
    }
    esg_buf_puts(b, "# HELP esignet_plugin_call_duration_seconds Plugin call latency.\n"
                    "# TYPE esignet_plugin_call_duration_seconds histogram\n");
    for (struct esp_instance *i = esg_instances_first(); i != NULL; i = i->next) {
        const esg_kind_info *k = esg_kind_find(i->kind);
        for (int op = 0; op < ESG_OP_COUNT; op++) {
            const esg_op_stats *s = &i->stats[op];
            if (load(&s->calls) == 0)
                continue;
            uint64_t buckets[N_BUCKETS + 1];
            for (int x = 0; x <= N_BUCKETS; x++)
                buckets[x] = load(&s->buckets[x]);
            esg_buf labels = ESG_BUF_INIT;
            esg_buf_printf(&labels, "kind=\"%s\",instance=\"", k->section);
            label_escape(&labels, i->name);
            esg_buf_printf(&labels, "\",op=\"%s\"", esg_op_name(op));
            render_histogram(b, "esignet_plugin_call_duration_seconds", labels.data, buckets,
                             load(&s->latency_us_sum));
            esg_buf_free(&labels);
        }
    }
    esg_buf_printf(b,
                   "# HELP esignet_plugin_calls_pending Plugin calls not completed yet.\n"
                   "# TYPE esignet_plugin_calls_pending gauge\n"
                   "esignet_plugin_calls_pending %lld\n"
                   "# HELP esignet_worker_queue_length Blocking plugin jobs waiting for a worker.\n"
                   "# TYPE esignet_worker_queue_length gauge\n"
                   "esignet_worker_queue_length %lld\n",
                   (long long)esg_calls_pending(), (long long)esg_workers_queued());
}

static void render_stores(esg_buf *b)
{
    esg_buf_puts(b, "# HELP esignet_store_entries Entries held by each storage instance.\n"
                    "# TYPE esignet_store_entries gauge\n");
    struct {
        const char *role;
        struct esp_instance *inst;
    } roles[] = {{"inflight", esg_store_inflight()}, {"persistent", esg_store_persistent()}};
    for (size_t r = 0; r < 2; r++) {
        struct esp_instance *i = roles[r].inst;
        if (i == NULL)
            continue;
        const esp_storage_v1 *vt = i->cap->vtable;
        int64_t n = vt->count != NULL ? vt->count(i->inst) : -1;
        if (n < 0)
            continue;
        esg_buf_printf(b, "esignet_store_entries{role=\"%s\",instance=\"", roles[r].role);
        label_escape(b, i->name);
        esg_buf_printf(b, "\"} %lld\n", (long long)n);
    }
}

int esg_metrics_render(esg_buf *out)
{
    esg_buf_puts(out, "# HELP esignet_build_info Version of the running server.\n"
                      "# TYPE esignet_build_info gauge\n");
    esg_buf_printf(out, "esignet_build_info{version=\"%s\",abi=\"%d.%d\"} 1\n", ESG_VERSION,
                   ESP_ABI_MAJOR, ESP_ABI_MINOR);
    esg_buf_printf(out,
                   "# HELP esignet_start_time_seconds Start time of the process.\n"
                   "# TYPE esignet_start_time_seconds gauge\n"
                   "esignet_start_time_seconds %lld\n",
                   (long long)started_s);
    if (stats_ != NULL)
        render_http(out);
    render_plugins(out);
    render_stores(out);
    return out->data != NULL ? 0 : ESP_ENOMEM;
}
