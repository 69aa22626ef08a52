/*
 * DPoP proof verification (RFC 9449 §4.3): the check of one `DPoP` request header value, for the
 * token, PAR and userinfo endpoints. No I/O and no state: the caller supplies what the request
 * and its own records say (method, the endpoint's configured URL, the access token, the nonce it
 * issued, the key the code or token is bound to) and gets back the proof key's thumbprint for
 * `cnf.jkt`, the proof's `jti` and `iat`, or why the proof is refused.
 *
 * What is checked, in this order (RFC 9449 §4.2, §4.3, §7, §8, §11):
 *   - the value is one compact JWS of at most ESG_DPOP_MAX_PROOF bytes (three base64url parts,
 *     so a comma-joined list of proofs, a JWE or surrounding blanks are refused), with a
 *     protected header of at most ESG_DPOP_MAX_HEADER encoded bytes, no "crit" (none is
 *     understood) and no "b64";
 *   - `typ` is exactly "dpop+jwt" (the value RFC 9449 §4.2 names, compared byte for byte: the
 *     explicit type is a security check, RFC 8725 §3.11, so no case folding or "application/"
 *     prefix is accepted);
 *   - `alg` is in `algs`; "none" and HS256/384/512 are never implemented (jwa.h), so no set can
 *     admit them;
 *   - `jwk` is present, holds no private member (esg_jwk_json_has_private(), checked before the
 *     key is imported so that even a symmetric "k" is reported as private), is a valid public key
 *     of a supported type (RSA of 2048 bits or more, EC P-256/384/521, OKP), fits `alg` and, when
 *     it has its own "alg", "use" or "key_ops", allows verification with `alg`;
 *   - the signature verifies with that key;
 *   - the payload is a JSON object without duplicate members, with `jti` (a string of 1 to
 *     ESG_DPOP_MAX_JTI bytes without control characters), `htm`, `htu` and `iat`; `exp` and `nbf`
 *     are checked when present;
 *   - `iat` lies in [now - max_age - skew, now + skew];
 *   - `htm` equals `method` exactly (methods are case-sensitive, RFC 9110 §9.1);
 *   - the proof's `htu` equals req->htu once both are normalised as esg_dpop_htu_normalize()
 *     says (query and fragment ignored, RFC 9449 §4.3 point 9);
 *   - with an access token: `ath` is present and equals base64url(SHA-256(access token)),
 *     compared in constant time; without one, `ath` is neither demanded nor checked;
 *   - with an expected `jkt`: the key's RFC 7638 SHA-256 thumbprint equals it (constant time);
 *   - `nonce`, when present, has the syntax of RFC 9449 §8.1 (1 to ESG_DPOP_MAX_NONCE NQCHARs);
 *     with an expected nonce it must be present and equal to it (constant time), and only this
 *     check answers ESG_DPOP_ERR_USE_NONCE. It comes last, so a proof refused for its nonce has
 *     passed every other check and a retry with the nonce succeeds.
 *
 * What the caller does (see also esg_dpop_verify()):
 *   - refuses a request with more than one DPoP header (RFC 9449 §4.3 point 1) before calling;
 *   - stores the returned `jti` single-use (SET NX) for max_age + 2 * skew seconds (a proof
 *     dated now + skew stays acceptable that long), under a key of its own (for example
 *     "dpop|<jkt>|<jti>", apart from client assertion jtis), and refuses a replay with
 *     invalid_dpop_proof (RFC 9449 §11.1);
 *   - answers a refusal per RFC 9449 §5 and §7.1: at the token and PAR endpoints HTTP 400 with
 *     the JSON error esg_dpop_error_code(); at userinfo HTTP 401 with
 *     `WWW-Authenticate: DPoP error="...", algs="..."`; for ESG_DPOP_ERR_USE_NONCE also a fresh
 *     `DPoP-Nonce` header (RFC 9449 §8, §9), which a server answering browsers cross-origin
 *     lists in Access-Control-Expose-Headers with `WWW-Authenticate`.
 *
 * Thread safety: every function is reentrant and may be called from any thread. [any]
 *
 * Status codes: 0; ESP_EINVAL when the proof is refused (out->error and out->reason say how and
 * why); ESP_ETOOBIG when it is beyond a size limit (ESG_DPOP_MAX_PROOF, ESG_DPOP_MAX_HEADER or
 * jws.h's header limits), also with ESG_DPOP_ERR_INVALID_PROOF; ESP_ECONFIG when the request
 * itself cannot be used (no method, an `htu` that is not an http or https URL, max_age <= 0,
 * skew < 0, no algorithm); ESP_ENOMEM; ESP_EINTERNAL when OpenSSL fails. The last three set
 * ESG_DPOP_ERR_SERVER. Reasons are static and never contain bytes of the proof, so they may be
 * sent as error_description.
 */
#ifndef ESG_OAUTH_DPOP_H
#define ESG_OAUTH_DPOP_H

#include <stddef.h>
#include <stdint.h>

#include "jose/jwa.h"
#include "jose/jwk.h"

/* Limits. A proof longer than ESG_DPOP_MAX_PROOF is refused before it is decoded; the `jwk`
 * header member is bounded by ESG_DPOP_MAX_HEADER (enough for an RSA key of 8192 bits). */
#define ESG_DPOP_MAX_PROOF  8192
#define ESG_DPOP_MAX_HEADER 4096
#define ESG_DPOP_MAX_JTI    256
#define ESG_DPOP_MAX_NONCE  256
#define ESG_DPOP_MAX_HTU    2048

/* The OAuth error a refusal maps to (RFC 9449 §12.2). */
typedef enum esg_dpop_error {
    ESG_DPOP_ERR_NONE = 0,          /* verified */
    ESG_DPOP_ERR_INVALID_PROOF = 1, /* "invalid_dpop_proof" */
    ESG_DPOP_ERR_USE_NONCE = 2,     /* "use_dpop_nonce": nonce missing or not the expected one */
    ESG_DPOP_ERR_SERVER = 3,        /* "server_error": the request or the server failed */
} esg_dpop_error;

/*
 * What the endpoint knows about the request. All pointers are borrowed for the call; the strings
 * marked optional may be NULL, which turns their check off.
 */
typedef struct esg_dpop_request {
    const char *proof;    /* the DPoP header value, not necessarily NUL-terminated */
    size_t proof_len;     /* its length in bytes */
    const char *method;   /* the request's HTTP method, e.g. "POST" */
    const char *htu;      /* the endpoint's configured URL (discovery), e.g. the token endpoint */
    esg_jws_alg_set algs; /* accepted proof algorithms, e.g. RS256 | PS256 | ES256 */
    int64_t now;          /* seconds since the epoch; 0 means esg_wall_s() */
    int64_t max_age;      /* seconds an iat may lie in the past (> 0) */
    int64_t skew;         /* tolerated clock difference in seconds (>= 0), both directions */
    const char *access_token; /* optional: the access token presented with the proof */
    size_t access_token_len;
    const char *nonce; /* optional: the server nonce the proof must carry (NUL-terminated) */
    const char *jkt;   /* optional: the thumbprint the key must have (NUL-terminated) */
} esg_dpop_request;

/*
 * The outcome, filled by esg_dpop_verify() (which clears it first). `jkt`, `jti`, `iat` and
 * `nonce` are meaningful on success and with ESG_DPOP_ERR_USE_NONCE (a proof valid in every
 * other respect); `error` and `reason` on failure.
 */
typedef struct esg_dpop_result {
    char jkt[ESG_JWK_THUMBPRINT_LEN + 1]; /* RFC 7638 SHA-256 thumbprint, base64url: cnf.jkt */
    char jti[ESG_DPOP_MAX_JTI + 1];       /* copied; the caller stores it for replay detection */
    int64_t iat;                          /* the proof's iat, whole seconds */
    char nonce[ESG_DPOP_MAX_NONCE + 1];   /* the proof's nonce, "" when it has none */
    esg_dpop_error error;                 /* ESG_DPOP_ERR_NONE on success */
    const char *reason; /* static text for the log and error_description; NULL on success */
} esg_dpop_result;

/*
 * Verifies a DPoP proof against `req` as the comment at the top of this file says, and fills
 * `out`. Returns 0 or a status listed there; on any failure out->error is not
 * ESG_DPOP_ERR_NONE and out->reason is set. The proof's jti is not checked for replay here: the
 * caller owns the store and must add out->jti with NX semantics before it acts on the request.
 * [any]
 */
int esg_dpop_verify(const esg_dpop_request *req, esg_dpop_result *out);

/* The OAuth error code of `e`: "invalid_dpop_proof", "use_dpop_nonce", "server_error", or "" for
 * ESG_DPOP_ERR_NONE. Static. [any] */
const char *esg_dpop_error_code(esg_dpop_error e);

/*
 * Normalises an http(s) URL for the htu comparison (RFC 9449 §4.3 point 9 and its advice to use
 * RFC 3986 §6.2.2 and §6.2.3 normalisation) and writes it, NUL-terminated, to `out`, which must
 * have room for n + 2 bytes (the result is at most one byte longer than the input); `n` is at
 * most ESG_DPOP_MAX_HTU:
 *   - the query and fragment are dropped;
 *   - scheme and host are lower-cased; the scheme must be "http" or "https" and an authority
 *     with a non-empty host must follow; userinfo and a percent sign in the host are refused;
 *   - an empty port and the scheme's default port (80, 443) are dropped; other ports are written
 *     in decimal without leading zeros (at most 65535);
 *   - an empty path becomes "/"; percent-encoded unreserved characters are decoded and other
 *     percent-encodings get upper-case hex digits; "." and ".." segments are removed;
 *   - everything else, including the case of the path, empty segments and a trailing "/", is
 *     kept, so it must match byte for byte.
 * Bytes outside the RFC 3986 character set (controls, space, non-ASCII, and " < > \ ^ ` { | })
 * are refused.
 * Returns 0 or ESP_EINVAL (not such a URL, or too long for `out`). [any]
 */
int esg_dpop_htu_normalize(const char *in, size_t n, char *out, size_t out_size);

#endif
