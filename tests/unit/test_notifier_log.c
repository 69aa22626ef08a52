/*
 * notifier-log through the real loader and call layer on the worker pool: one JSON line per
 * message in a 0600 file, correct escaping, the log line that names only the masked destination,
 * a file re-created after deletion, a wider mode narrowed, and a path that cannot be written.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "test_loop.h"
#include "util/log.h"

static esg_loop loop;
static char file_path[256];
static char log_path[256];
static struct esp_instance *notifier;

typedef struct outcome {
    int done;
    int status;
} outcome;

static void on_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    outcome *o = ud;
    o->done = 1;
    o->status = status;
}

static int is_done(void *arg)
{
    return ((outcome *)arg)->done;
}

static esp_str s(const char *text)
{
    return (esp_str){text, strlen(text)};
}

static int notify(const char *channel, const char *to, const char *otp, const char *client)
{
    esp_notify_request req = {sizeof(req), s(channel), s(to), s(otp), 180, s("en"), s(client)};
    outcome o = {0, 0};
    int rc = esg_call(notifier, ESG_OP_NOTIFY, &req, on_done, &o);
    if (rc != 0)
        return rc;
    test_loop_until(&loop, is_done, &o, 10000);
    return o.status;
}

/* Reads a whole file into a malloc()ed string. */
static char *slurp(const char *path)
{
    char *text = calloc(1, 65536);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_true(read(fd, text, 65535) >= 0);
    close(fd);
    return text;
}

static int create_instance(const char *name, const char *path, struct esp_instance **out)
{
    esg_buf err = ESG_BUF_INIT;
    json_t *cfg = json_pack("{s:s,s:[s,s]}", "file", path, "channels", "email", "phone");
    int rc = esg_instance_create(esg_cap_find(ESP_KIND_OTP_NOTIFIER, "log", NULL), name, cfg, 5000,
                                 out, &err);
    esg_buf_free(&err);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    if (esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/notifier-log.so", &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    esg_buf_free(&err);
    snprintf(file_path, sizeof(file_path), "%s/test_notifier_log_%d.jsonl", ESG_TEST_BUILD_DIR,
             (int)getpid());
    snprintf(log_path, sizeof(log_path), "%s/test_notifier_log_%d.log", ESG_TEST_BUILD_DIR,
             (int)getpid());
    unlink(file_path);
    assert_int_equal(create_instance("log", file_path, &notifier), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_plugins_shutdown();
    esg_workers_stop();
    assert_int_equal(test_loop_finish(&loop), 0);
    unlink(file_path);
    unlink(log_path);
    return 0;
}

static void test_lines(void **state)
{
    (void)state;
    struct stat st;
    /* Created at start with mode 0600. */
    assert_int_equal(stat(file_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    const esp_otp_notifier_v1 *vt = notifier->cap->vtable;
    const char *const *ch = vt->channels(notifier->inst);
    assert_string_equal(ch[0], "email");
    assert_string_equal(ch[1], "phone");
    assert_null(ch[2]);

    int fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    esg_log_set_fd(fd);
    int rc1 = notify("email", "jane.doe@example.com", "493817", "Health \"Portal\"\n");
    int rc2 = notify("phone", "+91 98765 43210", "502261", "Bank");
    esg_log_set_fd(2);
    close(fd);
    assert_int_equal(rc1, 0);
    assert_int_equal(rc2, 0);

    char *text = slurp(file_path);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    *nl = '\0';
    json_error_t jerr;
    json_t *first = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    json_t *second = json_loads(nl + 1, JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &jerr);
    assert_non_null(first);
    assert_non_null(second);
    assert_string_equal(json_string_value(json_object_get(first, "channel")), "email");
    assert_string_equal(json_string_value(json_object_get(first, "to")), "jane.doe@example.com");
    assert_string_equal(json_string_value(json_object_get(first, "otp")), "493817");
    assert_string_equal(json_string_value(json_object_get(first, "client")), "Health \"Portal\"\n");
    const char *time = json_string_value(json_object_get(first, "time"));
    assert_non_null(time);
    assert_int_equal(strlen(time), 24);
    assert_int_equal(time[23], 'Z');
    assert_int_equal(json_object_size(first), 5);
    assert_string_equal(json_string_value(json_object_get(second, "otp")), "502261");
    assert_string_equal(json_string_value(json_object_get(second, "channel")), "phone");
    /* Exactly two lines. */
    assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
    json_decref(first);
    json_decref(second);
    free(text);

    /* The server log names the masked destination and the file, never the OTP. */
    char *log = slurp(log_path);
    assert_non_null(strstr(log, "OTP delivered to j***@e*****e.com (written to "));
    assert_non_null(strstr(log, "OTP delivered to ***********3210"));
    assert_non_null(strstr(log, file_path));
    assert_null(strstr(log, "493817"));
    assert_null(strstr(log, "502261"));
    assert_null(strstr(log, "jane.doe"));
    free(log);
}

static void test_file_handling(void **state)
{
    (void)state;
    struct stat st;
    /* A deleted file comes back, 0600 again. */
    unlink(file_path);
    assert_int_equal(notify("email", "a@example.com", "111222", ""), 0);
    assert_int_equal(stat(file_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = slurp(file_path);
    assert_non_null(strstr(text, "\"otp\":\"111222\""));
    assert_non_null(strstr(text, "\"client\":\"\""));
    free(text);

    /* A wider mode is narrowed, at start and on every message. */
    assert_int_equal(chmod(file_path, 0644), 0);
    assert_int_equal(notify("email", "a@example.com", "333444", "x"), 0);
    assert_int_equal(stat(file_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char other[300];
    snprintf(other, sizeof(other), "%s.wide", file_path);
    int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0644), 0);
    close(fd);
    assert_int_equal(create_instance("wide", other, NULL), 0);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(other);

    /* A path that cannot be written is refused at start. */
    snprintf(other, sizeof(other), "%s.missing/otp.jsonl", file_path);
    assert_int_equal(create_instance("bad", other, NULL), ESP_EIO);
    /* A file that disappears into an unwritable place fails the send, not the server. */
    assert_int_equal(unlink(file_path), 0);
    assert_int_equal(mkdir(file_path, 0700), 0);
    assert_int_equal(notify("email", "a@example.com", "555666", "x"), ESP_ESEND_OTP);
    assert_int_equal(rmdir(file_path), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_handling, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
