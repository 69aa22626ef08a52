/*
 * audit-jsonl: an audit sink that appends one JSON object per event to a file.
 *
 * A template for plugin authors: it shows the one exported symbol, a capability with declared
 * options, instance creation from validated configuration, and the rule that functions called on
 * the server's loop threads never block: emit() only queues the event, and a thread of the
 * plugin's own does the file I/O.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

typedef struct line {
    struct line *next;
    size_t len;
    char text[];
} line;

typedef struct sink {
    const esp_host *host;
    esp_instance *self;
    FILE *file;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    line *head, *tail;
    size_t queued;
    size_t max_queue;
    size_t dropped;
    int stopping;
} sink;

/* Appends `s` as JSON string content. */
static void put_escaped(char **p, char *end, esp_str s)
{
    for (size_t i = 0; i < s.len && *p + 7 < end; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') {
            *(*p)++ = '\\';
            *(*p)++ = (char)c;
        } else if (c < 0x20) {
            *p += snprintf(*p, (size_t)(end - *p), "\\u%04x", c);
        } else {
            *(*p)++ = (char)c;
        }
    }
}

static void emit(void *inst, const esp_audit_event *ev)
{
    sink *s = inst;
    char buf[4096];
    char *p = buf, *end = buf + sizeof(buf) - 2;
    struct {
        const char *name;
        esp_str value;
    } fields[] = {{"action", ev->action},
                  {"request_id", ev->request_id},
                  {"transaction_id", ev->transaction_id},
                  {"client_id", ev->client_id},
                  {"subject", ev->subject},
                  {"error", ev->error}};
    p += snprintf(p, (size_t)(end - p), "{\"time_ms\":%lld,\"outcome\":\"%s\"",
                  (long long)ev->time_ms, ev->outcome == ESP_AUDIT_SUCCESS ? "success" : "error");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].value.len == 0 || p + 32 >= end)
            continue;
        p += snprintf(p, (size_t)(end - p), ",\"%s\":\"", fields[i].name);
        put_escaped(&p, end - 2, fields[i].value);
        *p++ = '"';
    }
    *p++ = '}';
    *p++ = '\n';
    size_t len = (size_t)(p - buf);
    line *l = malloc(sizeof(*l) + len);
    pthread_mutex_lock(&s->mu);
    /* A full queue means the disk cannot keep up: drop and count rather than block the loop. */
    if (l == NULL || s->queued >= s->max_queue) {
        s->dropped++;
        pthread_mutex_unlock(&s->mu);
        free(l);
        return;
    }
    l->next = NULL;
    l->len = len;
    memcpy(l->text, buf, len);
    if (s->tail)
        s->tail->next = l;
    else
        s->head = l;
    s->tail = l;
    s->queued++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
    sink *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->head == NULL && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        line *batch = s->head;
        s->head = s->tail = NULL;
        s->queued = 0;
        int stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        while (batch != NULL) {
            line *next = batch->next;
            fwrite(batch->text, 1, batch->len, s->file);
            free(batch);
            batch = next;
        }
        fflush(s->file);
        pthread_mutex_lock(&s->mu);
        if (stop && s->head == NULL)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    sink *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ESP_ENOMEM;
    s->host = host;
    s->self = self;
    /* Options arrive validated, with defaults filled in. */
    esp_str path = host->value_str(host->value_get(config, "path"));
    s->max_queue = (size_t)host->value_int(host->value_get(config, "max_queue"), 10000);
    s->file = fopen(path.ptr, "a");
    if (s->file == NULL) {
        host->log(self, ESP_LOG_ERROR, "cannot open %s for appending", path.ptr);
        free(s);
        return ESP_EIO;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        fclose(s->file);
        free(s);
        return ESP_EINTERNAL;
    }
    *out = s;
    return 0;
}

static void destroy(void *inst)
{
    sink *s = inst;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL);
    if (s->dropped > 0)
        s->host->log(s->self, ESP_LOG_WARN, "%zu audit events were dropped", s->dropped);
    fclose(s->file);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

static const esp_option options[] = {
    {sizeof(esp_option), "path", ESP_OPT_PATH, ESP_OPT_REQUIRED, NULL,
     "File the events are appended to.", 1, 4096, NULL, 0, NULL},
    {sizeof(esp_option), "max_queue", ESP_OPT_INT, 0, "10000",
     "Events held in memory while the file is slow; beyond it events are dropped and counted.", 1,
     1000000, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_audit_sink_v1 vtable = {
    .size = sizeof(esp_audit_sink_v1),
    .create = create,
    .destroy = destroy,
    .emit = emit,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_AUDIT_SINK,
    .kind_version = 1,
    .type = "jsonl",
    .description = "Appends audit events to a file, one JSON object per line.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "audit-jsonl",
    .version = "1.0.0",
    .description = "Audit events as JSON lines in a file.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
