/*
 * authenticator-otp: one-time passwords generated here, delivered through the configured OTP
 * notifiers (host->notify) and verified here, so that the identity backend is only told that the
 * OTP factor was used.
 *
 * State lives in the host's in-flight store, so it survives nothing but is shared by every loop
 * (and every server, with a shared store and `hash_key`):
 *   otp:<transaction>       "<generation>.<mac>.<individual id>", TTL `validity`; the OTP itself
 *                           is never stored, only HMAC-SHA256 over it, the transaction, the
 *                           individual and the generation, under the instance's key
 *   attempts:<generation>   verification attempts of that OTP (host kv incr), TTL `validity`
 *   resend:<transaction>    set NX for `resend_after`: a second send within it is refused
 * A new OTP gets a new random generation, so its attempt counter starts afresh without a reset
 * that could race with a verification.
 *
 * Threads: every function runs on a loop thread and every kv or notify completion comes back to
 * the loop that started it, so an operation's state is only ever touched by one thread.
 * The OTP is never logged; its plaintext lives in the send operation only until the notify
 * requests are handed over (the host copies them), then it is wiped.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "otp_mask.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/str.h"

#define MAX_LENGTH      10
#define KEY_BYTES       32
#define GEN_BYTES       16
#define GEN_CHARS       22 /* base64url of GEN_BYTES */
#define MAC_CHARS       43 /* base64url of an HMAC-SHA256 */
#define MAX_TRANSACTION 256
#define MAX_INDIVIDUAL  256
#define MAX_CANDIDATE   64

enum { CH_EMAIL = 1, CH_PHONE = 2 };

typedef struct otp_auth {
    const esp_host *host;
    esp_instance *self;
    int length;
    int64_t validity_ms;
    int64_t resend_ms; /* 0: no minimum interval */
    int64_t max_attempts;
    int channels; /* CH_* bits */
    unsigned char key[KEY_BYTES];
} otp_auth;

static const char *const factor_list[] = {"OTP", NULL};

static const char *const *factors(void *inst)
{
    (void)inst;
    return factor_list;
}

/* A kv call whose outcome does not matter (clean-up after a failure). */
static void ignore_result(void *ud, esp_status status, const void *result)
{
    (void)ud;
    (void)status;
    (void)result;
}

static int kv_request(otp_auth *a, int op, const char *ns, esp_str key, esp_str value,
                      int64_t ttl_ms, uint32_t mode, esp_done_cb cb, void *ud)
{
    esp_kv_request kv = {sizeof(kv), esg_str(ns), key, value, ttl_ms, mode, 1};
    return a->host->kv(a->self, op, &kv, cb, ud);
}

/*
 * HMAC-SHA256 of the OTP bound to its transaction, individual and generation, as base64url into
 * out[MAC_CHARS + 1]. Binding them means a stored MAC is useless for any other login.
 */
static int otp_mac(const otp_auth *a, esp_str transaction, esp_str individual, esp_str gen,
                   esp_str otp, char *out)
{
    esg_buf in = ESG_BUF_INIT;
    unsigned char md[32];
    unsigned int md_len = 0;
    int rc = ESP_ENOMEM;
    const esp_str parts[] = {ESP_STR_LIT("otp-v1"), transaction, individual, gen, otp};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (esg_buf_append(&in, parts[i].ptr, parts[i].len) != 0 || esg_buf_putc(&in, '\0') != 0)
            goto out;
    }
    rc = ESP_EINTERNAL;
    if (HMAC(EVP_sha256(), a->key, KEY_BYTES, (const unsigned char *)in.data, in.len, md,
             &md_len) == NULL ||
        md_len != sizeof(md))
        goto out;
    esg_b64url_encode_to(md, sizeof(md), out);
    out[MAC_CHARS] = '\0';
    rc = 0;
out:
    OPENSSL_cleanse(md, sizeof(md));
    esg_buf_free_secret(&in);
    return rc;
}

/*
 * `n` uniformly distributed decimal digits: bytes of 250 or more are rejected, because 256 is not
 * a multiple of 10 and `byte % 10` would favour 0 to 5.
 */
static int random_digits(const otp_auth *a, char *out, int n)
{
    unsigned char pool[32];
    int k = 0, rc = 0;
    for (int round = 0; k < n && round < 64; round++) {
        if ((rc = a->host->random(pool, sizeof(pool))) != 0)
            break;
        for (size_t i = 0; i < sizeof(pool) && k < n; i++) {
            if (pool[i] < 250)
                out[k++] = (char)('0' + pool[i] % 10);
        }
    }
    OPENSSL_cleanse(pool, sizeof(pool));
    out[k] = '\0';
    return k == n ? 0 : ESP_EINTERNAL;
}

static int random_b64(const otp_auth *a, size_t nbytes, char *out)
{
    unsigned char raw[32];
    if (nbytes > sizeof(raw) || a->host->random(raw, nbytes) != 0)
        return ESP_EINTERNAL;
    esg_b64url_encode_to(raw, nbytes, out);
    out[esg_b64url_encoded_len(nbytes)] = '\0';
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * send_challenge.
 */

typedef struct target {
    int channel;
    esp_str destination;
    char masked[320];
} target;

typedef struct send_op {
    otp_auth *a;
    const esp_challenge_request *req; /* borrowed until the call completes */
    esp_call *call;
    target targets[2];
    size_t n_targets;
    int resend_marked; /* the resend mark is ours to remove when nothing was delivered */
    size_t pending;    /* notify calls (and the starting loop) not finished yet */
    size_t delivered;
    int delivered_bits;
    int permanent_failure;    /* a notifier failed otherwise than "unavailable" */
    char otp[MAX_LENGTH + 1]; /* secret; wiped once handed to the notifiers */
    char gen[GEN_CHARS + 1];
    char value[GEN_CHARS + 1 + MAC_CHARS + 1 + MAX_INDIVIDUAL + 1];
} send_op;

static void send_free(send_op *op)
{
    OPENSSL_cleanse(op, sizeof(*op));
    free(op);
}

static void send_fail(send_op *op, esp_status status, const char *why)
{
    otp_auth *a = op->a;
    /* Nothing reached the user: let them ask again at once. */
    if (op->resend_marked)
        kv_request(a, ESP_KV_DEL, "resend", op->req->transaction_id, ESP_STR_NULL, 0, 0,
                   ignore_result, NULL);
    a->host->call_fail(op->call, status, NULL, "send_challenge: %s", why);
    send_free(op);
}

static void send_finish(send_op *op)
{
    if (--op->pending > 0)
        return;
    if (op->delivered == 0) {
        /* Unavailable only when every notifier said so; otherwise sending failed. */
        send_fail(op, op->permanent_failure ? ESP_ESEND_OTP : ESP_EUNAVAIL,
                  "no notifier delivered the OTP");
        return;
    }
    esp_send_otp_result res = {sizeof(res), ESP_STR_NULL, ESP_STR_NULL};
    for (size_t i = 0; i < op->n_targets; i++) {
        target *t = &op->targets[i];
        if (!(op->delivered_bits & t->channel))
            continue;
        if (t->channel == CH_EMAIL)
            res.masked_email = esg_str(t->masked);
        else
            res.masked_mobile = esg_str(t->masked);
    }
    op->a->host->call_done(op->call, &res);
    send_free(op);
}

typedef struct notify_ctx {
    send_op *op;
    int channel;
} notify_ctx;

static void notified(void *ud, esp_status status, const void *result)
{
    (void)result;
    notify_ctx *n = ud;
    send_op *op = n->op;
    if (status == 0) {
        op->delivered++;
        op->delivered_bits |= n->channel;
    } else {
        op->permanent_failure |= status != ESP_EUNAVAIL;
        op->a->host->log(op->a->self, ESP_LOG_WARN, "OTP delivery by %s failed: %s",
                         n->channel == CH_EMAIL ? "email" : "phone", op->a->host->err_name(status));
    }
    free(n);
    send_finish(op);
}

/* The OTP is stored: hand it to a notifier per channel, then forget it. */
static void otp_stored(void *ud, esp_status status, const void *result)
{
    (void)result;
    send_op *op = ud;
    otp_auth *a = op->a;
    if (status != 0) {
        send_fail(op, ESP_EUNAVAIL, "cannot store the OTP");
        return;
    }
    op->pending = 1; /* held by this function until every notify call has started */
    for (size_t i = 0; i < op->n_targets; i++) {
        target *t = &op->targets[i];
        notify_ctx *n = malloc(sizeof(*n));
        if (n != NULL) {
            n->op = op;
            n->channel = t->channel;
        }
        esp_notify_request nr = {sizeof(nr),
                                 esg_str(t->channel == CH_EMAIL ? "email" : "phone"),
                                 t->destination,
                                 {op->otp, strlen(op->otp)},
                                 a->validity_ms / 1000,
                                 op->req->locale,
                                 op->req->client_name};
        int rc = n != NULL ? a->host->notify(a->self, &nr, notified, n) : ESP_ENOMEM;
        if (rc != 0) {
            free(n);
            /* A channel without a notifier is a deployment gap, not a missing contact. */
            op->permanent_failure |= rc != ESP_EUNAVAIL;
            a->host->log(a->self, ESP_LOG_WARN, "cannot hand the OTP to a notifier for %s: %s",
                         t->channel == CH_EMAIL ? "email" : "phone", a->host->err_name(rc));
            continue;
        }
        op->pending++;
    }
    /* Every notifier has its own copy now (the host copies requests). */
    OPENSSL_cleanse(op->otp, sizeof(op->otp));
    send_finish(op);
}

static void resend_marked(void *ud, esp_status status, const void *result)
{
    (void)result;
    send_op *op = ud;
    otp_auth *a = op->a;
    const esp_challenge_request *req = op->req;
    char mac[MAC_CHARS + 1];
    if (status == ESP_EEXIST) {
        send_fail(op, ESP_EAGAIN, "asked again before resend_after");
        return;
    }
    if (status != 0) {
        send_fail(op, ESP_EUNAVAIL, "cannot record the send");
        return;
    }
    op->resend_marked = a->resend_ms > 0;
    if (random_digits(a, op->otp, a->length) != 0 || random_b64(a, GEN_BYTES, op->gen) != 0 ||
        otp_mac(a, req->transaction_id, req->individual_id, esg_str(op->gen),
                (esp_str){op->otp, strlen(op->otp)}, mac) != 0) {
        send_fail(op, ESP_EINTERNAL, "cannot make an OTP");
        return;
    }
    snprintf(op->value, sizeof(op->value), "%s.%s.%.*s", op->gen, mac, (int)req->individual_id.len,
             req->individual_id.ptr);
    /* Replaces an earlier OTP of the transaction: only the latest one is valid. */
    if (kv_request(a, ESP_KV_PUT, "otp", req->transaction_id, esg_str(op->value), a->validity_ms,
                   ESP_KV_SET, otp_stored, op) != 0)
        send_fail(op, ESP_EUNAVAIL, "cannot store the OTP");
}

/* Adds `channel` as a target when configured, requested and reachable; once per channel. */
static void add_target(send_op *op, int channel, esp_str destination)
{
    if (!(op->a->channels & channel) || destination.len == 0)
        return;
    for (size_t i = 0; i < op->n_targets; i++) {
        if (op->targets[i].channel == channel)
            return;
    }
    target *t = &op->targets[op->n_targets];
    const char *name = channel == CH_EMAIL ? "email" : "phone";
    if (otp_mask_destination(name, strlen(name), destination.ptr, destination.len, t->masked,
                             sizeof(t->masked)) == 0)
        return;
    t->channel = channel;
    t->destination = destination;
    op->n_targets++;
}

static esp_status send_challenge(void *inst, const esp_challenge_request *req, esp_call *call)
{
    otp_auth *a = inst;
    if (req->transaction_id.len == 0 || req->transaction_id.len > MAX_TRANSACTION ||
        req->individual_id.len == 0 || req->individual_id.len > MAX_INDIVIDUAL)
        return ESP_EINVAL;
    int rc = 0;
    send_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->a = a;
    op->req = req;
    op->call = call;
    /* No channel named: every configured one the individual can be reached on. */
    for (size_t i = 0; i < req->n_channels || (req->n_channels == 0 && i < 2); i++) {
        esp_str ch = req->n_channels > 0 ? req->channels[i] : esg_str(i == 0 ? "email" : "phone");
        if (esg_str_eq(ch.ptr, ch.len, "email"))
            add_target(op, CH_EMAIL, req->email);
        else if (esg_str_eq(ch.ptr, ch.len, "phone"))
            add_target(op, CH_PHONE, req->phone);
    }
    /* Nothing reachable is the caller's answer, not a failure to start: complete the call. */
    if (op->n_targets == 0) {
        a->host->call_fail(call, ESP_ENO_CHANNEL, NULL,
                           "send_challenge: no contact for the requested channels");
        goto done;
    }
    if (a->resend_ms == 0) {
        resend_marked(op, 0, NULL);
        return 0;
    }
    if (kv_request(a, ESP_KV_PUT, "resend", req->transaction_id, ESP_STR_LIT("1"), a->resend_ms,
                   ESP_KV_NX, resend_marked, op) == 0)
        return 0;
    rc = ESP_EUNAVAIL;
done:
    send_free(op);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * verify.
 */

typedef struct verify_op {
    otp_auth *a;
    const esp_verify_request *req; /* borrowed until the call completes */
    esp_call *call;
    char value[GEN_CHARS + 1 + MAC_CHARS + 1 + MAX_INDIVIDUAL + 1]; /* the stored state */
    size_t value_len;
    int match;
} verify_op;

static void verify_free(verify_op *op)
{
    OPENSSL_cleanse(op, sizeof(*op));
    free(op);
}

static void verify_end(verify_op *op, esp_status status, const char *why)
{
    if (status == 0)
        op->a->host->call_done(op->call, NULL);
    else
        op->a->host->call_fail(op->call, status, NULL, "verify: %s", why);
    verify_free(op);
}

static void exhausted(void *ud, esp_status status, const void *result)
{
    (void)status;
    (void)result;
    verify_end(ud, ESP_ETOO_MANY_ATTEMPTS, "no attempts left; the OTP is withdrawn");
}

static void otp_taken(void *ud, esp_status status, const void *result)
{
    verify_op *op = ud;
    const esp_kv_result *kv = result;
    if (status == ESP_ENOTFOUND) {
        verify_end(op, ESP_ECHALLENGE_EXPIRED, "the OTP expired or was used meanwhile");
        return;
    }
    if (status != 0) {
        verify_end(op, ESP_EUNAVAIL, "cannot consume the OTP");
        return;
    }
    if (!esg_ct_equal(kv->value.ptr, kv->value.len, op->value, op->value_len)) {
        /* A new OTP replaced the one just verified: put it back untouched and refuse. */
        if (kv->ttl_ms > 0)
            kv_request(op->a, ESP_KV_PUT, "otp", op->req->transaction_id, kv->value, kv->ttl_ms,
                       ESP_KV_NX, ignore_result, NULL);
        verify_end(op, ESP_ECHALLENGE_EXPIRED, "the OTP was replaced by a newer one");
        return;
    }
    verify_end(op, 0, NULL);
}

static void attempt_counted(void *ud, esp_status status, const void *result)
{
    verify_op *op = ud;
    otp_auth *a = op->a;
    const esp_kv_result *kv = result;
    if (status != 0) {
        verify_end(op, ESP_EUNAVAIL, "cannot count the attempt");
        return;
    }
    esp_str txn = op->req->transaction_id;
    int last = kv->count >= a->max_attempts;
    if (kv->count > a->max_attempts || (!op->match && last)) {
        if (kv_request(a, ESP_KV_DEL, "otp", txn, ESP_STR_NULL, 0, 0, exhausted, op) != 0)
            exhausted(op, 0, NULL);
        return;
    }
    if (!op->match) {
        verify_end(op, ESP_EAUTH, "wrong OTP");
        return;
    }
    /* Taking the state consumes the OTP atomically: a second use finds nothing. */
    if (kv_request(a, ESP_KV_TAKE, "otp", txn, ESP_STR_NULL, 0, 0, otp_taken, op) != 0)
        verify_end(op, ESP_EUNAVAIL, "cannot consume the OTP");
}

/* "<generation>.<mac>.<individual id>" */
static int split_state(const char *v, size_t n, esp_str *gen, esp_str *mac, esp_str *individual)
{
    const char *d1 = memchr(v, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - v)) : NULL;
    if (d1 == NULL || d2 == NULL)
        return ESP_EINVAL;
    *gen = (esp_str){v, (size_t)(d1 - v)};
    *mac = (esp_str){d1 + 1, (size_t)(d2 - d1 - 1)};
    *individual = (esp_str){d2 + 1, n - (size_t)(d2 + 1 - v)};
    return gen->len == GEN_CHARS && mac->len == MAC_CHARS ? 0 : ESP_EINVAL;
}

static void state_read(void *ud, esp_status status, const void *result)
{
    verify_op *op = ud;
    otp_auth *a = op->a;
    const esp_verify_request *req = op->req;
    const esp_kv_result *kv = result;
    esp_str gen, mac, individual;
    char expected[MAC_CHARS + 1];
    if (status == ESP_ENOTFOUND) {
        verify_end(op, ESP_ECHALLENGE_EXPIRED, "no OTP outstanding (never sent, expired or used)");
        return;
    }
    if (status != 0) {
        verify_end(op, ESP_EUNAVAIL, "cannot read the OTP state");
        return;
    }
    if (kv->value.len >= sizeof(op->value) ||
        split_state(kv->value.ptr, kv->value.len, &gen, &mac, &individual) != 0) {
        verify_end(op, ESP_EINTERNAL, "the stored OTP state is malformed");
        return;
    }
    memcpy(op->value, kv->value.ptr, kv->value.len);
    op->value_len = kv->value.len;
    esp_str candidate = req->challenge->value;
    /* The individual is part of the MAC too; comparing it first gives a clear reason only. */
    op->match =
        candidate.len > 0 && candidate.len <= MAX_CANDIDATE &&
        esg_ct_equal(individual.ptr, individual.len, req->individual_id.ptr,
                     req->individual_id.len) &&
        otp_mac(a, req->transaction_id, req->individual_id, gen, candidate, expected) == 0 &&
        esg_ct_equal(expected, MAC_CHARS, mac.ptr, mac.len);
    OPENSSL_cleanse(expected, sizeof(expected));
    /*
     * Every attempt counts before its outcome is told, right or wrong, so that parallel guesses
     * cannot exceed max_attempts between a comparison and its count.
     */
    char counter[GEN_CHARS + 1];
    memcpy(counter, gen.ptr, GEN_CHARS);
    counter[GEN_CHARS] = '\0';
    if (kv_request(a, ESP_KV_INCR, "attempts", esg_str(counter), ESP_STR_NULL, a->validity_ms, 0,
                   attempt_counted, op) != 0)
        verify_end(op, ESP_EUNAVAIL, "cannot count the attempt");
}

static esp_status verify(void *inst, const esp_verify_request *req, esp_call *call)
{
    otp_auth *a = inst;
    if (!esg_str_eq(req->challenge->factor.ptr, req->challenge->factor.len, "OTP"))
        return ESP_EFACTOR;
    if (req->transaction_id.len == 0 || req->transaction_id.len > MAX_TRANSACTION ||
        req->individual_id.len == 0)
        return ESP_EINVAL;
    verify_op *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->a = a;
    op->req = req;
    op->call = call;
    if (kv_request(a, ESP_KV_GET, "otp", req->transaction_id, ESP_STR_NULL, 0, 0, state_read, op) !=
        0) {
        verify_free(op);
        return ESP_EUNAVAIL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle.
 */

static void destroy(void *inst)
{
    otp_auth *a = inst;
    if (a == NULL)
        return;
    OPENSSL_cleanse(a->key, sizeof(a->key));
    free(a);
}

/* The MAC key: `hash_key` when set (servers sharing a store need the same one), else random. */
static int load_key(otp_auth *a, const esp_value *config)
{
    esp_str text = a->host->value_str(a->host->value_get(config, "hash_key"));
    if (text.len == 0)
        return a->host->random(a->key, sizeof(a->key)) == 0 ? 0 : ESP_EINTERNAL;
    esg_buf raw = ESG_BUF_INIT;
    int rc = esg_b64url_decode(&raw, text.ptr, text.len);
    if (rc != 0 || raw.len < KEY_BYTES) {
        a->host->log(a->self, ESP_LOG_ERROR,
                     "hash_key must be at least %d bytes in unpadded base64url", KEY_BYTES);
        rc = ESP_ECONFIG;
    } else {
        /* A longer key is condensed to the HMAC block's worth by hashing, as HMAC would. */
        unsigned int n = 0;
        rc = EVP_Digest(raw.data, raw.len, a->key, &n, EVP_sha256(), NULL) == 1 ? 0 : ESP_EINTERNAL;
    }
    esg_buf_free_secret(&raw);
    return rc;
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    otp_auth *a = calloc(1, sizeof(*a));
    int rc = ESP_ENOMEM;
    if (a == NULL)
        return rc;
    a->host = host;
    a->self = self;
    a->length = (int)host->value_int(host->value_get(config, "length"), 6);
    a->validity_ms = host->value_int(host->value_get(config, "validity"), 180000);
    a->resend_ms = host->value_int(host->value_get(config, "resend_after"), 30000);
    a->max_attempts = host->value_int(host->value_get(config, "max_attempts"), 3);
    const esp_value *channels = host->value_get(config, "channels");
    size_t n = host->value_count(channels);
    a->channels = channels == NULL ? CH_EMAIL | CH_PHONE : 0;
    for (size_t i = 0; i < n; i++) {
        esp_str ch = host->value_str(host->value_at(channels, i, NULL));
        a->channels |= esg_str_eq(ch.ptr, ch.len, "email")   ? CH_EMAIL
                       : esg_str_eq(ch.ptr, ch.len, "phone") ? CH_PHONE
                                                             : 0;
    }
    rc = ESP_ECONFIG;
    if (a->length < 4 || a->length > MAX_LENGTH || a->validity_ms < 1000 || a->max_attempts < 1 ||
        a->resend_ms < 0 || a->channels == 0) {
        host->log(self, ESP_LOG_ERROR,
                  "length must be 4 to %d, validity at least 1s, max_attempts at least 1, and "
                  "channels name email or phone",
                  MAX_LENGTH);
        goto fail;
    }
    if ((rc = load_key(a, config)) != 0)
        goto fail;
    *out = a;
    return 0;
fail:
    destroy(a);
    return rc;
}

static const char *const channel_choices[] = {"email", "phone", NULL};

static const esp_option options[] = {
    {sizeof(esp_option), "length", ESP_OPT_INT, 0, "6", "Digits of an OTP.", 4, MAX_LENGTH, NULL, 0,
     NULL},
    {sizeof(esp_option), "validity", ESP_OPT_DURATION, 0, "3m",
     "How long an OTP can be used after it was sent.", 10000, 3600000, NULL, 0, NULL},
    {sizeof(esp_option), "max_attempts", ESP_OPT_INT, 0, "3",
     "Verification attempts per OTP; the last wrong one withdraws it.", 1, 100, NULL, 0, NULL},
    {sizeof(esp_option), "resend_after", ESP_OPT_DURATION, 0, "30s",
     "Minimum time between two OTPs for one transaction; 0 for none.", 0, 3600000, NULL, 0, NULL},
    {sizeof(esp_option), "channels", ESP_OPT_LIST, 0, "[email, phone]",
     "Channels OTPs are sent on, each through the first OTP notifier serving it.", 1, 2,
     channel_choices, ESP_OPT_ENUM, NULL},
    {sizeof(esp_option), "hash_key", ESP_OPT_STRING, ESP_OPT_SECRET, NULL,
     "Key (unpadded base64url, at least 32 bytes) of the HMAC stored instead of the OTP; set the "
     "same on every server sharing an in-flight store. Default: random per start.",
     43, 512, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_authenticator_v1 vtable = {
    .size = sizeof(esp_authenticator_v1),
    .create = create,
    .destroy = destroy,
    .factors = factors,
    .send_challenge = send_challenge,
    .verify = verify,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_AUTHENTICATOR,
    .kind_version = 1,
    .type = "otp",
    .description = "One-time passwords sent through the OTP notifiers and verified here.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "authenticator-otp",
    .version = "1.0.0",
    .description = "OTP authenticator.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
