/*
 * esg-jose: the JOSE module of esignet-c on the command line.
 *
 *   esg-jose keygen SPEC [--kid KID] [--alg ALG] [--use USE]   private JWK of a new key
 *   esg-jose pub -k JWK                                        public JWK
 *   esg-jose thumbprint -k JWK                                 RFC 7638 SHA-256 thumbprint
 *   esg-jose pem -k JWK                                        PEM: PKCS#8 private key of a
 *                                                              private JWK, else SPKI public key
 *   esg-jose pub-pem -k JWK                                    PEM: SPKI public key
 *   esg-jose sign -k JWK -a ALG [-H HEADER]                    stdin payload -> compact JWS
 *   esg-jose verify -k JWK -a ALG[,ALG...] [--crit NAME]       stdin JWS -> payload
 *   esg-jose encrypt -k JWK -a ALG -e ENC [-H HEADER]          stdin plaintext -> compact JWE
 *   esg-jose decrypt -k JWK -a ALG[,ALG] -e ENC[,ENC]          stdin JWE -> plaintext
 *
 * SPEC is RSA-2048, RSA-3072, RSA-4096, P-256, P-384, P-521, Ed25519 or Ed448. JWK is a file
 * holding one JWK. HEADER is a JSON object of extra protected header members (for sign, "alg" is
 * set from -a). One trailing newline of a token on stdin is ignored. Exit status: 0 success,
 * 1 verification or decryption failed (the reason goes to stderr), 2 usage or input error.
 */
#include <getopt.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/jwe.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/buf.h"

typedef struct args {
    const char *cmd;
    const char *spec;
    const char *key;
    const char *alg;
    const char *enc;
    const char *header;
    const char *kid;
    const char *use;
    const char *crit;
} args;

static int usage(void)
{
    fputs("usage: esg-jose keygen SPEC [--kid KID] [--alg ALG] [--use USE]\n"
          "       esg-jose pub|thumbprint|pem|pub-pem -k JWK\n"
          "       esg-jose sign -k JWK -a ALG [-H HEADER]  < payload\n"
          "       esg-jose verify -k JWK -a ALGS [--crit NAME]  < jws\n"
          "       esg-jose encrypt -k JWK -a ALG -e ENC [-H HEADER]  < plaintext\n"
          "       esg-jose decrypt -k JWK -a ALGS -e ENCS  < jwe\n",
          stderr);
    return 2;
}

static int read_stream(FILE *f, esg_buf *b)
{
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (esg_buf_append(b, chunk, n) != 0)
            return ESP_ENOMEM;
    }
    if (b->data == NULL && esg_buf_puts(b, "") != 0)
        return ESP_ENOMEM;
    return ferror(f) ? ESP_EIO : 0;
}

/* Reads stdin; for tokens, drops one trailing newline (and a CR before it). */
static int read_stdin(esg_buf *b, int token)
{
    int rc = read_stream(stdin, b);
    if (rc == 0 && token) {
        if (b->len > 0 && b->data[b->len - 1] == '\n')
            b->data[--b->len] = '\0';
        if (b->len > 0 && b->data[b->len - 1] == '\r')
            b->data[--b->len] = '\0';
    }
    return rc;
}

static int load_key(const char *path, unsigned flags, esg_jwk **out)
{
    esg_buf b = ESG_BUF_INIT;
    const char *why = "unreadable";
    FILE *f = path != NULL ? fopen(path, "rb") : NULL;
    int rc = f != NULL ? read_stream(f, &b) : ESP_EIO;
    if (f != NULL)
        fclose(f);
    if (rc == 0)
        rc = esg_jwk_import_json(b.data, b.len, flags, out, &why);
    if (rc != 0)
        fprintf(stderr, "esg-jose: key %s: %s\n", path != NULL ? path : "(none)", why);
    esg_buf_free_secret(&b);
    return rc;
}

static int print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s == NULL)
        return 2;
    puts(s);
    free(s);
    return 0;
}

static int cmd_keygen(const args *a)
{
    EVP_PKEY *pkey = NULL;
    esg_jwk *k = NULL;
    json_t *j = NULL;
    int rc = 2;
    if (esg_jwk_generate(a->spec, &pkey) != 0) {
        fprintf(stderr, "esg-jose: cannot generate %s\n", a->spec ? a->spec : "(none)");
        goto done;
    }
    if (esg_jwk_wrap(pkey, &k) != 0 || esg_jwk_set_kid(k, a->kid) != 0 ||
        esg_jwk_set_alg(k, a->alg) != 0 || esg_jwk_set_use(k, a->use) != 0 ||
        esg_jwk_export(k, ESG_JWK_EXPORT_PRIVATE, &j) != 0)
        goto done;
    rc = print_json(j);
done:
    json_decref(j);
    esg_jwk_free(k);
    EVP_PKEY_free(pkey);
    return rc;
}

static int cmd_pub(const args *a, int thumbprint)
{
    esg_jwk *k = NULL;
    json_t *j = NULL;
    char tp[ESG_JWK_THUMBPRINT_LEN + 1];
    int rc = 2;
    if (load_key(a->key, ESG_JWK_ALLOW_PRIVATE, &k) != 0)
        goto done;
    if (thumbprint) {
        if (esg_jwk_thumbprint(k, tp, sizeof(tp)) == 0) {
            puts(tp);
            rc = 0;
        }
    } else if (esg_jwk_export(k, 0, &j) == 0) {
        rc = print_json(j);
    }
done:
    json_decref(j);
    esg_jwk_free(k);
    return rc;
}

/*
 * PEM for tools that take keys as files (Apache's mod_auth_openidc, openssl): the private key
 * as unencrypted PKCS#8, which the caller must store with mode 0600, or the public key as SPKI.
 */
static int cmd_pem(const args *a, int public_only)
{
    esg_jwk *k = NULL;
    int rc = 2;
    BIO *out = BIO_new_fp(stdout, BIO_NOCLOSE);
    if (out == NULL || load_key(a->key, ESG_JWK_ALLOW_PRIVATE, &k) != 0)
        goto done;
    EVP_PKEY *pkey = esg_jwk_pkey(k);
    int ok = !public_only && esg_jwk_is_private(k)
                 ? PEM_write_bio_PKCS8PrivateKey(out, pkey, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_bio_PUBKEY(out, pkey);
    rc = ok ? 0 : 2;
done:
    BIO_free(out);
    esg_jwk_free(k);
    return rc;
}

/* The -H object, or a new empty one. */
static json_t *extra_header(const args *a)
{
    if (a->header == NULL)
        return json_object();
    json_t *h = json_loads(a->header, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(h)) {
        fprintf(stderr, "esg-jose: -H must be a JSON object\n");
        json_decref(h);
        return NULL;
    }
    return h;
}

static int cmd_sign(const args *a)
{
    esg_jwk *k = NULL;
    json_t *hdr = NULL;
    esg_buf in = ESG_BUF_INIT, out = ESG_BUF_INIT;
    int rc = 2;
    if (a->alg == NULL || load_key(a->key, ESG_JWK_REQUIRE_PRIVATE, &k) != 0 ||
        (hdr = extra_header(a)) == NULL || read_stdin(&in, 0) != 0)
        goto done;
    /* "alg" first, as most implementations write it; then the caller's members. */
    json_t *ordered = json_pack("{s:s}", "alg", a->alg);
    json_object_update(ordered, hdr);
    json_object_set_new(ordered, "alg", json_string(a->alg));
    json_decref(hdr);
    hdr = ordered;
    if (esg_jws_sign(esg_jwk_pkey(k), hdr, in.data, in.len, &out) != 0) {
        fprintf(stderr, "esg-jose: signing failed (algorithm and key must match)\n");
        goto done;
    }
    puts(out.data);
    rc = 0;
done:
    esg_buf_free(&in);
    esg_buf_free(&out);
    json_decref(hdr);
    esg_jwk_free(k);
    return rc;
}

static int cmd_verify(const args *a)
{
    esg_jwk *k = NULL;
    esg_buf in = ESG_BUF_INIT;
    esg_jws j = ESG_JWS_INIT;
    const char *crit[] = {a->crit, NULL};
    const char *why = NULL;
    int rc = 2;
    esg_jws_opts o = {0, crit, 0, 0, 0};
    if (a->alg == NULL || esg_jws_alg_set_parse(a->alg, &o.algs) != 0) {
        fprintf(stderr, "esg-jose: -a needs supported JWS algorithms\n");
        goto done;
    }
    if (load_key(a->key, ESG_JWK_ALLOW_PRIVATE, &k) != 0 || read_stdin(&in, 1) != 0)
        goto done;
    if (esg_jws_verify(in.data, in.len, esg_jwk_pkey(k), &o, &j, &why) != 0) {
        fprintf(stderr, "esg-jose: %s\n", why);
        rc = 1;
        goto done;
    }
    fwrite(j.payload, 1, j.payload_len, stdout);
    rc = 0;
done:
    esg_jws_clear(&j);
    esg_buf_free(&in);
    esg_jwk_free(k);
    return rc;
}

/* Parses "A,B" with `one` (esg_jwe_alg_from_name or esg_jwe_enc_from_name) into a bit set. */
static int parse_set(const char *list, int alg, uint32_t *out)
{
    *out = 0;
    for (const char *p = list; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        esg_jwe_alg ja;
        esg_jwe_enc je;
        if (alg ? esg_jwe_alg_from_name(p, n, &ja) != 0 : esg_jwe_enc_from_name(p, n, &je) != 0)
            return ESP_EINVAL;
        *out |= alg ? ESG_JWE_ALG_BIT(ja) : ESG_JWE_ENC_BIT(je);
        p = end != NULL ? end + 1 : NULL;
    }
    return *out != 0 ? 0 : ESP_EINVAL;
}

static int cmd_encrypt(const args *a)
{
    esg_jwk *k = NULL;
    json_t *hdr = NULL;
    esg_buf in = ESG_BUF_INIT, out = ESG_BUF_INIT;
    esg_jwe_alg alg;
    esg_jwe_enc enc;
    int rc = 2;
    if (a->alg == NULL || a->enc == NULL ||
        esg_jwe_alg_from_name(a->alg, strlen(a->alg), &alg) != 0 ||
        esg_jwe_enc_from_name(a->enc, strlen(a->enc), &enc) != 0) {
        fprintf(stderr, "esg-jose: -a and -e need a supported JWE alg and enc\n");
        goto done;
    }
    if (load_key(a->key, ESG_JWK_ALLOW_PRIVATE, &k) != 0 || (hdr = extra_header(a)) == NULL ||
        read_stdin(&in, 0) != 0)
        goto done;
    if (esg_jwe_encrypt(esg_jwk_pkey(k), alg, enc, hdr, in.data, in.len, &out) != 0) {
        fprintf(stderr, "esg-jose: encryption failed (an RSA key is needed)\n");
        goto done;
    }
    puts(out.data);
    rc = 0;
done:
    esg_buf_free_secret(&in);
    esg_buf_free(&out);
    json_decref(hdr);
    esg_jwk_free(k);
    return rc;
}

static int cmd_decrypt(const args *a)
{
    esg_jwk *k = NULL;
    esg_buf in = ESG_BUF_INIT, out = ESG_BUF_INIT;
    esg_jwe_opts o = {0, 0, NULL, 0, 0};
    const char *why = NULL;
    int rc = 2;
    if (parse_set(a->alg, 1, &o.algs) != 0 || parse_set(a->enc, 0, &o.encs) != 0) {
        fprintf(stderr, "esg-jose: -a and -e need supported JWE algorithms\n");
        goto done;
    }
    if (load_key(a->key, ESG_JWK_REQUIRE_PRIVATE, &k) != 0 || read_stdin(&in, 1) != 0)
        goto done;
    if (esg_jwe_decrypt(in.data, in.len, esg_jwk_pkey(k), &o, &out, NULL, &why) != 0) {
        fprintf(stderr, "esg-jose: %s\n", why);
        rc = 1;
        goto done;
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = 0;
done:
    esg_buf_free(&in);
    esg_buf_free_secret(&out);
    esg_jwk_free(k);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},  {"alg", required_argument, NULL, 'a'},
        {"enc", required_argument, NULL, 'e'},  {"header", required_argument, NULL, 'H'},
        {"kid", required_argument, NULL, 'i'},  {"use", required_argument, NULL, 'u'},
        {"crit", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
    };
    args a;
    memset(&a, 0, sizeof(a));
    if (argc < 2)
        return usage();
    a.cmd = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long(argc, argv, "k:a:e:H:", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a.key = optarg;
            break;
        case 'a':
            a.alg = optarg;
            break;
        case 'e':
            a.enc = optarg;
            break;
        case 'H':
            a.header = optarg;
            break;
        case 'i':
            a.kid = optarg;
            break;
        case 'u':
            a.use = optarg;
            break;
        case 'c':
            a.crit = optarg;
            break;
        default:
            return usage();
        }
    }
    if (optind < argc)
        a.spec = argv[optind++];
    if (optind < argc)
        return usage();
    if (strcmp(a.cmd, "keygen") == 0)
        return cmd_keygen(&a);
    if (strcmp(a.cmd, "pub") == 0)
        return cmd_pub(&a, 0);
    if (strcmp(a.cmd, "thumbprint") == 0)
        return cmd_pub(&a, 1);
    if (strcmp(a.cmd, "pem") == 0)
        return cmd_pem(&a, 0);
    if (strcmp(a.cmd, "pub-pem") == 0)
        return cmd_pem(&a, 1);
    if (strcmp(a.cmd, "sign") == 0)
        return cmd_sign(&a);
    if (strcmp(a.cmd, "verify") == 0)
        return cmd_verify(&a);
    if (strcmp(a.cmd, "encrypt") == 0)
        return cmd_encrypt(&a);
    if (strcmp(a.cmd, "decrypt") == 0)
        return cmd_decrypt(&a);
    return usage();
}
