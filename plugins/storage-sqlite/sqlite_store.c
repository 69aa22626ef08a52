/*
 * storage-sqlite: persistent records (clients, consents, bindings) in one SQLite file.
 *
 * SQLite blocks on disk I/O, so the capability is flagged ESP_CAP_BLOCKING and its functions run
 * on the host's worker pool. One connection serves every worker under a mutex: writes are
 * serialised by SQLite anyway, and the records are small. WAL journaling lets other processes
 * (the admin tools) read while the server writes; busy_timeout covers their brief write locks.
 *
 * Records live in one table keyed by (collection, key); secondary index values live in a second
 * table whose partial unique index enforces the unique ones, inside the same transaction as the
 * record, so a conflicting record is never half written.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

enum stmt_id {
    S_INSERT,
    S_UPSERT,
    S_UPDATE,
    S_DEL_INDEX,
    S_ADD_INDEX,
    S_GET,
    S_FIND,
    S_DELETE,
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_PURGE,
    S_COUNT,
    N_STMT
};

static const char *const sql[N_STMT] = {
    [S_INSERT] = "INSERT INTO records(collection, key, doc, created_at, updated_at, expires_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    [S_UPSERT] = "INSERT INTO records(collection, key, doc, created_at, updated_at, expires_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT(collection, key) DO UPDATE SET "
                 "doc = excluded.doc, updated_at = excluded.updated_at, "
                 "expires_at = excluded.expires_at",
    [S_UPDATE] = "UPDATE records SET doc = ?3, updated_at = ?4, expires_at = ?5 "
                 "WHERE collection = ?1 AND key = ?2",
    [S_DEL_INDEX] = "DELETE FROM record_index WHERE collection = ?1 AND key = ?2",
    [S_ADD_INDEX] = "INSERT INTO record_index(collection, name, value, key, uniq) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_GET] = "SELECT key, doc, created_at, updated_at, expires_at FROM records "
              "WHERE collection = ?1 AND key = ?2 AND (expires_at = 0 OR expires_at > ?3)",
    [S_FIND] =
        "SELECT r.key, r.doc, r.created_at, r.updated_at, r.expires_at "
        "FROM record_index i JOIN records r ON r.collection = i.collection AND r.key = i.key "
        "WHERE i.collection = ?1 AND i.name = ?2 AND i.value = ?3 "
        "AND (r.expires_at = 0 OR r.expires_at > ?4) ORDER BY r.key LIMIT 1000",
    [S_DELETE] = "DELETE FROM records WHERE collection = ?1 AND key = ?2",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_PURGE] = "DELETE FROM records WHERE expires_at != 0 AND expires_at <= ?1",
    [S_COUNT] = "SELECT count(*) FROM records",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS records ("
    " collection TEXT NOT NULL, key TEXT NOT NULL,"
    " doc TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " PRIMARY KEY (collection, key)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS record_index ("
    " collection TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, key TEXT NOT NULL,"
    " uniq INTEGER NOT NULL,"
    " PRIMARY KEY (collection, name, value, key),"
    " FOREIGN KEY (collection, key) REFERENCES records (collection, key) ON DELETE CASCADE)"
    " STRICT, WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS record_index_unique"
    " ON record_index (collection, name, value) WHERE uniq = 1;"
    "CREATE INDEX IF NOT EXISTS record_index_by_key ON record_index (collection, key);"
    "PRAGMA user_version = 1;";

typedef struct store {
    const esp_host *host;
    esp_instance *self;
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *stmt[N_STMT];
} store;

static int64_t now_s(const store *s)
{
    return s->host->wall_ms() / 1000;
}

static void bind_str(sqlite3_stmt *st, int i, esp_str v)
{
    sqlite3_bind_text(st, i, v.ptr ? v.ptr : "", (int)v.len, SQLITE_STATIC);
}

/* Maps an SQLite result to a status; constraint failures mean a key or unique value is taken. */
static int map_rc(store *s, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    int ext = sqlite3_extended_errcode(s->db);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
        return ESP_EEXIST;
    if (ext == SQLITE_CONSTRAINT_CHECK)
        return ESP_EINVAL;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return ESP_EUNAVAIL;
    s->host->log(s->self, ESP_LOG_ERROR, "%s: %s", what, sqlite3_errmsg(s->db));
    return ESP_EIO;
}

static int step_done(store *s, enum stmt_id id, const char *what)
{
    sqlite3_stmt *st = s->stmt[id];
    int rc = sqlite3_step(st);
    int status = map_rc(s, rc, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return status;
}

static int valid_request(const esp_rec_request *req, int need_key)
{
    if (req->collection.len == 0 || req->collection.len > 200)
        return 0;
    if (need_key && (req->key.len == 0 || req->key.len > 512))
        return 0;
    return 1;
}

static esp_status rec_put(void *inst, const esp_rec_request *req, esp_call *call)
{
    store *s = inst;
    if (!valid_request(req, 1) || req->doc_json.len == 0 || req->mode > ESP_REC_UPDATE ||
        req->n_indexes > 64)
        return ESP_EINVAL;
    int64_t now = now_s(s);
    int rc;
    pthread_mutex_lock(&s->mu);
    if ((rc = step_done(s, S_BEGIN, "begin")) != 0)
        goto out;
    enum stmt_id id = req->mode == ESP_REC_INSERT   ? S_INSERT
                      : req->mode == ESP_REC_UPSERT ? S_UPSERT
                                                    : S_UPDATE;
    sqlite3_stmt *st = s->stmt[id];
    bind_str(st, 1, req->collection);
    bind_str(st, 2, req->key);
    bind_str(st, 3, req->doc_json);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_int64(st, 5, req->expires_at);
    if ((rc = step_done(s, id, "put")) != 0)
        goto rollback;
    if (id == S_UPDATE && sqlite3_changes(s->db) == 0) {
        rc = ESP_ENOTFOUND;
        goto rollback;
    }
    st = s->stmt[S_DEL_INDEX];
    bind_str(st, 1, req->collection);
    bind_str(st, 2, req->key);
    if ((rc = step_done(s, S_DEL_INDEX, "index")) != 0)
        goto rollback;
    for (size_t i = 0; i < req->n_indexes; i++) {
        const esp_rec_index *x = req->indexes[i];
        st = s->stmt[S_ADD_INDEX];
        bind_str(st, 1, req->collection);
        bind_str(st, 2, x->name);
        bind_str(st, 3, x->value);
        bind_str(st, 4, req->key);
        sqlite3_bind_int(st, 5, x->unique ? 1 : 0);
        if ((rc = step_done(s, S_ADD_INDEX, "index")) != 0)
            goto rollback;
    }
    if ((rc = step_done(s, S_COMMIT, "commit")) != 0)
        goto rollback;
    pthread_mutex_unlock(&s->mu);
    s->host->call_done(call, NULL);
    return 0;
rollback:
    step_done(s, S_ROLLBACK, "rollback");
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* One row copied out of SQLite: column texts only live until the next sqlite3_step(). */
typedef struct row {
    esp_record rec;
    char *text; /* key NUL doc NUL */
} row;

static void free_rows(row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].text);
    free(rows);
}

/* Reads the rows of the current statement into a result and completes the call. */
static int complete_rows(store *s, sqlite3_stmt *st, esp_call *call, int single)
{
    row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc, status = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            row *nr = realloc(rows, ncap * sizeof(*nr));
            if (nr == NULL) {
                status = ESP_ENOMEM;
                break;
            }
            rows = nr;
            cap = ncap;
        }
        size_t klen = (size_t)sqlite3_column_bytes(st, 0);
        const unsigned char *key = sqlite3_column_text(st, 0);
        size_t dlen = (size_t)sqlite3_column_bytes(st, 1);
        const unsigned char *doc = sqlite3_column_text(st, 1);
        char *text = malloc(klen + dlen + 2);
        if (text == NULL || key == NULL || doc == NULL) {
            free(text);
            status = ESP_ENOMEM;
            break;
        }
        memcpy(text, key, klen);
        text[klen] = '\0';
        memcpy(text + klen + 1, doc, dlen);
        text[klen + 1 + dlen] = '\0';
        row *r = &rows[n++];
        r->text = text;
        r->rec.size = sizeof(r->rec);
        r->rec.key.ptr = text;
        r->rec.key.len = klen;
        r->rec.doc_json.ptr = text + klen + 1;
        r->rec.doc_json.len = dlen;
        r->rec.created_at = sqlite3_column_int64(st, 2);
        r->rec.updated_at = sqlite3_column_int64(st, 3);
        r->rec.expires_at = sqlite3_column_int64(st, 4);
    }
    if (status == 0 && rc != SQLITE_DONE)
        status = map_rc(s, rc, "read");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (status == 0 && single && n == 0)
        status = ESP_ENOTFOUND;
    if (status == 0) {
        const esp_record **list = malloc((n ? n : 1) * sizeof(*list));
        if (list == NULL) {
            status = ESP_ENOMEM;
        } else {
            for (size_t i = 0; i < n; i++)
                list[i] = &rows[i].rec;
            esp_rec_result res = {sizeof(res), list, n};
            s->host->call_done(call, &res);
            free(list);
        }
    }
    free_rows(rows, n);
    return status;
}

static esp_status rec_get(void *inst, const esp_rec_request *req, esp_call *call)
{
    store *s = inst;
    if (!valid_request(req, 1))
        return ESP_EINVAL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[S_GET];
    bind_str(st, 1, req->collection);
    bind_str(st, 2, req->key);
    sqlite3_bind_int64(st, 3, now_s(s));
    int rc = complete_rows(s, st, call, 1);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static esp_status rec_find(void *inst, const esp_rec_request *req, esp_call *call)
{
    store *s = inst;
    if (!valid_request(req, 0) || req->index_name.len == 0)
        return ESP_EINVAL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[S_FIND];
    bind_str(st, 1, req->collection);
    bind_str(st, 2, req->index_name);
    bind_str(st, 3, req->index_value);
    sqlite3_bind_int64(st, 4, now_s(s));
    int rc = complete_rows(s, st, call, 0);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static esp_status rec_del(void *inst, const esp_rec_request *req, esp_call *call)
{
    store *s = inst;
    if (!valid_request(req, 1))
        return ESP_EINVAL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->stmt[S_DELETE];
    bind_str(st, 1, req->collection);
    bind_str(st, 2, req->key);
    int rc = step_done(s, S_DELETE, "delete");
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = ESP_ENOTFOUND;
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        s->host->call_done(call, NULL);
    return rc;
}

static int64_t count(void *inst)
{
    store *s = inst;
    /* count() must not block; skip the sample rather than wait behind a write. */
    if (pthread_mutex_trylock(&s->mu) != 0)
        return -1;
    int64_t n = -1;
    if (sqlite3_step(s->stmt[S_COUNT]) == SQLITE_ROW)
        n = sqlite3_column_int64(s->stmt[S_COUNT], 0);
    sqlite3_reset(s->stmt[S_COUNT]);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void destroy(void *inst)
{
    store *s = inst;
    if (s == NULL)
        return;
    for (int i = 0; i < N_STMT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ESP_ENOMEM;
    s->host = host;
    s->self = self;
    pthread_mutex_init(&s->mu, NULL);
    esp_str path = host->value_str(host->value_get(config, "path"));
    int64_t busy_ms = host->value_int(host->value_get(config, "busy_timeout"), 5000);
    if (path.len == 0) {
        host->log(self, ESP_LOG_ERROR, "option path is required");
        destroy(s);
        return ESP_ECONFIG;
    }
    int rc = sqlite3_open_v2(
        path.ptr, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        host->log(self, ESP_LOG_ERROR, "cannot open %s: %s", path.ptr,
                  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        destroy(s);
        return ESP_EIO;
    }
    sqlite3_busy_timeout(s->db, (int)busy_ms);
    char *msg = NULL;
    rc = sqlite3_exec(s->db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                      "PRAGMA foreign_keys = ON;",
                      NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        host->log(self, ESP_LOG_ERROR, "cannot prepare %s: %s", path.ptr, msg ? msg : "");
        sqlite3_free(msg);
        destroy(s);
        return ESP_EIO;
    }
    for (int i = 0; i < N_STMT; i++) {
        if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) !=
            SQLITE_OK) {
            host->log(self, ESP_LOG_ERROR, "cannot prepare statement: %s", sqlite3_errmsg(s->db));
            destroy(s);
            return ESP_EIO;
        }
    }
    /* Expired records are filtered on read; dropping them at start keeps the file small. */
    sqlite3_bind_int64(s->stmt[S_PURGE], 1, now_s(s));
    step_done(s, S_PURGE, "purge");
    *out = s;
    return 0;
}

static const esp_option options[] = {
    {sizeof(esp_option), "path", ESP_OPT_PATH, ESP_OPT_REQUIRED, NULL,
     "SQLite database file; created with its tables when missing.", 1, 4096, NULL, 0, NULL},
    {sizeof(esp_option), "busy_timeout", ESP_OPT_DURATION, 0, "5s",
     "How long a write waits for another process's lock before failing.", 0, 600000, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_storage_v1 vtable = {
    .size = sizeof(esp_storage_v1),
    .create = create,
    .destroy = destroy,
    .rec_put = rec_put,
    .rec_get = rec_get,
    .rec_find = rec_find,
    .rec_del = rec_del,
    .count = count,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_STORAGE,
    .kind_version = 1,
    .flags = ESP_CAP_BLOCKING,
    .type = "sqlite",
    .description = "Persistent records in an SQLite file (single server).",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "storage-sqlite",
    .version = "1.0.0",
    .description = "Persistent storage on SQLite.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
