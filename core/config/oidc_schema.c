/*
 * Schema of the `oidc` section: the OpenID Connect provider's behaviour (lifetimes, scopes and
 * claims, the ACR/AMR table, attempt limits, client management). Declared here, in the config
 * layer, so that validation, docs and dumps treat it like every other section; core/oidc turns
 * the normalized value into its typed settings and checks the cross references (an ACR naming an
 * AMR that does not exist) with positions from the node tree.
 *
 * The defaults reproduce eSignet's (spec esignet.md §3.1, §5.5, §6.1, §6.2, §1.5) where eSignet
 * is sound, and are stricter where the RFCs ask for it (PKCE required, short codes).
 */
#include "config/oidc_schema.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define OPTIONS_END                                                                                \
    {                                                                                              \
        0                                                                                          \
    }
#define DAY_MS (INT64_C(86400000))

static const char *const response_types[] = {"JWS", "JWE", NULL};
static const char *const profiles[] = {"default", "fapi2", NULL};

static const esp_option lifetime_options[] = {
    OPTION(.key = "transaction", .type = ESP_OPT_DURATION, .default_text = "5m", .min = 10000,
           .max = DAY_MS, .help = "How long a login may take from /authorize to authentication."),
    OPTION(.key = "authenticated", .type = ESP_OPT_DURATION, .default_text = "2m", .min = 10000,
           .max = DAY_MS, .help = "How long consent may take after authentication."),
    OPTION(.key = "code", .type = ESP_OPT_DURATION, .default_text = "1m", .min = 5000,
           .max = 600000,
           .help = "Lifetime of an authorization code (RFC 6749 §4.1.2: at most 10 minutes)."),
    OPTION(.key = "pushed_request", .type = ESP_OPT_DURATION, .default_text = "60s", .min = 1000,
           .max = 600000,
           .help = "Lifetime of a pushed authorization request's request_uri (RFC 9126 §2.2; "
                   "eSignet's default is 60 s)."),
    OPTION(.key = "id_token", .type = ESP_OPT_DURATION, .default_text = "1h", .min = 60000,
           .max = DAY_MS, .help = "Lifetime of ID tokens."),
    OPTION(.key = "access_token", .type = ESP_OPT_DURATION, .default_text = "1h", .min = 60000,
           .max = DAY_MS, .help = "Lifetime of access tokens, and how long userinfo answers."),
    OPTION(.key = "session", .type = ESP_OPT_DURATION, .default_text = "8h", .min = 0,
           .max = 30 * DAY_MS,
           .help = "Lifetime of the browser session set at login (prompt=none, max_age); 0 sets "
                   "no session."),
    OPTION(.key = "replay_window", .type = ESP_OPT_DURATION, .default_text = "24h", .min = 60000,
           .max = 30 * DAY_MS,
           .help = "How long nonces are remembered (client assertion jti values are kept until "
                   "the assertion expires, plus clock_skew)."),
    OPTION(.key = "client_assertion", .type = ESP_OPT_DURATION, .default_text = "5m", .min = 10000,
           .max = DAY_MS,
           .help = "Longest lifetime (exp - iat) accepted for a private_key_jwt assertion."),
    OPTION(.key = "dpop_proof", .type = ESP_OPT_DURATION, .default_text = "2m", .min = 10000,
           .max = 600000,
           .help = "How old a DPoP proof's iat may be (RFC 9449 §11.1); its jti is remembered "
                   "that long plus twice clock_skew."),
    OPTION(.key = "clock_skew", .type = ESP_OPT_DURATION, .default_text = "10s", .min = 0,
           .max = 300000, .help = "Leeway when checking exp, nbf and iat of incoming JWTs."),
    OPTIONS_END,
};

static const esp_option scope_options[] = {
    OPTION(.key = "scope", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 64,
           .help = "The scope value."),
    OPTION(.key = "claims", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING, .min = 0, .max = 64,
           .help = "Userinfo claims the scope requests."),
    OPTIONS_END,
};

static const esp_option acr_options[] = {
    OPTION(.key = "acr", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 128,
           .help = "The ACR value, e.g. mosip:idp:acr:generated-code."),
    OPTION(.key = "amr", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
           .flags = ESP_OPT_REQUIRED, .min = 1, .max = 8,
           .help = "Names of AMR entries; each is one way to satisfy this ACR."),
    OPTIONS_END,
};

static const esp_option factor_options[] = {
    OPTION(.key = "type", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 2, .max = 16,
           .help = "Authentication factor type: OTP, PIN, PWD, KBI, BIO, WLA, ..."),
    OPTION(.key = "count", .type = ESP_OPT_INT, .default_text = "1", .min = 1, .max = 10,
           .help = "How many of it (biometric captures)."),
    OPTION(.key = "sub_types", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
           .default_text = "[]", .min = 0, .max = 16,
           .help = "Sub-types the login page offers (e.g. finger positions)."),
    OPTIONS_END,
};

static const esp_option amr_options[] = {
    OPTION(.key = "amr", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 64,
           .help = "Name of the AMR entry; it also appears in the ID token's amr claim."),
    OPTION(.key = "factors", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
           .children = factor_options, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 4,
           .help = "Factors that must all be presented together."),
    OPTIONS_END,
};

static const esp_option challenge_options[] = {
    OPTION(.key = "type", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 2, .max = 16,
           .help = "Factor type."),
    OPTION(.key = "format", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 64,
           .help = "The only challenge format accepted for it."),
    OPTION(.key = "min_length", .type = ESP_OPT_INT, .flags = ESP_OPT_REQUIRED, .min = 1,
           .max = 1000000, .help = "Shortest challenge accepted."),
    OPTION(.key = "max_length", .type = ESP_OPT_INT, .flags = ESP_OPT_REQUIRED, .min = 1,
           .max = 1000000, .help = "Longest challenge accepted."),
    OPTIONS_END,
};

static const esp_option attempts_options[] = {
    OPTION(.key = "send_otp", .type = ESP_OPT_INT, .default_text = "3", .min = 1, .max = 100,
           .help = "OTP sends allowed per login transaction."),
    OPTION(.key = "authenticate", .type = ESP_OPT_INT, .default_text = "3", .min = 1, .max = 100,
           .help = "Authentication attempts allowed per login transaction."),
    OPTION(.key = "block", .type = ESP_OPT_DURATION, .default_text = "10m", .min = 0, .max = DAY_MS,
           .help = "How long an individual ID stays blocked after the attempts ran out."),
    OPTIONS_END,
};

static const esp_option clients_options[] = {
    OPTION(.key = "admin_token_sha256", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .min = 64,
           .max = 64,
           .help = "Hex SHA-256 of the bearer token that the client management API requires; "
                   "without it the API answers 401 to everyone."),
    OPTION(.key = "redirect_uri_wildcards", .type = ESP_OPT_BOOL, .default_text = "false",
           .help = "Accept eSignet's wildcard redirect URIs (*, **); exact matching otherwise."),
    OPTIONS_END,
};

const esp_option esg_oidc_options[] = {
    OPTION(.key = "identity_backend", .type = ESP_OPT_STRING, .min = 1, .max = 64,
           .help = "Identity back-end instance used for logins; defaults to the first of "
                   "identity_backends."),
    OPTION(.key = "profile", .type = ESP_OPT_ENUM, .default_text = "default", .choices = profiles,
           .help = "fapi2: the FAPI 2.0 Security Profile for every client: pushed authorization "
                   "requests, PKCE, DPoP-bound access tokens, PS256 or ES256 only (assertions, "
                   "proofs, tokens), codes of at most 60 s, request_uris of less than 600 s, "
                   "client assertions addressed to the issuer only."),
    OPTION(.key = "require_pkce", .type = ESP_OPT_BOOL, .default_text = "true",
           .help = "Require PKCE (S256) for every client, as OAuth 2.0 Security BCP and FAPI 2.0 "
                   "do; when false, clients opt in with additionalConfig.require_pkce."),
    OPTION(.key = "require_pushed_authorization_requests", .type = ESP_OPT_BOOL,
           .default_text = "false",
           .help = "Accept authorization requests only through PAR (RFC 9126), as FAPI 2.0 "
                   "does; when false, clients opt in with "
                   "additionalConfig.require_pushed_authorization_requests."),
    OPTION(.key = "require_dpop_nonce", .type = ESP_OPT_BOOL, .default_text = "false",
           .help = "Require DPoP proofs to carry a nonce this server issued (RFC 9449 §8, as "
                   "eSignet does): a proof without one, or with an unknown or expired one, gets "
                   "use_dpop_nonce and a fresh DPoP-Nonce header; nonces live "
                   "oidc.lifetimes.dpop_proof."),
    OPTION(.key = "userinfo_response_type", .type = ESP_OPT_ENUM, .default_text = "JWS",
           .choices = response_types,
           .help = "Default userinfo form (signed, or signed then encrypted) for clients that do "
                   "not choose."),
    OPTION(.key = "lifetimes", .type = ESP_OPT_OBJECT, .children = lifetime_options,
           .help = "Lifetimes of transactions, codes, tokens and sessions."),
    OPTION(.key = "scopes", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
           .children = scope_options, .min = 0, .max = 64,
           .default_text = "[{scope: profile, claims: [name, given_name, family_name, middle_name, "
                           "nickname, preferred_username, gender, birthdate, picture, locale, "
                           "zoneinfo, updated_at, address, email, phone_number]}, "
                           "{scope: email, claims: [email, email_verified]}, "
                           "{scope: phone, claims: [phone_number, phone_number_verified]}, "
                           "{scope: address, claims: [address]}]",
           .help = "OpenID scopes and the userinfo claims each requests (OpenID Connect Core "
                   "§5.4)."),
    OPTION(.key = "authorize_scopes", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
           .default_text = "[]", .min = 0, .max = 64,
           .help = "Further consentable scopes, granted to the client as they are (eSignet's "
                   "authorize scopes)."),
    OPTION(.key = "claims_supported", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
           .default_text = "[name, given_name, family_name, middle_name, nickname, "
                           "preferred_username, gender, birthdate, picture, locale, zoneinfo, "
                           "updated_at, address, email, email_verified, phone_number, "
                           "phone_number_verified, individual_id]",
           .min = 1, .max = 128,
           .help = "Claims clients may register and request; advertised in discovery."),
    OPTION(.key = "acr", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .children = acr_options,
           .min = 1, .max = 32,
           .default_text = "[{acr: 'mosip:idp:acr:generated-code', amr: [otp]}, "
                           "{acr: 'mosip:idp:acr:password', amr: [pwd]}, "
                           "{acr: 'mosip:idp:acr:knowledge', amr: [kba]}]",
           .help = "The ACR values clients may ask for, and the AMR entries that satisfy each "
                   "(eSignet's acr_amr table)."),
    OPTION(.key = "amr", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .children = amr_options,
           .min = 1, .max = 32,
           .default_text = "[{amr: otp, factors: [{type: OTP}]}, "
                           "{amr: pwd, factors: [{type: PWD}]}, "
                           "{amr: kba, factors: [{type: KBI}]}]",
           .help = "Authentication method references (RFC 8176 names where one fits): each a set "
                   "of factors presented together (eSignet's amr table); the ID token's amr "
                   "lists the ones used."),
    OPTION(.key = "challenges", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
           .children = challenge_options, .min = 0, .max = 32,
           .default_text = "[{type: OTP, format: alpha-numeric, min_length: 6, max_length: 6}, "
                           "{type: PIN, format: number, min_length: 4, max_length: 12}, "
                           "{type: PWD, format: alpha-numeric, min_length: 8, max_length: 128}, "
                           "{type: KBI, format: base64url-encoded-json, min_length: 8, "
                           "max_length: 4096}, "
                           "{type: BIO, format: encoded-json, min_length: 500, "
                           "max_length: 500000}, "
                           "{type: WLA, format: jwt, min_length: 100, max_length: 4096}]",
           .help = "Accepted format and length of each factor's challenge (eSignet's "
                   "auth-challenge settings)."),
    OPTION(.key = "attempts", .type = ESP_OPT_OBJECT, .children = attempts_options,
           .help = "Attempt limits per login transaction and blocking of an individual ID."),
    OPTION(.key = "clients", .type = ESP_OPT_OBJECT, .children = clients_options,
           .help = "Client management API."),
    OPTION(.key = "ui", .type = ESP_OPT_ANY, .default_text = "{}",
           .help = "Key-value pairs returned to the login page as oauth-details configs (eSignet "
                   "ui.config.key-values)."),
    OPTIONS_END,
};
