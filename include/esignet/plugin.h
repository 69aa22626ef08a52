/*
 * esignet-c plugin ABI, version 1.
 *
 * This is the only header a plugin needs. It is self-contained: no libuv, OpenSSL, jansson or
 * libyaml type appears here, so a plugin may use any library (or none) internally.
 *
 * How a plugin is found and used
 * ------------------------------
 * A plugin is a shared object that exports exactly one symbol, esp_plugin_describe(). The host
 * dlopen()s the file, calls that function (which must have no side effects, so tools can list a
 * plugin without starting it) and checks the descriptor it returns:
 *
 *   - desc->size must cover every field of version 1.0 of esp_plugin_desc;
 *   - desc->abi_major must equal ESP_ABI_MAJOR of the host, and desc->abi_minor must not be
 *     greater than the host's minor (a plugin built against a newer minor may rely on services the
 *     host does not have);
 *   - every capability must have a known kind, a supported kind_version, a vtable at least as large
 *     as version 1 of that kind, and every mandatory entry set. A capability of an unknown kind is
 *     skipped with a warning so that a plugin built for a newer host still offers its other kinds.
 *
 * Then init() runs once per process, and create() once per instance that the deployer configured
 * in YAML (one .so may be instantiated several times with different options).
 *
 * Versioning rules
 * ----------------
 * A minor release only appends: new fields at the end of structs, new functions at the end of
 * tables, new enum values, new status codes. Nothing is reordered, renumbered or narrowed. Every
 * struct that crosses the boundary starts with `uint32_t size`, set to sizeof() by whoever fills
 * it, so the reader knows which layout it holds; use ESP_HAS() before touching a field added in a
 * later minor. Each capability kind has its own kind_version, so kinds evolve independently.
 *
 * Threads
 * -------
 * The host runs several event loops, one per core. Tags on each declaration say where a function
 * may run or be called:
 *   [loop]  on a host loop thread. Calls into a plugin instance may come from different loop
 *           threads at the same time; an instance protects its own shared mutable state. Such a
 *           function must return quickly and never block on I/O.
 *   [any]   on any thread, including threads the plugin created itself.
 *   [init]  on the main thread during start-up or shut-down, before or after the loops run.
 * A capability flagged ESP_CAP_BLOCKING has its operation functions (not create/destroy) run on
 * the host's dedicated plugin worker pool instead of a loop thread; there it may block.
 *
 * Asynchronous operations
 * -----------------------
 * Every operation that may be slow takes an esp_call. The plugin either completes it before it
 * returns, or keeps the pointer and completes it later from any thread. Completion happens exactly
 * once, with host->call_done() or host->call_fail(). Every call has a deadline set by the host;
 * when it passes, the host answers the client itself and drops the late result, but the call stays
 * valid until the plugin completes it. If an operation function returns a non-zero status it must
 * not have completed the call, and the host treats the status as the call's result.
 *
 * Memory and ownership
 * --------------------
 * Inputs are borrowed: valid for the duration of the operation, that is until the call completes.
 * A plugin copies anything it keeps longer. Results are passed to call_done() in structs the plugin
 * owns (often on its stack); the host copies them before call_done() returns. Neither side frees
 * memory the other allocated, except through host->free() for memory the host documents as
 * "caller frees". Strings are esp_str: UTF-8, not necessarily NUL-terminated unless documented,
 * and may contain no NUL when they are identifiers. Secrets (OTPs, passwords, key material) are
 * wiped by the host after use; plugins should wipe their own copies with host->cleanse().
 *
 * Status codes
 * ------------
 * One list, ESP_STATUS_MAP below: 0 is success, failures are negative. Each code has a default
 * OAuth 2.0 error and eSignet error code that the client sees; the detail a plugin passes to
 * call_fail() goes only to the log. "Back-end unavailable" (ESP_EUNAVAIL) is never the same as
 * "authentication failed" (ESP_EAUTH).
 */
#ifndef ESIGNET_PLUGIN_H
#define ESIGNET_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESP_ABI_MAJOR 1
#define ESP_ABI_MINOR 1

/* Name of the one symbol a plugin exports. */
#define ESP_ENTRY_SYMBOL "esp_plugin_describe"

#if defined(__GNUC__)
#define ESP_EXPORT       __attribute__((visibility("default")))
#define ESP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ESP_EXPORT
#define ESP_PRINTF(f, a)
#endif

/*
 * True when the struct at `p` (which starts with uint32_t size) is large enough to contain
 * `member` of `type`. Use it before reading a field that a later minor version added.
 */
#define ESP_HAS(p, type, member)                                                                   \
    ((p) != NULL && (size_t)(p)->size >= offsetof(type, member) + sizeof(((type *)0)->member))

/* ------------------------------------------------------------------------------------------------
 * Status codes.
 *
 * X(name, value, message, oauth_error, esignet_error_code)
 *   oauth_error:   what an OAuth/OIDC endpoint reports (RFC 6749 §5.2, RFC 6750, OpenID4VCI §7).
 *   esignet_error: the errorCode of eSignet's JSON envelope APIs (spec esignet.md §4.8, §8).
 * Append only; never renumber.
 */
#define ESP_STATUS_MAP(X)                                                                          \
    X(OK, 0, "success", "", "")                                                                    \
    X(EINVAL, -1, "invalid argument", "invalid_request", "invalid_request")                        \
    X(ENOMEM, -2, "out of memory", "server_error", "unknown_error")                                \
    X(ENOTSUP, -3, "operation not supported", "invalid_request", "not_supported")                  \
    X(ETIMEDOUT, -4, "operation timed out", "temporarily_unavailable", "request_timeout")          \
    X(ECANCELED, -5, "operation cancelled", "temporarily_unavailable", "request_cancelled")        \
    X(EUNAVAIL, -6, "back-end unavailable", "temporarily_unavailable", "service_unavailable")      \
    X(EAGAIN, -7, "rate limited, try again later", "temporarily_unavailable", "too_many_requests") \
    X(EABI, -8, "plugin ABI mismatch", "server_error", "unknown_error")                            \
    X(ENOTFOUND, -9, "not found", "invalid_request", "not_found")                                  \
    X(EEXIST, -10, "already exists", "invalid_request", "already_exists")                          \
    X(EINTERNAL, -11, "internal error", "server_error", "unknown_error")                           \
    X(ETOOBIG, -12, "value too large", "invalid_request", "invalid_request")                       \
    X(EALREADY, -13, "call already completed", "server_error", "unknown_error")                    \
    X(ECONFIG, -14, "invalid configuration", "server_error", "unknown_error")                      \
    X(EIO, -15, "input/output error", "server_error", "unknown_error")                             \
    X(EAUTH, -1000, "authentication failed", "access_denied", "auth_failed")                       \
    X(EUNKNOWN_SUBJECT, -1001, "unknown individual", "access_denied", "invalid_individual_id")     \
    X(ECHALLENGE_EXPIRED, -1002, "challenge expired", "access_denied", "otp_expired")              \
    X(ETOO_MANY_ATTEMPTS, -1003, "too many attempts", "access_denied", "no_attempts_left")         \
    X(EBLOCKED, -1004, "individual temporarily blocked", "access_denied", "individual_id_blocked") \
    X(EFACTOR, -1005, "unsupported authentication factor", "invalid_request",                      \
      "invalid_auth_challenge")                                                                    \
    X(EFORMAT, -1006, "unsupported challenge format", "invalid_request",                           \
      "invalid_challenge_format")                                                                  \
    X(ESEND_OTP, -1007, "could not send the OTP", "temporarily_unavailable", "send_otp_failed")    \
    X(EKYC_EXCHANGE, -1008, "KYC exchange failed", "server_error", "data_exchange_failed")         \
    X(EBINDING, -1009, "key binding failed", "invalid_request", "key_binding_failed")              \
    X(EDUPLICATE_KEY, -1010, "public key already bound", "invalid_request",                        \
      "duplicate_public_key")                                                                      \
    X(EPROOF, -1011, "invalid proof of possession", "invalid_proof", "invalid_proof")              \
    X(ECREDENTIAL_TYPE, -1012, "unsupported credential type", "unsupported_credential_type",       \
      "unsupported_credential_type")                                                               \
    X(ECREDENTIAL_FORMAT, -1013, "unsupported credential format", "unsupported_credential_format", \
      "unsupported_credential_format")                                                             \
    X(ENO_CHANNEL, -1014, "no contact for the requested channel", "invalid_request",               \
      "no_email_mobile_found")                                                                     \
    X(EKEY, -1015, "signing key unavailable", "server_error", "unknown_error")

#define ESP_STATUS_ENUM_(name, value, msg, oauth, esignet) ESP_##name = value,
/* The status codes as an enum; esp_status holds one of them. */
enum esp_status_code { ESP_STATUS_MAP(ESP_STATUS_ENUM_) };
#undef ESP_STATUS_ENUM_

/* 0 on success, a negative ESP_E* code on failure. */
typedef int esp_status;

/* ------------------------------------------------------------------------------------------------
 * Basic types.
 */

/*
 * A string or byte range. Borrowed unless documented otherwise. `ptr` may be NULL only when
 * `len` is 0. Text is UTF-8.
 */
typedef struct esp_str {
    const char *ptr;
    size_t len;
} esp_str;

/* Helpers for building esp_str values; they do not copy. */
#define ESP_STR_NULL   ((esp_str){NULL, 0})
#define ESP_STR_LIT(s) ((esp_str){(s), sizeof(s) - 1})

/* Opaque handles, all owned by the host. */
typedef struct esp_plugin esp_plugin;     /* one loaded .so, valid from init() to fini() */
typedef struct esp_instance esp_instance; /* one configured instance, valid from create() to
                                             destroy() */
typedef struct esp_call esp_call;         /* one asynchronous operation, valid until completed */
typedef struct esp_value esp_value;       /* read-only JSON-like value (configuration, requests) */
typedef struct esp_timer esp_timer;       /* a timer started with host->timer_start() */

/* Log levels for host->log(). */
enum esp_log_level {
    ESP_LOG_ERROR = 0,
    ESP_LOG_WARN = 1,
    ESP_LOG_INFO = 2,
    ESP_LOG_DEBUG = 3,
};

/* Types of an esp_value. */
enum esp_value_type {
    ESP_VALUE_NULL = 0,
    ESP_VALUE_BOOL = 1,
    ESP_VALUE_INT = 2,
    ESP_VALUE_REAL = 3,
    ESP_VALUE_STRING = 4,
    ESP_VALUE_LIST = 5,
    ESP_VALUE_MAP = 6,
};

/* ------------------------------------------------------------------------------------------------
 * Configuration options a capability declares.
 *
 * The host validates each instance's YAML subtree against these declarations before create():
 * unknown keys, wrong types, out-of-range values and missing required keys are errors that name
 * the file, line and column. Defaults are filled in, so create() sees a complete tree. Durations
 * arrive as integers in milliseconds and sizes as integers in bytes.
 *
 * An option array ends with an entry whose `key` is NULL. The host walks an array with the stride
 * of its first element's `size`, so arrays built against a later minor still load.
 */
enum esp_option_type {
    ESP_OPT_STRING = 1,   /* UTF-8 text; min/max bound its length in bytes */
    ESP_OPT_INT = 2,      /* 64-bit integer; min/max bound it */
    ESP_OPT_BOOL = 3,     /* true/false */
    ESP_OPT_DURATION = 4, /* "250ms", "30s", "5m", "2h", "7d" or plain seconds; delivered in ms */
    ESP_OPT_SIZE = 5,     /* "512", "16k", "1M" (powers of 1024); delivered in bytes */
    ESP_OPT_ENUM = 6,     /* one of `choices` */
    ESP_OPT_LIST = 7,     /* a sequence of `item_type` (with `children` when items are objects) */
    ESP_OPT_OBJECT = 8,   /* a mapping whose keys are declared in `children` */
    ESP_OPT_MAP = 9,      /* a mapping with free keys and values of `item_type` */
    ESP_OPT_ANY = 10,     /* any YAML subtree; the plugin validates it itself in create() */
    ESP_OPT_PATH = 11,    /* a file system path; relative paths are resolved against the config
                             file's directory */
    ESP_OPT_URL = 12,     /* an absolute http or https URL */
};

enum esp_option_flags {
    ESP_OPT_REQUIRED = 1u << 0, /* must be present (a default makes no sense then) */
    ESP_OPT_SECRET = 1u << 1,   /* never printed: redacted in logs, errors and --check-config */
};

typedef struct esp_option {
    uint32_t size;              /* sizeof(esp_option) */
    const char *key;            /* YAML key; NULL ends the array */
    uint32_t type;              /* enum esp_option_type */
    uint32_t flags;             /* enum esp_option_flags */
    const char *default_text;   /* YAML text used when the key is absent; NULL for none */
    const char *help;           /* one sentence for the docs and --list-plugins */
    int64_t min;                /* lower bound (length for strings, count for lists); see max */
    int64_t max;                /* upper bound; min == max == 0 means unbounded */
    const char *const *choices; /* ESP_OPT_ENUM, or a LIST or MAP whose item_type is
                                   ESP_OPT_ENUM: NULL-terminated list of allowed values */
    uint32_t item_type;         /* ESP_OPT_LIST / ESP_OPT_MAP: type of each item */
    const struct esp_option *children; /* ESP_OPT_OBJECT, or items of type ESP_OPT_OBJECT */
} esp_option;

/* ------------------------------------------------------------------------------------------------
 * Capabilities and the plugin descriptor.
 */

/* Capability kinds. Append only. */
enum esp_kind {
    ESP_KIND_IDENTITY_BACKEND = 1,  /* KYC auth, KYC exchange, send OTP (eSignet Authenticator) */
    ESP_KIND_AUTHENTICATOR = 2,     /* verifies one or more factors: OTP, PWD, KBI, BIO, WLA, ... */
    ESP_KIND_KEY_BINDER = 3,        /* wallet binding: certifies a wallet's public key */
    ESP_KIND_KEY_STORE = 4,         /* holds private keys; signs and decrypts on request */
    ESP_KIND_CREDENTIAL_FORMAT = 5, /* builds and signs one verifiable credential format */
    ESP_KIND_CREDENTIAL_DATA = 6,   /* supplies the claims of a credential just in time */
    ESP_KIND_AUDIT_SINK = 7,        /* receives audit events */
    ESP_KIND_OTP_NOTIFIER = 8,      /* delivers a one-time password by e-mail, SMS, ... */
    ESP_KIND_STORAGE = 9,           /* TTL key-value store and/or persistent records */
};

enum esp_capability_flags {
    /* Operation functions may block: the host runs them on its plugin worker pool. */
    ESP_CAP_BLOCKING = 1u << 0,
};

/*
 * One capability a plugin offers. `vtable` points to the kind's table (esp_identity_backend_v1,
 * ...), which starts with the fields of esp_vtable_common.
 */
typedef struct esp_capability {
    uint32_t size;             /* sizeof(esp_capability) */
    uint32_t kind;             /* enum esp_kind */
    uint32_t kind_version;     /* version of the kind's vtable the plugin implements (1) */
    uint32_t flags;            /* enum esp_capability_flags */
    const char *type;          /* name deployers write as `type:` in YAML, e.g. "file", "sqlite";
                                  [a-z0-9_-]{1,64}, unique per kind within the plugin */
    const char *description;   /* one sentence */
    const esp_option *options; /* accepted configuration; NULL when it takes none */
    const void *vtable;        /* kind-specific table; static storage */
} esp_capability;

struct esp_host;

/*
 * What esp_plugin_describe() returns. Static storage; the host never frees or modifies it.
 */
typedef struct esp_plugin_desc {
    uint32_t size;       /* sizeof(esp_plugin_desc) */
    uint16_t abi_major;  /* ESP_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;  /* ESP_ABI_MINOR the plugin was built with */
    const char *name;    /* plugin name, [a-z0-9_-]{1,64} */
    const char *version; /* the plugin's own version text */
    const char *description;
    const esp_capability *const *capabilities; /* NULL-terminated */

    /*
     * [init] Optional. Called once after the plugin is accepted, before any create(). `host` and
     * `self` stay valid until fini() returns. `*state` is passed back to create() and fini().
     * Returns 0, or a status that makes the server refuse to start (with the detail logged).
     */
    esp_status (*init)(const struct esp_host *host, esp_plugin *self, void **state);

    /* [init] Optional. Called once after every instance was destroyed. */
    void (*fini)(void *state);
} esp_plugin_desc;

/*
 * The one exported symbol. Must have no side effects and return the same static descriptor on
 * every call. Declare it in your plugin as:
 *     ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void) { return &my_desc; }
 */
typedef const esp_plugin_desc *(*esp_describe_fn)(void);

/*
 * Every kind's vtable starts with these fields.
 *
 * create: [init] Creates one instance from `config`, the instance's validated options (borrowed,
 *   valid until destroy()). `self` identifies the instance to host services; keep it. `state` is
 *   what init() returned (NULL without init). Sets `*inst` to the plugin's instance data. Returns
 * 0, or a status (ESP_ECONFIG for options the declarations could not express) that makes the server
 *   refuse to start; log the detail with host->log().
 * destroy: [init] Frees an instance. Every call on it has completed before destroy() runs.
 */
typedef struct esp_vtable_common {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);
} esp_vtable_common;

/* ------------------------------------------------------------------------------------------------
 * Kind 1: identity backend (eSignet's Authenticator SPI, spec esignet.md §8.1).
 */

/*
 * One authentication challenge as the user submitted it.
 * `factor`: "OTP", "PIN", "PWD", "KBI", "BIO", "WLA" or a deployment-specific name.
 * `format`: "alpha-numeric", "number", "encoded-json", "base64url-encoded-json", "jwt", ...
 * `value`:  the challenge itself; a secret the host wipes after the call.
 * `verified`: non-zero when an authenticator instance already verified this challenge; the backend
 *   must then not check `value` (it is empty) and only needs to know the factor was used.
 */
typedef struct esp_challenge {
    uint32_t size;
    esp_str factor;
    esp_str format;
    esp_str value;
    uint32_t verified;
} esp_challenge;

/* Input of kyc_auth. Every member is borrowed for the duration of the call. */
typedef struct esp_kyc_auth_request {
    uint32_t size;
    esp_str client_id;
    esp_str relying_party_id;
    esp_str transaction_id; /* the short authentication transaction id (esignet.md §1.6) */
    esp_str individual_id;
    const esp_challenge *const *challenges;
    size_t n_challenges;
    uint32_t claims_metadata_required; /* non-zero when verified claims were requested */
} esp_kyc_auth_request;

/* Result of kyc_auth. Copied by the host. */
typedef struct esp_kyc_auth_result {
    uint32_t size;
    esp_str kyc_token;            /* opaque handle for kyc_exchange; required */
    esp_str subject;              /* partner-specific user token (pairwise `sub`); required */
    esp_str claims_metadata_json; /* optional JSON object: claim -> list of verification objects */
} esp_kyc_auth_result;

/* Input of kyc_exchange. */
typedef struct esp_kyc_exchange_request {
    uint32_t size;
    esp_str client_id;
    esp_str relying_party_id;
    esp_str transaction_id;
    esp_str individual_id;
    esp_str kyc_token;
    const esp_str *accepted_claims; /* claim names the user consented to */
    size_t n_accepted_claims;
    const esp_str *claims_locales; /* preferred languages, BCP 47 or ISO 639-3, most wanted first */
    size_t n_claims_locales;
    esp_str claim_details_json; /* JSON object: claim -> request detail (OIDC claims parameter),
                                   including `verified_claims`; empty when none */
} esp_kyc_exchange_request;

/*
 * Result of kyc_exchange: either `claims_json` (a JSON object of claim -> value, localised values
 * as "name#lang"; the host signs or encrypts it for the relying party) or `signed_kyc` (a JWS or
 * JWE the identity system made itself, passed to the relying party unchanged).
 */
typedef struct esp_kyc_exchange_result {
    uint32_t size;
    esp_str claims_json;
    esp_str signed_kyc;
} esp_kyc_exchange_result;

/* Input of send_otp (and of key binder send_binding_otp). */
typedef struct esp_send_otp_request {
    uint32_t size;
    esp_str client_id;
    esp_str relying_party_id;
    esp_str transaction_id;
    esp_str individual_id;
    const esp_str *channels; /* "email", "phone", ... */
    size_t n_channels;
} esp_send_otp_request;

/* Result of an OTP dispatch: where it went, masked for display ("j***@e***.com", "******4321"). */
typedef struct esp_send_otp_result {
    uint32_t size;
    esp_str masked_email;
    esp_str masked_mobile;
} esp_send_otp_result;

/* Input of lookup. */
typedef struct esp_lookup_request {
    uint32_t size;
    esp_str individual_id;
} esp_lookup_request;

/* Result of lookup: contact points and preferences of an individual; absent ones empty. */
typedef struct esp_lookup_result {
    uint32_t size;
    esp_str email;
    esp_str phone;
    esp_str locale;
} esp_lookup_result;

/* Result of signing_keys: a JWKS the identity system signs KYC with, merged into our JWKS. */
typedef struct esp_jwks_result {
    uint32_t size;
    esp_str jwks_json;
} esp_jwks_result;

typedef struct esp_identity_backend_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * [loop] Mandatory. Authenticates the individual with every challenge (all must pass) and
     * returns a KYC token. Completes with esp_kyc_auth_result, or fails with ESP_EAUTH (wrong
     * challenge), ESP_EUNKNOWN_SUBJECT, ESP_EFACTOR, ESP_EFORMAT, ESP_ECHALLENGE_EXPIRED,
     * ESP_EUNAVAIL (identity system down).
     */
    esp_status (*kyc_auth)(void *inst, const esp_kyc_auth_request *req, esp_call *call);

    /*
     * [loop] Mandatory. Exchanges a KYC token for the accepted claims, once per authorization
     * code. Completes with esp_kyc_exchange_result, or fails with ESP_EKYC_EXCHANGE (token
     * unknown, used or expired) or ESP_EUNAVAIL.
     */
    esp_status (*kyc_exchange)(void *inst, const esp_kyc_exchange_request *req, esp_call *call);

    /*
     * [loop] Optional. For identity systems that deliver OTPs themselves and verify them in
     * kyc_auth. Completes with esp_send_otp_result, or fails with ESP_ENO_CHANNEL, ESP_ESEND_OTP,
     * ESP_EUNKNOWN_SUBJECT or ESP_EUNAVAIL. When NULL the host's OTP authenticator handles OTPs.
     */
    esp_status (*send_otp)(void *inst, const esp_send_otp_request *req, esp_call *call);

    /*
     * [loop] Optional. Returns contact points so that an authenticator can deliver a challenge.
     * Completes with esp_lookup_result or fails with ESP_EUNKNOWN_SUBJECT or ESP_EUNAVAIL.
     */
    esp_status (*lookup)(void *inst, const esp_lookup_request *req, esp_call *call);

    /*
     * [loop] Optional. Public keys the identity system signs `signed_kyc` with. Completes with
     * esp_jwks_result.
     */
    esp_status (*signing_keys)(void *inst, esp_call *call);
} esp_identity_backend_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 2: authenticator. Verifies one or more factors itself (an OTP it generated, a biometric
 * capture signed by a device, a wallet's local-authentication token) so that the identity backend
 * only needs to be told that the factor was used.
 */

/* Input of send_challenge. */
typedef struct esp_challenge_request {
    uint32_t size;
    esp_str client_id;
    esp_str client_name;
    esp_str transaction_id;
    esp_str individual_id;
    const esp_str *channels;
    size_t n_channels;
    esp_str email;  /* from the identity backend's lookup, empty when unknown */
    esp_str phone;  /* idem */
    esp_str locale; /* language the user sees, for the message */
} esp_challenge_request;

/* Input of verify. */
typedef struct esp_verify_request {
    uint32_t size;
    esp_str client_id;
    esp_str transaction_id;      /* the login transaction id */
    esp_str auth_transaction_id; /* the short id bound into device captures (esignet.md §1.6) */
    esp_str individual_id;
    esp_str origin; /* web origin of the login page, for device-bound captures */
    const esp_challenge *challenge;
} esp_verify_request;

typedef struct esp_authenticator_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * [loop] Mandatory. The factor types this instance verifies, e.g. {"OTP", NULL}. The array is
     * owned by the plugin and valid until destroy().
     */
    const char *const *(*factors)(void *inst);

    /*
     * [loop] Optional. Issues a challenge (sends an OTP). Completes with esp_send_otp_result, or
     * fails with ESP_ENO_CHANNEL, ESP_ESEND_OTP, ESP_EAGAIN (resend too early) or ESP_EBLOCKED.
     */
    esp_status (*send_challenge)(void *inst, const esp_challenge_request *req, esp_call *call);

    /*
     * [loop] Mandatory. Verifies one challenge. Completes with no result (call_done(call, NULL)),
     * or fails with ESP_EAUTH, ESP_ECHALLENGE_EXPIRED, ESP_ETOO_MANY_ATTEMPTS, ESP_EFORMAT,
     * ESP_EUNAVAIL.
     */
    esp_status (*verify)(void *inst, const esp_verify_request *req, esp_call *call);
} esp_authenticator_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 3: key binder (eSignet's KeyBinder SPI, esignet.md §8.2): wallet binding.
 */

typedef struct esp_bind_key_request {
    uint32_t size;
    esp_str individual_id;
    const esp_challenge *const *challenges;
    size_t n_challenges;
    esp_str public_key_jwk_json; /* the wallet's public key, a JWK object */
    esp_str auth_factor_type;    /* the factor being bound, e.g. "WLA" */
    esp_str headers_json; /* the request's HTTP headers as a JSON object (lower-case names) */
} esp_bind_key_request;

typedef struct esp_bind_key_result {
    uint32_t size;
    esp_str certificate_pem; /* X.509 certificate over the wallet key, issued by the binder */
    esp_str subject;         /* partner-specific user token */
} esp_bind_key_result;

typedef struct esp_key_binder_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * [loop] Mandatory. Challenge formats accepted for a factor (e.g. "OTP" -> {"alpha-numeric",
     * NULL}); NULL or an empty list when the factor cannot be used for binding. The array is owned
     * by the plugin and valid until destroy().
     */
    const char *const *(*challenge_formats)(void *inst, esp_str factor);

    /* [loop] Optional. Sends a binding OTP. Result and failures as identity send_otp. */
    esp_status (*send_binding_otp)(void *inst, const esp_send_otp_request *req, esp_call *call);

    /*
     * [loop] Mandatory. Authenticates the individual with the challenges and certifies the key.
     * Completes with esp_bind_key_result, or fails with ESP_EAUTH, ESP_EBINDING, ESP_EFACTOR,
     * ESP_EUNAVAIL.
     */
    esp_status (*bind_key)(void *inst, const esp_bind_key_request *req, esp_call *call);
} esp_key_binder_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 4: key store. Private keys never leave it: everything else asks it to sign or decrypt.
 */

enum esp_key_state {
    ESP_KEY_ACTIVE = 1,  /* used for new signatures */
    ESP_KEY_RETIRED = 2, /* kept in the JWKS so that earlier signatures still verify */
    ESP_KEY_NEXT = 3,    /* published in the JWKS ahead of use, so that relying parties have it
                            before the first signature; not signing yet */
};

/* Public description of one key. */
typedef struct esp_key_info {
    uint32_t size;
    esp_str kid;
    esp_str alg; /* JWS/JWE algorithm the key is for: "RS256", "ES256", "RSA-OAEP-256" */
    esp_str use; /* "sig" or "enc" */
    esp_str public_jwk_json; /* public JWK (kty and key members; may include x5c) */
    int64_t created_at;      /* seconds since the epoch */
    int64_t expires_at;      /* when it may leave the JWKS; 0 for never */
    uint32_t state;          /* enum esp_key_state */
} esp_key_info;

/* Result of keys: every key the store holds, active and retired. */
typedef struct esp_keys_result {
    uint32_t size;
    const esp_key_info *const *keys;
    size_t n_keys;
} esp_keys_result;

typedef struct esp_sign_request {
    uint32_t size;
    esp_str kid;  /* key to use; empty for the current active key of `alg` */
    esp_str alg;  /* JWS algorithm */
    esp_str data; /* the JWS signing input */
} esp_sign_request;

/* Result of sign: the signature in JWS encoding (raw R||S for ECDSA), and the key used. */
typedef struct esp_sign_result {
    uint32_t size;
    esp_str kid;
    esp_str signature;
} esp_sign_result;

typedef struct esp_decrypt_request {
    uint32_t size;
    esp_str kid;
    esp_str alg;        /* "RSA-OAEP-256", "RSA-OAEP" */
    esp_str ciphertext; /* e.g. a JWE encrypted key */
} esp_decrypt_request;

/* Result of decrypt: a secret, wiped by the host after use. */
typedef struct esp_decrypt_result {
    uint32_t size;
    esp_str plaintext;
} esp_decrypt_result;

typedef struct esp_rotate_request {
    uint32_t size;
    esp_str alg; /* rotate the key of this algorithm; empty for every algorithm */
} esp_rotate_request;

typedef struct esp_key_store_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /* [loop] Mandatory. Lists the keys. Completes with esp_keys_result. */
    esp_status (*keys)(void *inst, esp_call *call);

    /*
     * [loop] Mandatory. Signs. Completes with esp_sign_result, or fails with ESP_ENOTFOUND (no key
     * for that kid or alg), ESP_EKEY or ESP_EUNAVAIL (HSM unreachable).
     */
    esp_status (*sign)(void *inst, const esp_sign_request *req, esp_call *call);

    /* [loop] Optional. Decrypts with an "enc" key. Completes with esp_decrypt_result. */
    esp_status (*decrypt)(void *inst, const esp_decrypt_request *req, esp_call *call);

    /*
     * [loop] Optional. Adds a new active key and retires the previous one, which stays listed
     * until tokens it signed have expired. Completes with no result.
     */
    esp_status (*rotate)(void *inst, const esp_rotate_request *req, esp_call *call);
} esp_key_store_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 5: credential format (OpenID4VCI Draft 13 §E: jwt_vc_json, ldp_vc, vc+sd-jwt, mso_mdoc).
 * One instance is one credential configuration offered in the issuer metadata.
 */

typedef struct esp_issue_request {
    uint32_t size;
    esp_str configuration_id; /* key in credential_configurations_supported */
    esp_str issuer;           /* Credential Issuer Identifier */
    esp_str request_json;     /* the credential request object (format parameters included) */
    esp_str holder_jwk_json;  /* key proven by the wallet's proof, a public JWK; may be empty */
    esp_str holder_id;        /* holder identifier, e.g. "did:jwk:..."; may be empty */
    esp_str claims_json;      /* subject claims from the credential data instance */
    int64_t issued_at;        /* seconds since the epoch */
    int64_t expires_at;       /* seconds since the epoch; 0 for none */
} esp_issue_request;

/* Result of issue: the credential as a string (JWT, SD-JWT, base64url CBOR) or a JSON object. */
typedef struct esp_issue_result {
    uint32_t size;
    esp_str credential;
    uint32_t is_json; /* non-zero when `credential` is a JSON object to embed unquoted */
} esp_issue_result;

/* Result of metadata. */
typedef struct esp_metadata_result {
    uint32_t size;
    esp_str
        configuration_json; /* this configuration's entry in credential_configurations_supported */
} esp_metadata_result;

typedef struct esp_credential_format_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /* [loop] Mandatory. The format identifier, e.g. "vc+sd-jwt". Static storage. */
    const char *(*format)(void *inst);

    /* [loop] Mandatory. Metadata entry. Completes with esp_metadata_result. */
    esp_status (*metadata)(void *inst, esp_call *call);

    /*
     * [loop] Mandatory. Builds and signs one credential (sign through host->key_sign). Completes
     * with esp_issue_result, or fails with ESP_ECREDENTIAL_TYPE, ESP_EPROOF (holder key not usable
     * for this format), ESP_EKEY.
     */
    esp_status (*issue)(void *inst, const esp_issue_request *req, esp_call *call);
} esp_credential_format_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 6: credential data. Supplies a credential's claims at issuance time.
 */

typedef struct esp_credential_data_request {
    uint32_t size;
    esp_str configuration_id;
    esp_str scope;
    esp_str subject; /* `sub` of the access token */
    esp_str client_id;
    esp_str token_claims_json; /* every claim of the (verified) access token */
} esp_credential_data_request;

typedef struct esp_credential_data_result {
    uint32_t size;
    esp_str claims_json; /* JSON object of credential subject claims */
} esp_credential_data_result;

typedef struct esp_credential_data_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * [loop] Mandatory. Completes with esp_credential_data_result, or fails with
     * ESP_EUNKNOWN_SUBJECT, ESP_ECREDENTIAL_TYPE or ESP_EUNAVAIL.
     */
    esp_status (*fetch)(void *inst, const esp_credential_data_request *req, esp_call *call);
} esp_credential_data_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 7: audit sink.
 */

enum esp_audit_outcome {
    ESP_AUDIT_SUCCESS = 1,
    ESP_AUDIT_ERROR = 2,
};

/* One audit event. Borrowed for the duration of emit(). Never contains secrets or tokens. */
typedef struct esp_audit_event {
    uint32_t size;
    esp_str action;   /* eSignet action name, e.g. "GENERATE_TOKEN" (esignet.md §8.4) */
    uint32_t outcome; /* enum esp_audit_outcome */
    int64_t time_ms;  /* wall clock, milliseconds since the epoch */
    esp_str request_id;
    esp_str transaction_id;
    esp_str client_id;
    esp_str subject;     /* pairwise subject when known */
    esp_str error;       /* error code on failure */
    esp_str detail_json; /* further non-secret fields as a JSON object; may be empty */
} esp_audit_event;

typedef struct esp_audit_sink_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * [loop] Mandatory. Records an event. Must not block: queue the event and write it elsewhere
     * if writing is slow.
     */
    void (*emit)(void *inst, const esp_audit_event *event);
} esp_audit_sink_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 8: OTP notifier.
 */

typedef struct esp_notify_request {
    uint32_t size;
    esp_str channel;     /* "email", "phone", ... */
    esp_str destination; /* e-mail address or phone number */
    esp_str otp;         /* secret; wiped by the host after the call */
    int64_t expires_in;  /* seconds the OTP stays valid */
    esp_str locale;      /* language of the message */
    esp_str client_name; /* relying party the user is signing in to */
} esp_notify_request;

typedef struct esp_otp_notifier_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /* [loop] Mandatory. The channels this instance delivers to, e.g. {"email", NULL}. */
    const char *const *(*channels)(void *inst);

    /*
     * [loop] Mandatory. Delivers one OTP. Completes with no result, or fails with ESP_ESEND_OTP or
     * ESP_EUNAVAIL.
     */
    esp_status (*send)(void *inst, const esp_notify_request *req, esp_call *call);
} esp_otp_notifier_v1;

/* ------------------------------------------------------------------------------------------------
 * Kind 9: storage.
 *
 * Two families, either or both per capability:
 *   - key-value entries with a time to live, for in-flight state (transactions, codes, nonces,
 *     replay sets, counters). Single use is atomic: kv_take returns a value to exactly one caller
 *     even across server instances, and kv_put with ESP_KV_NX succeeds for exactly one caller.
 *   - records: persistent JSON documents in collections (clients, consents, bindings), with a
 *     primary key and optional secondary index values, some of them unique.
 * Storage plugins accept namespaces and collections of [a-z0-9_:.-]{1,ESP_NS_MAX} and keys of at
 * most ESP_KEY_MAX bytes. Plugins that use storage through host->kv() and host->rec() name their
 * namespaces [a-z0-9_.-]{1,64}; the host prefixes them with "<instance name>:".
 */
#define ESP_NS_MAX  160
#define ESP_KEY_MAX 512

enum esp_kv_mode {
    ESP_KV_SET = 0, /* create or replace */
    ESP_KV_NX = 1,  /* create only; fails with ESP_EEXIST when present */
    ESP_KV_XX = 2,  /* replace only, keeping no TTL of the old entry; ESP_ENOTFOUND when absent */
};

typedef struct esp_kv_request {
    uint32_t size;
    esp_str ns;
    esp_str key;
    esp_str value;  /* kv_put */
    int64_t ttl_ms; /* kv_put, kv_incr (when the counter is created): > 0 */
    uint32_t mode;  /* kv_put: enum esp_kv_mode */
    int64_t delta;  /* kv_incr */
} esp_kv_request;

typedef struct esp_kv_result {
    uint32_t size;
    esp_str value;  /* kv_get, kv_take */
    int64_t ttl_ms; /* remaining time to live */
    int64_t count;  /* kv_incr: the value after the increment */
} esp_kv_result;

enum esp_rec_mode {
    ESP_REC_INSERT = 0, /* fails with ESP_EEXIST when the key exists */
    ESP_REC_UPSERT = 1,
    ESP_REC_UPDATE = 2, /* fails with ESP_ENOTFOUND when the key does not exist */
};

/* A secondary index value of a record. */
typedef struct esp_rec_index {
    uint32_t size;
    esp_str name; /* index name, [a-z0-9_]{1,64} */
    esp_str value;
    uint32_t unique; /* non-zero: no other record of the collection has this name/value */
} esp_rec_index;

typedef struct esp_rec_request {
    uint32_t size;
    esp_str collection;
    esp_str key;                         /* rec_put, rec_get, rec_del */
    esp_str doc_json;                    /* rec_put: a JSON object */
    uint32_t mode;                       /* rec_put: enum esp_rec_mode */
    const esp_rec_index *const *indexes; /* rec_put: replaces the record's index values */
    size_t n_indexes;
    esp_str index_name;  /* rec_find */
    esp_str index_value; /* rec_find */
    int64_t expires_at;  /* rec_put: seconds since the epoch, 0 for never */
} esp_rec_request;

/* One record as returned by rec_get and rec_find. */
typedef struct esp_record {
    uint32_t size;
    esp_str key;
    esp_str doc_json;
    int64_t created_at; /* seconds since the epoch */
    int64_t updated_at;
    int64_t expires_at;
} esp_record;

typedef struct esp_rec_result {
    uint32_t size;
    const esp_record *const *records; /* rec_get: one; rec_find: zero or more */
    size_t n_records;
} esp_rec_result;

typedef struct esp_storage_v1 {
    uint32_t size;
    esp_status (*create)(const struct esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **inst);
    void (*destroy)(void *inst);

    /*
     * Key-value family: all five are set, or all five are NULL. [loop]. Each completes with
     * esp_kv_result (kv_put and kv_del with none), or fails with ESP_ENOTFOUND (absent or
     * expired), ESP_EEXIST (kv_put NX), ESP_ETOOBIG, ESP_EUNAVAIL.
     */
    esp_status (*kv_put)(void *inst, const esp_kv_request *req, esp_call *call);
    esp_status (*kv_get)(void *inst, const esp_kv_request *req, esp_call *call);
    esp_status (*kv_take)(void *inst, const esp_kv_request *req, esp_call *call);
    esp_status (*kv_del)(void *inst, const esp_kv_request *req, esp_call *call);
    esp_status (*kv_incr)(void *inst, const esp_kv_request *req, esp_call *call);

    /*
     * Record family: all four are set, or all four are NULL. [loop]. rec_get and rec_find
     * complete with esp_rec_result; rec_put and rec_del with none. Failures: ESP_ENOTFOUND,
     * ESP_EEXIST (key or unique index taken), ESP_EUNAVAIL, ESP_EIO.
     */
    esp_status (*rec_put)(void *inst, const esp_rec_request *req, esp_call *call);
    esp_status (*rec_get)(void *inst, const esp_rec_request *req, esp_call *call);
    esp_status (*rec_find)(void *inst, const esp_rec_request *req, esp_call *call);
    esp_status (*rec_del)(void *inst, const esp_rec_request *req, esp_call *call);

    /* [any] Optional. Number of live entries, for metrics; -1 when unknown. Must not block. */
    int64_t (*count)(void *inst);
} esp_storage_v1;

/* ------------------------------------------------------------------------------------------------
 * Host services.
 */

/*
 * Completion of a host service a plugin called. `result` is the service's result struct (as for
 * the matching plugin operation, e.g. esp_kv_result for kv_get), borrowed for the duration of the
 * callback; NULL on failure and for services without a result. Runs on a loop thread. If the
 * service function returned a non-zero status, the callback never runs.
 */
typedef void (*esp_done_cb)(void *ud, esp_status status, const void *result);

/* Work for host->submit_blocking(): runs on a worker thread. */
typedef void (*esp_work_fn)(void *ud);

/* Timer callback: runs on a loop thread. */
typedef void (*esp_timer_cb)(void *ud);

typedef struct esp_host {
    uint32_t size;      /* sizeof(esp_host) of the running host */
    uint16_t abi_major; /* ESP_ABI_MAJOR of the running host */
    uint16_t abi_minor; /* ESP_ABI_MINOR of the running host */

    /* -- memory [any] -------------------------------------------------------------------------- */

    /* Allocates; NULL on failure. Free with host->free(). */
    void *(*alloc)(size_t n);
    /* Frees memory from host->alloc() or documented "caller frees" results; NULL is ignored. */
    void (*free)(void *p);
    /* Overwrites `n` bytes at `p` with zeros in a way the compiler cannot optimise away. */
    void (*cleanse)(void *p, size_t n);

    /* -- logging and status [any] ----------------------------------------------------------- */

    /*
     * Writes one log line tagged with the plugin and instance. `self` is the instance, or NULL for
     * messages from init()/fini(). Never pass secrets, tokens or OTPs.
     */
    void (*log)(const esp_instance *self, int level, const char *fmt, ...) ESP_PRINTF(3, 4);
    /* Static text of a status code, e.g. "authentication failed". */
    const char *(*strerror)(esp_status status);
    /* Static name of a status code, e.g. "ESP_EAUTH". */
    const char *(*err_name)(esp_status status);

    /* -- values [any] ------------------------------------------------------------------------ */

    /* Type of `v` (enum esp_value_type); ESP_VALUE_NULL for NULL. */
    int (*value_type)(const esp_value *v);
    /* Member `key` of a map; NULL when absent or `map` is not a map. Borrowed from `map`. */
    const esp_value *(*value_get)(const esp_value *map, const char *key);
    /* Number of items of a list or map; 0 otherwise. */
    size_t (*value_count)(const esp_value *v);
    /*
     * Item `i` of a list, or member `i` of a map in document order (its key in `*key` when `key`
     * is not NULL). NULL when out of range. Borrowed.
     */
    const esp_value *(*value_at)(const esp_value *v, size_t i, esp_str *key);
    /* String value, NUL-terminated; ESP_STR_NULL when `v` is not a string. Borrowed. */
    esp_str (*value_str)(const esp_value *v);
    /* Integer value, or `dflt` when `v` is not an integer (durations in ms, sizes in bytes). */
    int64_t (*value_int)(const esp_value *v, int64_t dflt);
    /* Boolean value, or `dflt` when `v` is not a boolean. */
    int (*value_bool)(const esp_value *v, int dflt);
    /*
     * Serialises `v` as compact JSON into memory the caller frees with host->free(); sets *out.
     * Returns 0 or ESP_ENOMEM.
     */
    esp_status (*value_json)(const esp_value *v, esp_str *out);

    /* -- calls [any] ------------------------------------------------------------------------- */

    /*
     * Completes `call` successfully. `result` is the operation's result struct or NULL; the host
     * copies it before returning. Returns 0, ESP_ECANCELED when the deadline had passed (the result
     * was dropped; the call is still released), ESP_EALREADY when the call was already completed
     * (a plugin bug, logged), or ESP_EINVAL when a mandatory result member is missing (the call
     * then fails with ESP_EINTERNAL). After it returns the call must not be touched.
     */
    esp_status (*call_done)(esp_call *call, const void *result);
    /*
     * Completes `call` with a failure. `status` is negative. `error_code` is optional (NULL or
     * [a-z0-9_.-]{1,64}): an eSignet error code reported to the client instead of the status'
     * default, as eSignet passes plugin codes through. `fmt` is detail for the log only. Returns
     * as call_done().
     */
    esp_status (*call_fail)(esp_call *call, esp_status status, const char *error_code,
                            const char *fmt, ...) ESP_PRINTF(4, 5);
    /* Milliseconds left before the call's deadline; 0 once it has passed. */
    int64_t (*call_remaining_ms)(const esp_call *call);
    /* Non-zero once the host no longer waits for the result (deadline or client gone). */
    int (*call_cancelled)(const esp_call *call);

    /* -- clock and randomness [any] ---------------------------------------------------------- */

    /* Monotonic milliseconds. */
    int64_t (*now_ms)(void);
    /* Wall-clock milliseconds since the epoch. */
    int64_t (*wall_ms)(void);
    /* Fills `buf` from the CSPRNG. Returns 0 or ESP_EINTERNAL. */
    esp_status (*random)(void *buf, size_t n);

    /* -- keys [loop] ------------------------------------------------------------------------- */

    /*
     * Signs `req->data` with key store instance `keystore` (empty: the default key store). The
     * callback receives esp_sign_result. Returns 0 or ESP_ENOTFOUND (no such key store).
     */
    esp_status (*key_sign)(esp_instance *self, esp_str keystore, const esp_sign_request *req,
                           esp_done_cb cb, void *ud);
    /* Public keys of a key store; the callback receives esp_keys_result. */
    esp_status (*key_list)(esp_instance *self, esp_str keystore, esp_done_cb cb, void *ud);

    /* -- storage [loop] ---------------------------------------------------------------------- */

    /*
     * The in-flight key-value store, with `req->ns` ([a-z0-9_.-]{1,64}) prefixed by the calling
     * instance's name so that plugins cannot see each other's entries. `op` is 0 put, 1 get,
     * 2 take, 3 del, 4 incr (enum esp_kv_op). The callback receives esp_kv_result. Returns 0,
     * ESP_EINVAL, ESP_ETOOBIG or ESP_EUNAVAIL (no store configured).
     */
    esp_status (*kv)(esp_instance *self, int op, const esp_kv_request *req, esp_done_cb cb,
                     void *ud);
    /*
     * The persistent record store, collections prefixed like kv(). `op` is 0 put, 1 get, 2 find,
     * 3 del (enum esp_rec_op). The callback receives esp_rec_result for get and find.
     */
    esp_status (*rec)(esp_instance *self, int op, const esp_rec_request *req, esp_done_cb cb,
                      void *ud);

    /* -- timers and blocking work ------------------------------------------------------------ */

    /*
     * [loop] Calls `cb(ud)` once after `ms` milliseconds on the current loop thread. Sets *timer
     * (may be NULL when the caller never stops it). Returns 0 or ESP_ENOMEM.
     */
    esp_status (*timer_start)(esp_instance *self, int64_t ms, esp_timer_cb cb, void *ud,
                              esp_timer **timer);
    /*
     * [loop] Stops a timer that has not fired yet, on the loop thread that started it; the
     * callback will not run. A fired or stopped timer must not be passed again. When the server
     * stops, timers still pending are stopped by the host and their callbacks never run.
     */
    void (*timer_stop)(esp_timer *timer);
    /*
     * [loop] Runs `work(ud)` on the plugin worker pool, then `done(ud)` on the calling loop thread.
     * Returns 0 or ESP_ENOMEM; on failure neither function runs.
     */
    esp_status (*submit_blocking)(esp_instance *self, esp_work_fn work, esp_timer_cb done,
                                  void *ud);

    /* -- ABI 1.1 -------------------------------------------------------------------------- */

    /*
     * [loop] Delivers an OTP through the first configured OTP notifier instance that serves
     * `req->channel`. The callback receives no result; failures are ESP_ESEND_OTP or
     * ESP_EUNAVAIL. Returns 0, ESP_ENO_CHANNEL (no notifier serves that channel) or ESP_EINVAL;
     * then the callback never runs. Check ESP_HAS(host, esp_host, notify) first.
     */
    esp_status (*notify)(esp_instance *self, const esp_notify_request *req, esp_done_cb cb,
                         void *ud);
} esp_host;

/* Operations of host->kv(). */
enum esp_kv_op {
    ESP_KV_PUT = 0,
    ESP_KV_GET = 1,
    ESP_KV_TAKE = 2,
    ESP_KV_DEL = 3,
    ESP_KV_INCR = 4,
};

/* Operations of host->rec(). */
enum esp_rec_op {
    ESP_REC_PUT = 0,
    ESP_REC_GET = 1,
    ESP_REC_FIND = 2,
    ESP_REC_DEL = 3,
};

#ifdef __cplusplus
}
#endif

#endif /* ESIGNET_PLUGIN_H */
