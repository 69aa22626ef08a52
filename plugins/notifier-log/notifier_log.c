/*
 * notifier-log: an OTP notifier for development that writes each message to a file instead of
 * delivering it, one JSON object per line:
 *   {"time":"2026-01-31T12:00:00.000Z","channel":"email","to":"jane@example.com",
 *    "otp":"123456","client":"Health Portal"}
 *
 * The OTP never reaches the server log (a project rule): the log line says only where the OTP
 * went, masked, and which file holds it. The file is created with mode 0600 and tightened to it
 * when it exists with a wider one, since it holds live OTPs.
 *
 * Writing a file may block, so the capability is flagged ESP_CAP_BLOCKING: send() runs on the
 * host's plugin worker pool. Workers may run send() at the same time; each message is one
 * write() to a descriptor opened with O_APPEND per message, so lines never interleave and a
 * deleted or rotated file is simply created again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <esignet/plugin.h>

#include "otp_mask.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"

typedef struct notifier {
    const esp_host *host;
    esp_instance *self;
    char *file;
    const char *channels[3]; /* static strings, NULL-terminated */
} notifier;

static const char *const *channels(void *inst)
{
    return ((notifier *)inst)->channels;
}

/* Opens the file for appending, creating it with mode 0600 or narrowing a wider mode. */
static int open_file(const notifier *n)
{
    int fd = open(n->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int put_field(esg_buf *b, const char *name, esp_str value, int first)
{
    int rc = esg_buf_printf(b, "%s\"%s\":\"", first ? "" : ",", name);
    if (rc == 0)
        rc = esg_buf_json_escape(b, value.ptr ? value.ptr : "", value.len);
    return rc == 0 ? esg_buf_putc(b, '"') : rc;
}

/* [worker] Appends the message as one JSON line. */
static esp_status op_send(void *inst, const esp_notify_request *req, esp_call *call)
{
    notifier *n = inst;
    const esp_host *host = n->host;
    esg_buf line = ESG_BUF_INIT; /* holds the OTP: freed with esg_buf_free_secret */
    char time[25];
    char masked[320];
    int fd = -1;
    esg_time_format_iso(host->wall_ms(), time);
    int rc = esg_buf_putc(&line, '{');
    if (rc == 0)
        rc = put_field(&line, "time", esg_str(time), 1);
    if (rc == 0)
        rc = put_field(&line, "channel", req->channel, 0);
    if (rc == 0)
        rc = put_field(&line, "to", req->destination, 0);
    if (rc == 0)
        rc = put_field(&line, "otp", req->otp, 0);
    if (rc == 0)
        rc = put_field(&line, "client", req->client_name, 0);
    if (rc == 0)
        rc = esg_buf_puts(&line, "}\n");
    if (rc != 0) {
        host->call_fail(call, ESP_ESEND_OTP, NULL, "out of memory");
        goto out;
    }
    fd = open_file(n);
    ssize_t written = fd >= 0 ? write(fd, line.data, line.len) : -1;
    if (written != (ssize_t)line.len) {
        host->call_fail(call, ESP_ESEND_OTP, NULL, "cannot append to %s: %s", n->file,
                        written < 0 ? strerror(errno) : "short write");
        goto out;
    }
    if (otp_mask_destination(req->channel.ptr, req->channel.len, req->destination.ptr,
                             req->destination.len, masked, sizeof(masked)) == 0)
        snprintf(masked, sizeof(masked), "(unprintable destination)");
    host->log(n->self, ESP_LOG_INFO, "OTP delivered to %s (written to %s)", masked, n->file);
    host->call_done(call, NULL);
out:
    if (fd >= 0)
        close(fd);
    esg_buf_free_secret(&line);
    return 0;
}

static void destroy(void *inst)
{
    notifier *n = inst;
    if (n == NULL)
        return;
    free(n->file);
    free(n);
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    notifier *n = calloc(1, sizeof(*n));
    int rc = ESP_ENOMEM;
    if (n == NULL)
        return rc;
    n->host = host;
    n->self = self;
    esp_str file = host->value_str(host->value_get(config, "file"));
    const esp_value *list = host->value_get(config, "channels");
    size_t k = 0;
    for (size_t i = 0; i < (list ? host->value_count(list) : 2); i++) {
        esp_str ch = list ? host->value_str(host->value_at(list, i, NULL))
                          : esg_str(i == 0 ? "email" : "phone");
        const char *name = esg_str_eq(ch.ptr, ch.len, "email")   ? "email"
                           : esg_str_eq(ch.ptr, ch.len, "phone") ? "phone"
                                                                 : NULL;
        if (name != NULL && (k == 0 || strcmp(n->channels[0], name) != 0) && k < 2)
            n->channels[k++] = name;
    }
    rc = ESP_ECONFIG;
    if (file.len == 0 || k == 0) {
        host->log(self, ESP_LOG_ERROR, "option file is required and channels name email or phone");
        goto fail;
    }
    rc = ESP_ENOMEM;
    if ((n->file = esg_strndup(file.ptr, file.len)) == NULL)
        goto fail;
    /* Creating the file now reports a wrong path at start rather than at the first login. */
    int fd = open_file(n);
    if (fd < 0) {
        host->log(self, ESP_LOG_ERROR, "cannot open %s for appending: %s", n->file,
                  strerror(errno));
        rc = ESP_EIO;
        goto fail;
    }
    close(fd);
    host->log(self, ESP_LOG_WARN, "OTPs are written to %s instead of being sent (development only)",
              n->file);
    *out = n;
    return 0;
fail:
    destroy(n);
    return rc;
}

static const char *const channel_choices[] = {"email", "phone", NULL};

static const esp_option options[] = {
    {sizeof(esp_option), "file", ESP_OPT_PATH, ESP_OPT_REQUIRED, NULL,
     "File the OTP messages are appended to as JSON lines (mode 0600).", 1, 4096, NULL, 0, NULL},
    {sizeof(esp_option), "channels", ESP_OPT_LIST, 0, "[email, phone]",
     "Channels this notifier serves.", 1, 2, channel_choices, ESP_OPT_ENUM, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_otp_notifier_v1 vtable = {
    .size = sizeof(esp_otp_notifier_v1),
    .create = create,
    .destroy = destroy,
    .channels = channels,
    .send = op_send,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_OTP_NOTIFIER,
    .kind_version = 1,
    .flags = ESP_CAP_BLOCKING,
    .type = "log",
    .description = "Development only: appends OTP messages to a file instead of sending them.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "notifier-log",
    .version = "1.0.0",
    .description = "OTP notifier writing to a file, for development.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
