/*
 * authenticator-otp through the real loader, registry and call layer, with the memory store and
 * an in-process OTP notifier that captures what it is asked to deliver: sending and verifying,
 * wrong and expired OTPs, attempts running out, single use, resending too early, channels without
 * a contact or a notifier, failing notifiers, the spread of the digits, and no OTP in the log.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "store/store.h"
#include "test_loop.h"
#include "util/clock.h"
#include "util/log.h"

static esg_loop loop;
static struct esp_instance *otp;       /* email and phone, 6 digits, resend after 30 s */
static struct esp_instance *otp_email; /* email only, 8 digits, no resend interval */

#define ID    "8267411571"
#define EMAIL "jane.doe@example.com"
#define PHONE "+91 98765 43210"

/* ---------------------------------------------------------------------------------------------
 * The fake notifier: one instance per channel; records the last message, can be made to fail.
 */

typedef struct fake {
    const esp_host *host;
    const char *channels[2];
    esp_status fail_with;
    int sent;
    char otp[32];
    char destination[128];
    int64_t expires_in;
} fake;

static fake fakes[2]; /* [0] email, [1] phone */

static esp_status fake_create(const esp_host *h, esp_instance *self, void *state,
                              const esp_value *config, void **out)
{
    (void)self;
    (void)state;
    esp_str ch = h->value_str(h->value_get(config, "channel"));
    fake *f = &fakes[strcmp(ch.ptr, "email") == 0 ? 0 : 1];
    memset(f, 0, sizeof(*f));
    f->host = h;
    f->channels[0] = f == &fakes[0] ? "email" : "phone";
    *out = f;
    return 0;
}

static void fake_destroy(void *inst)
{
    (void)inst;
}

static const char *const *fake_channels(void *inst)
{
    return ((fake *)inst)->channels;
}

static esp_status fake_send(void *inst, const esp_notify_request *req, esp_call *call)
{
    fake *f = inst;
    if (f->fail_with != 0)
        return f->fail_with;
    f->sent++;
    snprintf(f->otp, sizeof(f->otp), "%.*s", (int)req->otp.len, req->otp.ptr);
    snprintf(f->destination, sizeof(f->destination), "%.*s", (int)req->destination.len,
             req->destination.ptr);
    f->expires_in = req->expires_in;
    f->host->call_done(call, NULL);
    return 0;
}

static const esp_otp_notifier_v1 fake_vtable = {sizeof(esp_otp_notifier_v1), fake_create,
                                                fake_destroy, fake_channels, fake_send};
static const esp_capability fake_cap = {
    sizeof(esp_capability), ESP_KIND_OTP_NOTIFIER, 1, 0, "fake", "fake", NULL, &fake_vtable};
static const esp_capability *const fake_caps[] = {&fake_cap, NULL};
static const esp_plugin_desc fake_desc = {sizeof(esp_plugin_desc),
                                          ESP_ABI_MAJOR,
                                          ESP_ABI_MINOR,
                                          "fake-notifier",
                                          "1",
                                          "fake",
                                          fake_caps,
                                          NULL,
                                          NULL};

/* ---------------------------------------------------------------------------------------------
 * Calls.
 */

typedef struct outcome {
    int done;
    int status;
    char masked_email[128];
    char masked_mobile[128];
} outcome;

static void on_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    outcome *o = ud;
    o->done = 1;
    o->status = status;
    const esp_send_otp_result *r = result;
    if (r != NULL) {
        snprintf(o->masked_email, sizeof(o->masked_email), "%.*s", (int)r->masked_email.len,
                 r->masked_email.ptr ? r->masked_email.ptr : "");
        snprintf(o->masked_mobile, sizeof(o->masked_mobile), "%.*s", (int)r->masked_mobile.len,
                 r->masked_mobile.ptr ? r->masked_mobile.ptr : "");
    }
}

static int is_done(void *arg)
{
    return ((outcome *)arg)->done;
}

static outcome run(struct esp_instance *inst, int op, const void *req)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    int rc = esg_call(inst, op, req, on_done, &o);
    if (rc != 0) {
        o.status = rc;
        return o;
    }
    test_loop_until(&loop, is_done, &o, 10000);
    return o;
}

static esp_str s(const char *text)
{
    return (esp_str){text, text ? strlen(text) : 0};
}

/* Sends on `channels` (comma-free names, NULL-terminated) to the standard contacts. */
static outcome send_to(struct esp_instance *inst, const char *txn, const char *email,
                       const char *phone, const char *ch1, const char *ch2)
{
    esp_str ch[2] = {s(ch1), s(ch2)};
    esp_challenge_request req = {sizeof(req),
                                 s("client-1"),
                                 s("Health Portal"),
                                 s(txn),
                                 s(ID),
                                 ch,
                                 ch1 == NULL   ? 0u
                                 : ch2 == NULL ? 1u
                                               : 2u,
                                 s(email),
                                 s(phone),
                                 s("en")};
    return run(inst, ESG_OP_SEND_CHALLENGE, &req);
}

static outcome send_both(const char *txn)
{
    return send_to(otp, txn, EMAIL, PHONE, "email", "phone");
}

static int verify_as(struct esp_instance *inst, const char *txn, const char *id, const char *factor,
                     const char *value)
{
    esp_challenge c = {sizeof(c), s(factor), s("alpha-numeric"), s(value), 0};
    esp_verify_request req = {sizeof(req), s("client-1"), s(txn), s("auth-txn"),
                              s(id),       ESP_STR_NULL,  &c};
    return run(inst, ESG_OP_VERIFY, &req).status;
}

static int verify(const char *txn, const char *value)
{
    return verify_as(otp, txn, ID, "OTP", value);
}

/* The OTP `code` with its first digit changed. */
static void wrong_of(const char *code, char out[32])
{
    snprintf(out, 32, "%s", code);
    out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_plugin_register_builtin(esg_memstore_descriptor(), &err), 0);
    assert_int_equal(esg_plugin_register_builtin(&fake_desc, &err), 0);
    if (esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/authenticator-otp.so", &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    struct esp_instance *mem;
    assert_int_equal(
        esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "memory", &err), "mem",
                            json_pack("{s:i,s:i}", "max_entries", 100000, "max_value_size", 4096),
                            5000, &mem, &err),
        0);
    assert_int_equal(esg_store_configure(mem, NULL, &err), 0);
    esg_cap *fc = esg_cap_find(ESP_KIND_OTP_NOTIFIER, "fake", &err);
    assert_int_equal(
        esg_instance_create(fc, "mail", json_pack("{s:s}", "channel", "email"), 5000, NULL, &err),
        0);
    assert_int_equal(
        esg_instance_create(fc, "sms", json_pack("{s:s}", "channel", "phone"), 5000, NULL, &err),
        0);
    esg_cap *cap = esg_cap_find(ESP_KIND_AUTHENTICATOR, "otp", &err);
    json_t *c1 = json_pack("{s:i,s:i,s:i,s:i,s:[s,s]}", "length", 6, "validity", 60000,
                           "max_attempts", 3, "resend_after", 30000, "channels", "email", "phone");
    json_t *c2 = json_pack("{s:i,s:i,s:i,s:i,s:[s]}", "length", 8, "validity", 60000,
                           "max_attempts", 3, "resend_after", 0, "channels", "email");
    if (esg_instance_create(cap, "otp", c1, 5000, &otp, &err) != 0 ||
        esg_instance_create(cap, "otp-email", c2, 5000, &otp_email, &err) != 0)
        fail_msg("%s", err.data);
    esg_buf_free(&err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_clock_set_offset_ms(0);
    esg_store_configure(NULL, NULL, NULL);
    esg_plugins_shutdown();
    assert_int_equal(test_loop_finish(&loop), 0);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Tests.
 */

static void test_send_and_verify(void **state)
{
    (void)state;
    outcome o = send_both("txn-1");
    assert_int_equal(o.status, 0);
    assert_string_equal(o.masked_email, "j***@e*****e.com");
    assert_string_equal(o.masked_mobile, "***********3210");
    /* One OTP, both channels, six digits, with its lifetime. */
    assert_int_equal(fakes[0].sent, 1);
    assert_int_equal(fakes[1].sent, 1);
    assert_string_equal(fakes[0].otp, fakes[1].otp);
    assert_int_equal(strlen(fakes[0].otp), 6);
    assert_int_equal(strspn(fakes[0].otp, "0123456789"), 6);
    assert_string_equal(fakes[0].destination, EMAIL);
    assert_string_equal(fakes[1].destination, PHONE);
    assert_int_equal(fakes[0].expires_in, 60);
    /* Right OTP, but for another individual or another transaction. */
    assert_int_equal(verify_as(otp, "txn-1", "someone-else", "OTP", fakes[0].otp), ESP_EAUTH);
    assert_int_equal(verify("txn-2", fakes[0].otp), ESP_ECHALLENGE_EXPIRED);
    /* Right: once. */
    assert_int_equal(verify("txn-1", fakes[0].otp), 0);
    assert_int_equal(verify("txn-1", fakes[0].otp), ESP_ECHALLENGE_EXPIRED);
    /* The factor this authenticator verifies. */
    assert_int_equal(verify_as(otp, "txn-1", ID, "PWD", "secret"), ESP_EFACTOR);
}

static void test_attempts(void **state)
{
    (void)state;
    char wrong[32];
    assert_int_equal(send_both("txn-a").status, 0);
    wrong_of(fakes[0].otp, wrong);
    /* A wrong try, then the right one within max_attempts. */
    assert_int_equal(verify("txn-a", wrong), ESP_EAUTH);
    assert_int_equal(verify("txn-a", ""), ESP_EAUTH);
    assert_int_equal(verify("txn-a", fakes[0].otp), 0);

    /* Three wrong tries: the third withdraws the OTP, so the right one comes too late. */
    assert_int_equal(send_both("txn-b").status, 0);
    wrong_of(fakes[0].otp, wrong);
    assert_int_equal(verify("txn-b", wrong), ESP_EAUTH);
    assert_int_equal(verify("txn-b", "12345678901234567890"), ESP_EAUTH);
    assert_int_equal(verify("txn-b", wrong), ESP_ETOO_MANY_ATTEMPTS);
    assert_int_equal(verify("txn-b", fakes[0].otp), ESP_ECHALLENGE_EXPIRED);
}

static void test_expiry(void **state)
{
    (void)state;
    assert_int_equal(send_both("txn-e").status, 0);
    esg_clock_set_offset_ms(61000);
    assert_int_equal(verify("txn-e", fakes[0].otp), ESP_ECHALLENGE_EXPIRED);
}

static void test_resend(void **state)
{
    (void)state;
    assert_int_equal(send_both("txn-r").status, 0);
    char first[32];
    snprintf(first, sizeof(first), "%s", fakes[0].otp);
    assert_int_equal(send_both("txn-r").status, ESP_EAGAIN);
    assert_int_equal(fakes[0].sent, 1);
    /* Another transaction is not held back. */
    assert_int_equal(send_both("txn-other").status, 0);
    /* After resend_after a new OTP replaces the first, with its own attempts. */
    esg_clock_set_offset_ms(31000);
    assert_int_equal(send_both("txn-r").status, 0);
    if (strcmp(first, fakes[0].otp) != 0)
        assert_int_equal(verify("txn-r", first), ESP_EAUTH);
    assert_int_equal(verify("txn-r", fakes[0].otp), 0);
    /* Without resend_after, sends follow each other freely. */
    assert_int_equal(send_to(otp_email, "txn-f", EMAIL, NULL, "email", NULL).status, 0);
    assert_int_equal(send_to(otp_email, "txn-f", EMAIL, NULL, "email", NULL).status, 0);
    assert_int_equal(strlen(fakes[0].otp), 8);
}

static void test_channels(void **state)
{
    (void)state;
    /* A requested channel the individual has no contact for. */
    assert_int_equal(send_to(otp, "txn-c1", EMAIL, "", "phone", NULL).status, ESP_ENO_CHANNEL);
    assert_int_equal(send_to(otp, "txn-c2", "", "", "email", "phone").status, ESP_ENO_CHANNEL);
    /* A channel this instance does not send on. */
    assert_int_equal(send_to(otp_email, "txn-c3", EMAIL, PHONE, "phone", NULL).status,
                     ESP_ENO_CHANNEL);
    assert_int_equal(send_to(otp, "txn-c4", EMAIL, PHONE, "fax", NULL).status, ESP_ENO_CHANNEL);
    assert_int_equal(fakes[0].sent + fakes[1].sent, 0);
    /* Only the reachable one of two requested channels. */
    outcome o = send_to(otp, "txn-c5", "", PHONE, "email", "phone");
    assert_int_equal(o.status, 0);
    assert_string_equal(o.masked_email, "");
    assert_int_equal(fakes[1].sent, 1);
    /* No channel named: every configured one with a contact. */
    o = send_to(otp, "txn-c6", EMAIL, PHONE, NULL, NULL);
    assert_int_equal(o.status, 0);
    assert_int_equal(fakes[0].sent, 1);
    assert_int_equal(fakes[1].sent, 2);
}

static void test_failing_notifiers(void **state)
{
    (void)state;
    /* One channel fails: the OTP still went out on the other. */
    fakes[0].fail_with = ESP_EUNAVAIL;
    outcome o = send_both("txn-n1");
    assert_int_equal(o.status, 0);
    assert_string_equal(o.masked_email, "");
    assert_string_equal(o.masked_mobile, "***********3210");
    assert_int_equal(verify("txn-n1", fakes[1].otp), 0);
    /* Every channel fails: the caller learns it, and may ask again at once. */
    fakes[1].fail_with = ESP_ESEND_OTP;
    assert_int_equal(send_both("txn-n2").status, ESP_ESEND_OTP);
    fakes[1].fail_with = ESP_EUNAVAIL;
    assert_int_equal(send_both("txn-n2").status, ESP_EUNAVAIL);
    fakes[0].fail_with = fakes[1].fail_with = 0;
    assert_int_equal(send_both("txn-n2").status, 0);
    assert_int_equal(verify("txn-n2", fakes[0].otp), 0);
}

static void test_digit_spread(void **state)
{
    (void)state;
    /* 250 eight-digit OTPs: 2000 digits, 200 expected of each; 120..280 is beyond 5 sigma. */
    int count[10] = {0};
    for (int i = 0; i < 250; i++) {
        char txn[32];
        snprintf(txn, sizeof(txn), "txn-d%d", i);
        assert_int_equal(send_to(otp_email, txn, EMAIL, NULL, "email", NULL).status, 0);
        for (const char *c = fakes[0].otp; *c != '\0'; c++)
            count[*c - '0']++;
    }
    for (int d = 0; d < 10; d++) {
        if (count[d] < 120 || count[d] > 280)
            fail_msg("digit %d appeared %d times in 2000", d, count[d]);
    }
}

static void test_no_otp_in_log(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/test_authenticator_otp_%d.log", ESG_TEST_BUILD_DIR,
             (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unlink(path); /* read through fd; nothing stays behind even when an assertion fails */
    esg_log_set_level(ESP_LOG_DEBUG);
    esg_log_set_fd(fd);
    char wrong[32];
    fakes[0].fail_with = ESP_EUNAVAIL;
    assert_int_equal(send_both("txn-l").status, 0);
    wrong_of(fakes[1].otp, wrong);
    assert_int_equal(verify("txn-l", wrong), ESP_EAUTH);
    assert_int_equal(verify("txn-l", fakes[1].otp), 0);
    esg_log_set_fd(2);
    esg_log_set_level(ESP_LOG_INFO);
    char log[16384] = {0};
    assert_true(pread(fd, log, sizeof(log) - 1, 0) > 0);
    close(fd);
    assert_non_null(strstr(log, "OTP delivery by email failed"));
    assert_null(strstr(log, fakes[1].otp));
    assert_null(strstr(log, wrong));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_notifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digit_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_otp_in_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
