/*
 * keystore-file: signing and encryption keys as PEM files in a directory.
 *
 * Layout of `dir` (created with mode 0700):
 *   keys.json     the key list: kid, alg, use, created_at, activates_at, retired_at, expires_at
 *   <kid>.pem     one private key each (PKCS#8, mode 0600; encrypted when `passphrase` is set)
 *   .lock         flock()ed while the list is rewritten, so the server and the rotation command
 *                 never interleave their writes; an update waits at most 30 s for it
 *
 * One active key per algorithm signs. A scheduled rotation (a key older than `rotate_after`)
 * adds the next key `publish_ahead` before it starts signing, so relying parties see it in the
 * JWKS first; when it activates, the previous key retires and stays in the JWKS for `retain` so
 * that tokens it signed still verify, then leaves the list and its file is deleted. An explicit
 * rotation (the rotate operation, e.g. after a compromise) activates the new key at once. The kid
 * is the RFC 7638 thumbprint of the public key.
 * keys.json is replaced atomically (write, fsync, rename), and a running server notices a
 * rotation made by another process through the file's modification time.
 *
 * Private keys never leave this plugin: the server asks it to sign or decrypt.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <esignet/plugin.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/buf.h"

#define MAX_KEYS 64

typedef struct key {
    char kid[64];
    char alg[16];
    char use[4];
    int64_t created_at;
    int64_t activates_at; /* signs from then on (unless retired); later than now: a next key */
    int64_t retired_at;   /* 0 while active or next */
    int64_t expires_at;   /* 0 while active; set when retired */
    EVP_PKEY *pkey;
    char *public_jwk; /* compact JSON */
} key;

typedef struct ks {
    const esp_host *host;
    esp_instance *self;
    char *dir;
    char *passphrase;
    int rsa_bits;
    int64_t rotate_after_s; /* 0: never automatically */
    int64_t publish_ahead_s;
    int64_t retain_s;
    char algs[8][16];
    size_t n_algs;
    _Atomic int rotating;  /* an age-triggered rotation runs on the worker pool */
    pthread_rwlock_t lock; /* guards keys, n_keys, mtime */
    key keys[MAX_KEYS];
    size_t n_keys;
    struct timespec mtime; /* of keys.json when last read */
} ks;

/* ---------------------------------------------------------------------------------------------
 * Algorithms.
 */

static const char *use_of(const char *alg)
{
    return strncmp(alg, "RSA-OAEP", 8) == 0 ? "enc" : "sig";
}

/* Generates a key for `alg` (RSA of the configured size, or the algorithm's curve). */
static int generate(const ks *s, const char *alg, EVP_PKEY **out)
{
    return esg_jwk_generate_for_alg(alg, s->rsa_bits, out) == 0 ? 0 : ESP_EKEY;
}

/* Public JWK (compact JSON) and RFC 7638 thumbprint of a key. */
static int describe(EVP_PKEY *pkey, char **jwk_json, char kid[64])
{
    json_t *jwk = NULL;
    int rc = esg_jwk_public_json(pkey, &jwk);
    if (rc != 0)
        return rc;
    char tp[64];
    rc = esg_jwk_thumbprint_json(jwk, tp, sizeof(tp));
    if (rc == 0) {
        *jwk_json = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
        if (*jwk_json == NULL)
            rc = ESP_ENOMEM;
        else
            snprintf(kid, 64, "%s", tp);
    }
    json_decref(jwk);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Files.
 */

static int path_of(const ks *s, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", s->dir, name);
    return n > 0 && (size_t)n < size ? 0 : ESP_ETOOBIG;
}

static int write_private(const ks *s, const key *k)
{
    char path[4096], tmp[4200];
    char name[80];
    snprintf(name, sizeof(name), "%s.pem", k->kid);
    if (path_of(s, name, path, sizeof(path)) != 0)
        return ESP_ETOOBIG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ESP_EIO;
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(tmp);
        return ESP_EIO;
    }
    const EVP_CIPHER *cipher = s->passphrase ? EVP_aes_256_cbc() : NULL;
    int ok = PEM_write_PKCS8PrivateKey(f, k->pkey, cipher, NULL, 0, NULL, s->passphrase) == 1;
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ESP_EIO;
    }
    return 0;
}

static int read_private(const ks *s, const char *kid, EVP_PKEY **out)
{
    char path[4096], name[80];
    snprintf(name, sizeof(name), "%s.pem", kid);
    if (path_of(s, name, path, sizeof(path)) != 0)
        return ESP_ETOOBIG;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return ESP_EIO;
    struct stat st;
    /* A private key readable by others has leaked already; refuse to use it. */
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
        fclose(f);
        s->host->log(s->self, ESP_LOG_ERROR, "%s: mode must be 0600", path);
        return ESP_EKEY;
    }
    EVP_PKEY *p = PEM_read_PrivateKey(f, NULL, NULL, s->passphrase ? s->passphrase : (void *)"");
    fclose(f);
    if (p == NULL) {
        s->host->log(s->self, ESP_LOG_ERROR, "%s: cannot read the private key (wrong passphrase?)",
                     path);
        return ESP_EKEY;
    }
    *out = p;
    return 0;
}

static void free_key(key *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->public_jwk);
    memset(k, 0, sizeof(*k));
}

static void free_keys(key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_key(&keys[i]);
}

/* Writes keys.json from `keys` atomically. */
static int write_list(const ks *s, const key *keys, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "kid", keys[i].kid,
                                              "alg", keys[i].alg, "use", keys[i].use, "created_at",
                                              (json_int_t)keys[i].created_at, "activates_at",
                                              (json_int_t)keys[i].activates_at, "retired_at",
                                              (json_int_t)keys[i].retired_at, "expires_at",
                                              (json_int_t)keys[i].expires_at));
    }
    json_t *doc = json_pack("{s:i,s:o}", "version", 1, "keys", list);
    char path[4096], tmp[4200];
    if (doc == NULL || path_of(s, "keys.json", path, sizeof(path)) != 0) {
        json_decref(doc);
        return ESP_ENOMEM;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int rc = json_dump_file(doc, tmp, JSON_INDENT(2)) == 0 ? 0 : ESP_EIO;
    json_decref(doc);
    if (rc == 0) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0)
            rc = ESP_EIO;
        if (fd >= 0)
            close(fd);
    }
    if (rc == 0 && (chmod(tmp, 0600) != 0 || rename(tmp, path) != 0))
        rc = ESP_EIO;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* Reads keys.json and the private keys into `keys`. A missing list is an empty one. */
static int read_list(const ks *s, key *keys, size_t *n, struct timespec *mtime)
{
    char path[4096];
    *n = 0;
    if (path_of(s, "keys.json", path, sizeof(path)) != 0)
        return ESP_ETOOBIG;
    struct stat st;
    if (stat(path, &st) != 0) {
        memset(mtime, 0, sizeof(*mtime));
        return errno == ENOENT ? 0 : ESP_EIO;
    }
    *mtime = st.st_mtim;
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    json_t *list = json_object_get(doc, "keys");
    if (!json_is_array(list) || json_array_size(list) > MAX_KEYS) {
        s->host->log(s->self, ESP_LOG_ERROR, "%s: not a key list (%s)", path,
                     doc ? "bad shape" : jerr.text);
        json_decref(doc);
        return ESP_EIO;
    }
    int rc = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *kid = NULL, *alg = NULL, *use = NULL;
        json_int_t created = 0, activates = 0, retired = 0, expires = 0;
        if (json_unpack(item, "{s:s,s:s,s:s,s:I,s?I,s:I,s:I}", "kid", &kid, "alg", &alg, "use",
                        &use, "created_at", &created, "activates_at", &activates, "retired_at",
                        &retired, "expires_at", &expires) != 0 ||
            strlen(kid) >= sizeof(keys[0].kid) || strlen(alg) >= sizeof(keys[0].alg) ||
            strlen(use) >= sizeof(keys[0].use) || strchr(kid, '/') || strchr(kid, '.')) {
            rc = ESP_EIO;
            break;
        }
        key *k = &keys[*n];
        memset(k, 0, sizeof(*k));
        snprintf(k->kid, sizeof(k->kid), "%s", kid);
        snprintf(k->alg, sizeof(k->alg), "%s", alg);
        snprintf(k->use, sizeof(k->use), "%s", use);
        k->created_at = created;
        k->activates_at = activates;
        k->retired_at = retired;
        k->expires_at = expires;
        char real_kid[64];
        if ((rc = read_private(s, kid, &k->pkey)) != 0 ||
            (rc = describe(k->pkey, &k->public_jwk, real_kid)) != 0)
            break;
        (*n)++;
        /* The file name is the kid; a mismatch means the file was swapped underneath us. */
        if (strcmp(real_kid, kid) != 0) {
            s->host->log(s->self, ESP_LOG_ERROR, "key %s: the private key does not match its kid",
                         kid);
            rc = ESP_EKEY;
            break;
        }
    }
    json_decref(doc);
    if (rc != 0) {
        free_keys(keys, *n);
        *n = 0;
    }
    return rc;
}

/* How long update_keys() waits for another process (a server, the rotation command) to finish
 * its own update: far longer than generating and writing keys takes. */
#define LOCK_WAIT_MS 30000

/* Takes the directory lock, waiting at most LOCK_WAIT_MS: sets *fd, returns 0, ESP_ETIMEDOUT
 * or ESP_EIO. */
static int lock_dir(const ks *s, int *fd)
{
    char path[4096];
    if (path_of(s, ".lock", path, sizeof(path)) != 0)
        return ESP_EIO;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        s->host->log(s->self, ESP_LOG_ERROR, "%s: %s", path, strerror(errno));
        return ESP_EIO;
    }
    /* Polled: flock() itself cannot time out, and a holder that hangs must not hang us too. */
    int64_t deadline = s->host->now_ms() + LOCK_WAIT_MS;
    long pause_ms = 1;
    while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        int rc = 0;
        if (err != EWOULDBLOCK && err != EINTR) {
            s->host->log(s->self, ESP_LOG_ERROR, "%s: cannot lock: %s", path, strerror(err));
            rc = ESP_EIO;
        } else if (s->host->now_ms() >= deadline) {
            s->host->log(s->self, ESP_LOG_ERROR,
                         "%s: another process has held the key directory lock for %d s; not "
                         "waiting longer",
                         path, LOCK_WAIT_MS / 1000);
            rc = ESP_ETIMEDOUT;
        }
        if (rc != 0) {
            close(*fd);
            *fd = -1;
            return rc;
        }
        nanosleep(&(struct timespec){0, pause_ms * 1000000L}, NULL);
        pause_ms = pause_ms < 50 ? pause_ms * 2 : 50;
    }
    return 0;
}

static void unlock_dir(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* When a key started (or starts) signing: its activation, or its creation for lists written
 * before activation times existed. */
static int64_t service_start(const key *k)
{
    return k->activates_at != 0 ? k->activates_at : k->created_at;
}

/* The key of `alg` that signs at `now`: not retired, activated, and the latest to activate. */
static key *current_key(key *keys, size_t n, const char *alg, int64_t now)
{
    key *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        key *k = &keys[i];
        if (k->retired_at != 0 || strcmp(k->alg, alg) != 0 || service_start(k) > now)
            continue;
        if (cur == NULL || service_start(k) > service_start(cur) ||
            (service_start(k) == service_start(cur) && k->created_at > cur->created_at))
            cur = k;
    }
    return cur;
}

/* The key of `alg` published ahead of use, if any. */
static key *next_key(key *keys, size_t n, const char *alg, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].retired_at == 0 && strcmp(keys[i].alg, alg) == 0 &&
            service_start(&keys[i]) > now)
            return &keys[i];
    }
    return NULL;
}

/* Whether update_keys() has anything to do: expiries, retirements, or a rotation that is due. */
static int needs_update(const ks *s, key *keys, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].expires_at != 0 && keys[i].expires_at <= now)
            return 1;
    }
    for (size_t a = 0; a < s->n_algs; a++) {
        key *cur = current_key(keys, n, s->algs[a], now);
        if (cur == NULL)
            return 1;
        for (size_t i = 0; i < n; i++) {
            /* A key superseded by a newer activation, not yet marked retired. */
            if (&keys[i] != cur && keys[i].retired_at == 0 && strcmp(keys[i].alg, cur->alg) == 0 &&
                service_start(&keys[i]) <= now)
                return 1;
        }
        if (s->rotate_after_s > 0 && now - service_start(cur) >= s->rotate_after_s &&
            next_key(keys, n, s->algs[a], now) == NULL)
            return 1;
    }
    return 0;
}

static void retire(const ks *s, key *k, int64_t at)
{
    k->retired_at = at;
    k->expires_at = at + s->retain_s;
}

/*
 * Brings the key list up to date under the directory lock: adds an active key for every
 * configured algorithm that lacks one (or, when `force_alg` is set, for that algorithm even if
 * it has one, or for every algorithm when it is "*"), retires replaced or aged keys, drops keys
 * past their expiry, and writes the list. Blocks on disk and key generation: [init] or a worker.
 */
static int update_keys(ks *s, const char *force_alg, key *out, size_t *n_out,
                       struct timespec *mtime)
{
    int fd = -1;
    int rc = lock_dir(s, &fd);
    if (rc != 0)
        return rc;
    key keys[MAX_KEYS];
    size_t n = 0;
    int changed = 0;
    int64_t now = s->host->wall_ms() / 1000;
    rc = read_list(s, keys, &n, mtime);
    if (rc != 0)
        goto out;
    /* Forget keys whose retention is over, and delete their files. */
    for (size_t i = 0; i < n;) {
        if (keys[i].expires_at != 0 && keys[i].expires_at <= now) {
            char path[4096], name[80];
            snprintf(name, sizeof(name), "%s.pem", keys[i].kid);
            if (path_of(s, name, path, sizeof(path)) == 0)
                unlink(path);
            free_key(&keys[i]);
            memmove(&keys[i], &keys[i + 1], (n - i - 1) * sizeof(key));
            n--;
            changed = 1;
        } else {
            i++;
        }
    }
    for (size_t a = 0; a < s->n_algs; a++) {
        const char *alg = s->algs[a];
        key *cur = current_key(keys, n, alg, now);
        key *next = next_key(keys, n, alg, now);
        /* A next key that has activated retires its predecessors, from its activation on. */
        for (size_t i = 0; cur != NULL && i < n; i++) {
            if (&keys[i] != cur && keys[i].retired_at == 0 && strcmp(keys[i].alg, alg) == 0 &&
                service_start(&keys[i]) <= now) {
                retire(s, &keys[i], service_start(cur));
                changed = 1;
            }
        }
        int forced = force_alg && (strcmp(force_alg, "*") == 0 || strcmp(force_alg, alg) == 0);
        int aged = cur && s->rotate_after_s > 0 && now - service_start(cur) >= s->rotate_after_s;
        if (!forced && cur != NULL && (!aged || next != NULL))
            continue;
        if (!forced && cur == NULL && next != NULL)
            continue; /* the next key takes over when it activates */
        if (n >= MAX_KEYS) {
            rc = ESP_ETOOBIG;
            goto out;
        }
        key *k = &keys[n];
        memset(k, 0, sizeof(*k));
        if ((rc = generate(s, alg, &k->pkey)) != 0 ||
            (rc = describe(k->pkey, &k->public_jwk, k->kid)) != 0) {
            free_key(k);
            goto out;
        }
        snprintf(k->alg, sizeof(k->alg), "%s", alg);
        snprintf(k->use, sizeof(k->use), "%s", use_of(alg));
        k->created_at = now;
        /* A scheduled rotation publishes ahead; an explicit one (or the first key) signs now. */
        int ahead = !forced && cur != NULL && s->publish_ahead_s > 0;
        k->activates_at = ahead ? now + s->publish_ahead_s : now;
        if ((rc = write_private(s, k)) != 0) {
            free_key(k);
            goto out;
        }
        n++;
        if (!ahead) {
            if (cur != NULL)
                retire(s, cur, now);
            if (next != NULL)
                retire(s, next, now);
        }
        changed = 1;
        s->host->log(s->self, ESP_LOG_INFO, "new %s key %s%s", alg, k->kid,
                     ahead ? " (published ahead, signs later)"
                     : cur ? " (previous key retired)"
                           : "");
    }
    if (changed && (rc = write_list(s, keys, n)) != 0)
        goto out;
    if (changed) {
        struct stat st;
        char path[4096];
        if (path_of(s, "keys.json", path, sizeof(path)) == 0 && stat(path, &st) == 0)
            *mtime = st.st_mtim;
    }
    memcpy(out, keys, n * sizeof(key));
    *n_out = n;
    n = 0;
out:
    free_keys(keys, n);
    unlock_dir(fd);
    return rc;
}

/* Replaces the in-memory list (takes ownership of `keys`). */
static void install(ks *s, key *keys, size_t n, const struct timespec *mtime)
{
    key old[MAX_KEYS];
    size_t old_n;
    pthread_rwlock_wrlock(&s->lock);
    memcpy(old, s->keys, s->n_keys * sizeof(key));
    old_n = s->n_keys;
    memcpy(s->keys, keys, n * sizeof(key));
    s->n_keys = n;
    s->mtime = *mtime;
    pthread_rwlock_unlock(&s->lock);
    free_keys(old, old_n);
}

/* Re-reads the list when another process (the rotation command) changed it. */
static void reload_if_changed(ks *s)
{
    char path[4096];
    struct stat st;
    if (path_of(s, "keys.json", path, sizeof(path)) != 0 || stat(path, &st) != 0)
        return;
    pthread_rwlock_rdlock(&s->lock);
    int same = st.st_mtim.tv_sec == s->mtime.tv_sec && st.st_mtim.tv_nsec == s->mtime.tv_nsec;
    pthread_rwlock_unlock(&s->lock);
    if (same)
        return;
    key keys[MAX_KEYS];
    size_t n = 0;
    struct timespec mtime;
    if (read_list(s, keys, &n, &mtime) == 0)
        install(s, keys, n, &mtime);
    else
        s->host->log(s->self, ESP_LOG_ERROR,
                     "keys.json changed but could not be read; keeping "
                     "the keys in memory");
}

/* ---------------------------------------------------------------------------------------------
 * Operations.
 */

static void start_age_rotation(ks *s);

static esp_status op_keys(void *inst, esp_call *call)
{
    ks *s = inst;
    reload_if_changed(s);
    start_age_rotation(s);
    esp_key_info infos[MAX_KEYS];
    const esp_key_info *list[MAX_KEYS];
    int64_t now = s->host->wall_ms() / 1000;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n_keys; i++) {
        key *k = &s->keys[i];
        uint32_t state = k->retired_at != 0                                  ? ESP_KEY_RETIRED
                         : service_start(k) > now                            ? ESP_KEY_NEXT
                         : current_key(s->keys, s->n_keys, k->alg, now) == k ? ESP_KEY_ACTIVE
                                                                             : ESP_KEY_RETIRED;
        infos[i] = (esp_key_info){sizeof(esp_key_info),
                                  {k->kid, strlen(k->kid)},
                                  {k->alg, strlen(k->alg)},
                                  {k->use, strlen(k->use)},
                                  {k->public_jwk, strlen(k->public_jwk)},
                                  k->created_at,
                                  k->expires_at,
                                  state};
        list[i] = &infos[i];
    }
    esp_keys_result res = {sizeof(res), list, s->n_keys};
    /* call_done copies the result while the lock keeps the strings alive. */
    s->host->call_done(call, &res);
    pthread_rwlock_unlock(&s->lock);
    return 0;
}

/* Finds the key for a request and takes a reference to its EVP_PKEY. */
static int pick(ks *s, esp_str kid, esp_str alg, const char *use, EVP_PKEY **pkey, char out_kid[64])
{
    int rc = ESP_ENOTFOUND;
    char alg_name[16];
    if (alg.len >= sizeof(alg_name))
        return ESP_ENOTFOUND;
    memcpy(alg_name, alg.ptr, alg.len);
    alg_name[alg.len] = '\0';
    int64_t now = s->host->wall_ms() / 1000;
    pthread_rwlock_rdlock(&s->lock);
    key *cur = current_key(s->keys, s->n_keys, alg_name, now);
    for (size_t i = 0; i < s->n_keys; i++) {
        key *k = &s->keys[i];
        if (strcmp(k->use, use) != 0 || strcmp(k->alg, alg_name) != 0)
            continue;
        int match = kid.len ? (strlen(k->kid) == kid.len && memcmp(k->kid, kid.ptr, kid.len) == 0)
                            : k == cur;
        /* Only the current key signs (not a next key, not a retired one); any listed key of the
         * right kid decrypts, since data may have been encrypted to it while it was published. */
        if (match && strcmp(use, "sig") == 0 && k != cur)
            match = 0;
        if (match) {
            EVP_PKEY_up_ref(k->pkey);
            *pkey = k->pkey;
            snprintf(out_kid, 64, "%s", k->kid);
            rc = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

static esp_status op_sign(void *inst, const esp_sign_request *req, esp_call *call)
{
    ks *s = inst;
    EVP_PKEY *pkey = NULL;
    char kid[64];
    int rc = pick(s, req->kid, req->alg, "sig", &pkey, kid);
    if (rc != 0)
        return rc;
    esg_buf sig = ESG_BUF_INIT;
    char alg[16];
    snprintf(alg, sizeof(alg), "%.*s", (int)req->alg.len, req->alg.ptr);
    rc = esg_jws_sign_raw(pkey, alg, req->data.ptr, req->data.len, &sig);
    EVP_PKEY_free(pkey);
    if (rc != 0) {
        esg_buf_free(&sig);
        return ESP_EKEY;
    }
    esp_sign_result res = {sizeof(res), {kid, strlen(kid)}, {sig.data, sig.len}};
    s->host->call_done(call, &res);
    esg_buf_free(&sig);
    return 0;
}

static esp_status op_decrypt(void *inst, const esp_decrypt_request *req, esp_call *call)
{
    ks *s = inst;
    EVP_PKEY *pkey = NULL;
    char kid[64];
    int rc = pick(s, req->kid, req->alg, "enc", &pkey, kid);
    if (rc != 0)
        return rc;
    const EVP_MD *md =
        strncmp(req->alg.ptr, "RSA-OAEP-256", req->alg.len) == 0 && req->alg.len == 12
            ? EVP_sha256()
            : EVP_sha1();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    unsigned char out[512];
    size_t outlen = sizeof(out);
    int ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1 &&
             EVP_PKEY_decrypt(ctx, out, &outlen, (const unsigned char *)req->ciphertext.ptr,
                              req->ciphertext.len) == 1;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    if (!ok) {
        /* One answer for every failure: distinguishing them is a padding oracle. */
        s->host->cleanse(out, sizeof(out));
        return ESP_EKEY;
    }
    esp_decrypt_result res = {sizeof(res), {(const char *)out, outlen}};
    s->host->call_done(call, &res);
    s->host->cleanse(out, sizeof(out));
    return 0;
}

/*
 * A rotation on the worker pool (key generation and fsync block): either asked for by the rotate
 * operation (`call` set, the algorithm forced), or started by a key listing because a scheduled
 * rotation, an activation or an expiry is due (`call` NULL).
 */
typedef struct rotation {
    ks *s;
    esp_call *call;
    char alg[16]; /* forced algorithm, "*" for all; empty for a scheduled update */
    key keys[MAX_KEYS];
    size_t n;
    struct timespec mtime;
    int rc;
} rotation;

static void rotate_work(void *ud)
{
    rotation *r = ud;
    r->rc = update_keys(r->s, r->alg[0] ? r->alg : NULL, r->keys, &r->n, &r->mtime);
}

static void rotate_done(void *ud)
{
    rotation *r = ud;
    ks *s = r->s;
    if (r->rc == 0)
        install(s, r->keys, r->n, &r->mtime);
    if (r->call != NULL) {
        if (r->rc == 0)
            s->host->call_done(r->call, NULL);
        else
            s->host->call_fail(r->call, r->rc, NULL, "rotation failed");
    } else {
        if (r->rc != 0)
            s->host->log(s->self, ESP_LOG_ERROR, "scheduled key update failed: %s",
                         s->host->strerror(r->rc));
        atomic_store(&s->rotating, 0);
    }
    free(r);
}

/* Starts a scheduled update when a listing finds one due (the server lists keys every minute). */
static void start_age_rotation(ks *s)
{
    int64_t now = s->host->wall_ms() / 1000;
    pthread_rwlock_rdlock(&s->lock);
    int due = needs_update(s, s->keys, s->n_keys, now);
    pthread_rwlock_unlock(&s->lock);
    if (!due || atomic_exchange(&s->rotating, 1))
        return;
    rotation *r = calloc(1, sizeof(*r));
    if (r != NULL)
        r->s = s;
    if (r == NULL || s->host->submit_blocking(s->self, rotate_work, rotate_done, r) != 0) {
        free(r);
        atomic_store(&s->rotating, 0);
    }
}

static esp_status op_rotate(void *inst, const esp_rotate_request *req, esp_call *call)
{
    ks *s = inst;
    rotation *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ESP_ENOMEM;
    r->s = s;
    r->call = call;
    if (req->alg.len == 0)
        snprintf(r->alg, sizeof(r->alg), "*");
    else
        snprintf(r->alg, sizeof(r->alg), "%.*s", (int)req->alg.len, req->alg.ptr);
    int known = strcmp(r->alg, "*") == 0;
    for (size_t i = 0; i < s->n_algs; i++)
        known |= strcmp(s->algs[i], r->alg) == 0;
    if (!known) {
        free(r);
        return ESP_ENOTFOUND;
    }
    /* Key generation and fsync block; they run on the worker pool. */
    int rc = s->host->submit_blocking(s->self, rotate_work, rotate_done, r);
    if (rc != 0)
        free(r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle.
 */

static void destroy(void *inst)
{
    ks *s = inst;
    if (s == NULL)
        return;
    free_keys(s->keys, s->n_keys);
    pthread_rwlock_destroy(&s->lock);
    free(s->dir);
    if (s->passphrase != NULL) {
        s->host->cleanse(s->passphrase, strlen(s->passphrase));
        free(s->passphrase);
    }
    free(s);
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    ks *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ESP_ENOMEM;
    s->host = host;
    s->self = self;
    pthread_rwlock_init(&s->lock, NULL);
    esp_str dir = host->value_str(host->value_get(config, "dir"));
    esp_str pass = host->value_str(host->value_get(config, "passphrase"));
    s->rsa_bits = (int)host->value_int(host->value_get(config, "rsa_bits"), 2048);
    s->rotate_after_s = host->value_int(host->value_get(config, "rotate_after"), 0) / 1000;
    s->retain_s = host->value_int(host->value_get(config, "retain"), 172800000) / 1000;
    s->publish_ahead_s = host->value_int(host->value_get(config, "publish_ahead"), 600000) / 1000;
    const esp_value *algs = host->value_get(config, "algorithms");
    int rc = ESP_ECONFIG;
    s->dir = strndup(dir.ptr ? dir.ptr : "", dir.len);
    if (pass.len > 0)
        s->passphrase = strndup(pass.ptr, pass.len);
    if (s->dir == NULL || s->dir[0] == '\0' || (pass.len > 0 && s->passphrase == NULL)) {
        host->log(self, ESP_LOG_ERROR, "option dir is required");
        goto fail;
    }
    for (size_t i = 0; i < host->value_count(algs) && i < 8; i++) {
        esp_str a = host->value_str(host->value_at(algs, i, NULL));
        for (size_t j = 0; j < s->n_algs; j++) {
            if (strcmp(s->algs[j], a.ptr) == 0) {
                host->log(self, ESP_LOG_ERROR, "algorithm %s is listed twice", a.ptr);
                goto fail;
            }
        }
        snprintf(s->algs[s->n_algs++], sizeof(s->algs[0]), "%s", a.ptr);
    }
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        host->log(self, ESP_LOG_ERROR, "cannot create %s: %s", s->dir, strerror(errno));
        rc = ESP_EIO;
        goto fail;
    }
    struct stat st;
    if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 077) != 0) {
        host->log(self, ESP_LOG_ERROR, "%s must be a directory with mode 0700", s->dir);
        rc = ESP_ECONFIG;
        goto fail;
    }
    key keys[MAX_KEYS];
    size_t n = 0;
    struct timespec mtime;
    if ((rc = update_keys(s, NULL, keys, &n, &mtime)) != 0) {
        host->log(self, ESP_LOG_ERROR, "cannot prepare the keys in %s: %s", s->dir,
                  host->strerror(rc));
        goto fail;
    }
    install(s, keys, n, &mtime);
    *out = s;
    return 0;
fail:
    destroy(s);
    return rc;
}

static const char *const alg_choices[] = {"RS256", "PS256",        "ES256", "ES384",
                                          "EdDSA", "RSA-OAEP-256", NULL};

static const esp_option options[] = {
    {sizeof(esp_option), "dir", ESP_OPT_PATH, ESP_OPT_REQUIRED, NULL,
     "Directory of the key files; created with mode 0700.", 1, 4096, NULL, 0, NULL},
    {sizeof(esp_option), "algorithms", ESP_OPT_LIST, 0, "[RS256, ES256]",
     "Algorithms to hold an active key for; RSA-OAEP-256 adds a decryption key.", 1, 6, alg_choices,
     ESP_OPT_ENUM, NULL},
    {sizeof(esp_option), "rsa_bits", ESP_OPT_INT, 0, "2048", "Size of new RSA keys.", 2048, 4096,
     NULL, 0, NULL},
    {sizeof(esp_option), "rotate_after", ESP_OPT_DURATION, 0, "90d",
     "Age after which a key is replaced, at start or while running; 0 never.", 0,
     INT64_C(3650) * 86400000, NULL, 0, NULL},
    {sizeof(esp_option), "publish_ahead", ESP_OPT_DURATION, 0, "10m",
     "How long a scheduled next key is in the JWKS before it signs; longer than relying parties "
     "cache the JWKS.",
     0, INT64_C(30) * 86400000, NULL, 0, NULL},
    {sizeof(esp_option), "retain", ESP_OPT_DURATION, 0, "2d",
     "How long a retired key stays in the JWKS; longer than any token it signed lives.", 60000,
     INT64_C(365) * 86400000, NULL, 0, NULL},
    {sizeof(esp_option), "passphrase", ESP_OPT_STRING, ESP_OPT_SECRET, NULL,
     "Encrypts the private key files (AES-256) when set.", 0, 1024, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_key_store_v1 vtable = {
    .size = sizeof(esp_key_store_v1),
    .create = create,
    .destroy = destroy,
    .keys = op_keys,
    .sign = op_sign,
    .decrypt = op_decrypt,
    .rotate = op_rotate,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_KEY_STORE,
    .kind_version = 1,
    .type = "file",
    .description = "Private keys as PEM files in a directory, generated and rotated here.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "keystore-file",
    .version = "1.0.0",
    .description = "Key store on PEM files.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
