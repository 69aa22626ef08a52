/*
 * esignetd: the server and its operator commands.
 *
 *   esignetd --config FILE                      run the server until SIGTERM/SIGINT
 *   esignetd --check-config FILE                validate the configuration and the plugins' options
 *   esignetd --list-plugins [PATH...]           what plugins offer, without starting them
 *   esignetd --config FILE --rotate-keys [--key-store NAME] [--alg ALG]
 *   esignetd --config FILE --sign-jwt JSON [--alg ALG] [--typ TYP]
 *   esignetd --version | --help
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "keys/keys.h"
#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/bootstrap.h"
#include "runtime/loop.h"
#include "runtime/server.h"
#include "runtime/version.h"
#include "runtime/workers.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/status.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: esignetd --config FILE                 run the server\n"
                 "       esignetd --check-config FILE           validate FILE and exit\n"
                 "       esignetd --list-plugins [PATH...]      describe plugins (.so files or "
                 "directories)\n"
                 "       esignetd --config FILE --rotate-keys [--key-store NAME] [--alg ALG]\n"
                 "       esignetd --config FILE --sign-jwt CLAIMS_JSON [--alg ALG] [--typ TYP]\n"
                 "       esignetd --version | --help\n");
}

/* A tool's asynchronous step, driven on a loop that runs on this thread. */
typedef struct tool {
    int done;
    int status;
    esg_buf out;
} tool;

static int tool_done(void *arg)
{
    return ((tool *)arg)->done;
}

/* Bounded: every call has a deadline timer on this loop, which answers it when the plugin does
 * not. */
static void run_until(esg_loop *loop, tool *t)
{
    while (!tool_done(t))
        uv_run(&loop->uv, UV_RUN_ONCE);
}

/*
 * A tool's loop, on the heap: worker threads post the completions of blocking jobs to it, so
 * when a job outlives the tool's wait the loop is kept (here, reachable) until the process ends.
 */
static esg_loop *kept_loop;

static esg_loop *tool_loop_open(void)
{
    esg_loop *loop = calloc(1, sizeof(*loop));
    if (loop == NULL || esg_loop_init(loop, 0) != 0) {
        free(loop);
        fprintf(stderr, "esignetd: cannot start an event loop\n");
        return NULL;
    }
    esg_loop_set_current(loop);
    return loop;
}

static int work_left(void)
{
    return esg_calls_pending() > 0 || esg_workers_outstanding() > 0;
}

static void on_wait_over(uv_timer_t *timer)
{
    *(int *)timer->data = 1;
}

/*
 * Ends a tool's loop. A call may have started work in passing that outlives it (a key listing
 * starts a scheduled key update on the worker pool): the loop runs until that work has finished
 * and its completion has run, for at most `wait_ms`; the worker pool stops before the loop goes,
 * since its threads post to the loop. Returns 0, or ESP_ETIMEDOUT, with a message, when work
 * was still running: it is left behind, and so is the loop.
 */
static int tool_loop_close(esg_loop *loop, int64_t wait_ms)
{
    int over = 0;
    uv_timer_t timer;
    uv_timer_init(&loop->uv, &timer);
    timer.data = &over;
    uv_timer_start(&timer, on_wait_over, (uint64_t)(wait_ms > 0 ? wait_ms : 0), 0);
    while (work_left() && !over)
        uv_run(&loop->uv, UV_RUN_ONCE);
    int left = work_left();
    uv_close((uv_handle_t *)&timer, NULL);
    esg_host_close_timers(loop);
    esg_loop_close_handles(loop);
    if (left) {
        fprintf(stderr,
                "esignetd: %lld plugin calls and %lld blocking jobs still running after %lld ms "
                "(plugins.call_timeout); exiting without them\n",
                (long long)esg_calls_pending(), (long long)esg_workers_outstanding(),
                (long long)wait_ms);
        /* A moment for the idle threads to leave; the busy ones are left running. */
        esg_workers_stop_within(100);
        /* Only the closing handles run: an abandoned call's deadline timer may be pending. */
        uv_run(&loop->uv, UV_RUN_NOWAIT);
        kept_loop = loop;
        esg_loop_set_current(NULL);
        return ESP_ETIMEDOUT;
    }
    /* No job is left, so the threads are idle and stop at once. */
    esg_workers_stop();
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    esg_loop_destroy(loop);
    free(loop);
    esg_loop_set_current(NULL);
    return 0;
}

static void on_rotated(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    tool *t = ud;
    t->status = status;
    t->done = 1;
}

static void on_listed(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    tool *t = ud;
    t->status = status;
    t->done = 1;
    if (status != 0)
        return;
    const esp_keys_result *r = result;
    for (size_t i = 0; i < r->n_keys; i++) {
        const esp_key_info *k = r->keys[i];
        esg_buf_printf(&t->out, "%-8.*s %-3.*s %-7s %.*s\n", (int)k->alg.len, k->alg.ptr,
                       (int)k->use.len, k->use.ptr,
                       k->state == ESP_KEY_ACTIVE ? "active" : "retired", (int)k->kid.len,
                       k->kid.ptr);
    }
}

static void on_signed(void *ud, int status, const char *jwt, size_t len)
{
    tool *t = ud;
    t->status = status;
    t->done = 1;
    if (status == 0)
        esg_buf_append(&t->out, jwt, len);
}

static int rotate_keys(esg_app *app, const char *store_name, const char *alg)
{
    struct esp_instance *ks =
        store_name ? esg_instance_find(ESP_KIND_KEY_STORE, store_name) : esg_keys_default_store();
    if (ks == NULL) {
        fprintf(stderr, "%s: no key store%s%s\n", esg_yaml_name(app->cfg->doc),
                store_name ? " named " : "", store_name ? store_name : "");
        return ESP_ENOTFOUND;
    }
    esg_loop *loop = tool_loop_open();
    if (loop == NULL)
        return ESP_EINTERNAL;
    tool t = {0, 0, ESG_BUF_INIT};
    esp_rotate_request req = {sizeof(req), {alg ? alg : "", alg ? strlen(alg) : 0}};
    /* Key generation may take seconds (RSA 4096); the instance's call deadline is for requests. */
    int rc = esg_call_timeout(ks, ESG_OP_ROTATE, &req, 120000, on_rotated, &t);
    if (rc == 0) {
        run_until(loop, &t);
        rc = t.status;
    }
    if (rc == 0) {
        t.done = 0;
        rc = esg_call(ks, ESG_OP_KEYS, NULL, on_listed, &t);
        if (rc == 0) {
            run_until(loop, &t);
            rc = t.status;
        }
    }
    if (rc != 0)
        fprintf(stderr, "rotation failed: %s\n", esg_strerror(rc));
    int closed = tool_loop_close(loop, app->cfg->plugins.call_timeout_ms);
    if (rc == 0 && closed == 0)
        printf("key store %s rotated%s%s; keys now:\n%s", ks->name, alg ? " for " : "",
               alg ? alg : "", t.out.data ? t.out.data : "");
    esg_buf_free(&t.out);
    return rc != 0 ? rc : closed;
}

static int sign_jwt(esg_app *app, const char *claims_text, const char *alg, const char *typ)
{
    json_error_t jerr;
    json_t *claims = json_loads(claims_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        fprintf(stderr, "--sign-jwt: the claims must be a JSON object (%s)\n",
                claims ? "not an object" : jerr.text);
        json_decref(claims);
        return ESP_EINVAL;
    }
    if (json_object_get(claims, "iat") == NULL)
        json_object_set_new(claims, "iat", json_integer(esg_wall_s()));
    if (json_object_get(claims, "iss") == NULL)
        json_object_set_new(claims, "iss", json_string(app->cfg->issuer));
    esg_loop *loop = tool_loop_open();
    if (loop == NULL) {
        json_decref(claims);
        return ESP_EINTERNAL;
    }
    tool t = {0, 0, ESG_BUF_INIT};
    int rc = esg_keys_sign_jwt(alg ? alg : app->cfg->keys.token_signing_alg, typ ? typ : "JWT",
                               claims, on_signed, &t);
    if (rc == 0) {
        run_until(loop, &t);
        rc = t.status;
    }
    if (rc != 0)
        fprintf(stderr, "signing failed: %s\n", esg_strerror(rc));
    json_decref(claims);
    int closed = tool_loop_close(loop, app->cfg->plugins.call_timeout_ms);
    if (rc == 0 && closed == 0)
        printf("%s\n", t.out.data);
    esg_buf_free(&t.out);
    return rc != 0 ? rc : closed;
}

int main(int argc, char **argv)
{
    enum { OPT_ROTATE = 256, OPT_SIGN, OPT_ALG, OPT_TYP, OPT_STORE, OPT_CHECK, OPT_LIST };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", required_argument, NULL, OPT_CHECK},
        {"list-plugins", no_argument, NULL, OPT_LIST},
        {"rotate-keys", no_argument, NULL, OPT_ROTATE},
        {"sign-jwt", required_argument, NULL, OPT_SIGN},
        {"alg", required_argument, NULL, OPT_ALG},
        {"typ", required_argument, NULL, OPT_TYP},
        {"key-store", required_argument, NULL, OPT_STORE},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Everything the server creates (key files, the database, lock files) is private to its
     * user; a deployment that wants group access says so with directory permissions. */
    umask(077);
    const char *config = NULL, *check = NULL, *claims = NULL, *alg = NULL, *typ = NULL,
               *store = NULL;
    int list = 0, rotate = 0, c;
    while ((c = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case OPT_CHECK:
            check = optarg;
            break;
        case OPT_LIST:
            list = 1;
            break;
        case OPT_ROTATE:
            rotate = 1;
            break;
        case OPT_SIGN:
            claims = optarg;
            break;
        case OPT_ALG:
            alg = optarg;
            break;
        case OPT_TYP:
            typ = optarg;
            break;
        case OPT_STORE:
            store = optarg;
            break;
        case 'V':
            printf("%s\n", esg_version_text());
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (list)
        return esg_list_plugins((const char *const *)argv + optind, (size_t)(argc - optind)) == 0
                   ? 0
                   : 1;
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (check != NULL) {
        esg_app app;
        if (esg_bootstrap(check, ESG_BOOT_CHECK, &app) != 0)
            return 1;
        esg_buf dump = ESG_BUF_INIT;
        esg_config_dump(app.cfg, &dump);
        printf("%s\n", dump.data ? dump.data : "");
        fprintf(stderr, "%s: configuration is valid\n", check);
        esg_buf_free(&dump);
        esg_bootstrap_teardown(&app);
        return 0;
    }
    if (config == NULL) {
        usage(stderr);
        return 2;
    }
    esg_app app;
    if (esg_bootstrap(config, ESG_BOOT_START, &app) != 0)
        return 1;
    int rc;
    if (rotate)
        rc = rotate_keys(&app, store, alg);
    else if (claims != NULL)
        rc = sign_jwt(&app, claims, alg, typ);
    else
        rc = esg_server_run(&app.settings);
    esg_bootstrap_teardown(&app);
    esg_log_flush();
    return rc == 0 ? 0 : 1;
}
