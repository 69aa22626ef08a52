/*
 * YAML configuration reader: a file or a string becomes an immutable tree of nodes, each with the
 * file name and the 1-based line and column it came from, so that every later error can point at
 * the text the deployer wrote.
 *
 * What is accepted (docs/CONFIGURATION.md repeats this for deployers):
 *   - One UTF-8 document. A UTF-8 byte order mark is skipped; UTF-16/32 and invalid UTF-8 are
 *     errors. Several documents ("---" twice) are an error.
 *   - Scalars are typed with the YAML 1.2 core schema, and only plain (unquoted) scalars are typed
 *     at all: `8088` is an integer, `"8088"` a string; `true`/`false` (also True, TRUE, ...) are
 *     booleans; `null`, `~` and nothing are null; `1.5`, `.inf` are floats. YAML 1.1 spellings
 *     such as yes/no/on/off/y/n are plain strings, because YAML 1.1 turning `no` (the country code
 *     of Norway) into false is a classic source of configuration bugs.
 *   - Explicit standard tags (!!str, !!int, !!bool, !!null, !!float, !!map, !!seq) force a type;
 *     any other tag is an error.
 *   - Anchors and aliases are refused: they are how "billion laughs" documents explode in memory,
 *     and a configuration file does not need them.
 *   - Mapping keys are strings (a plain `8088:` or `true:` key is an error; quote it) and appear
 *     once per mapping.
 *   - ${VAR} and ${VAR:-default} are replaced inside plain and double-quoted scalar values (not
 *     in keys, single-quoted or block scalars) before the scalar is typed, so that
 *     `port: ${PORT:-8088}` is an integer. `$$` writes one `$`; a `$` not followed by `{` or `$`
 *     stays as it is. Names are [A-Za-z_][A-Za-z0-9_]*. As in the shell, the default is used when
 *     the variable is unset or empty; a variable that is unset without a default is an error.
 *     A default is literal text up to the first `}` and may not contain `{` (no nesting).
 *   - Limits: file size, nesting depth, number of nodes, scalar length and the total text after
 *     substitution (esg_yaml_limits).
 *
 * Error messages from this module never quote scalar values (only keys, tags and variable names),
 * because at this stage it is not yet known which values are secrets.
 */
#ifndef ESG_CONFIG_YAML_H
#define ESG_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <esignet/plugin.h>

#include "config/errors.h"

/* Default limits (esg_yaml_limits members that are 0 take these). */
#define ESG_YAML_MAX_BYTES  (1024 * 1024) /* file or string size */
#define ESG_YAML_MAX_DEPTH  64            /* nested sequences and mappings */
#define ESG_YAML_MAX_NODES  100000        /* scalars, sequences and mappings, keys included */
#define ESG_YAML_MAX_SCALAR (64 * 1024)   /* bytes of one scalar, after substitution */
/* Bytes of all scalars together after substitution, so that a file of many ${BIG} references
   cannot build a tree thousands of times its own size. */
#define ESG_YAML_MAX_TEXT (8 * 1024 * 1024)

enum esg_yaml_kind {
    ESG_YAML_SCALAR = 1,
    ESG_YAML_SEQUENCE = 2,
    ESG_YAML_MAPPING = 3,
};

/* Resolved type of a scalar (0 for sequences and mappings). */
enum esg_yaml_type {
    ESG_YAML_NULL = 1,
    ESG_YAML_BOOL = 2,
    ESG_YAML_INT = 3,
    ESG_YAML_FLOAT = 4,
    ESG_YAML_STRING = 5,
};

/* How a scalar was written. Only ESG_YAML_PLAIN scalars are typed implicitly. */
enum esg_yaml_style {
    ESG_YAML_PLAIN = 0,
    ESG_YAML_SINGLE_QUOTED = 1,
    ESG_YAML_DOUBLE_QUOTED = 2,
    ESG_YAML_LITERAL = 3,
    ESG_YAML_FOLDED = 4,
};

/*
 * One node. Every pointer in it is owned by the document and valid until esg_yaml_free(); nodes
 * are never modified after loading, so a tree may be read from several threads.
 */
typedef struct esg_yaml_node {
    uint8_t kind;     /* enum esg_yaml_kind */
    uint8_t type;     /* enum esg_yaml_type for scalars, 0 otherwise */
    uint8_t style;    /* enum esg_yaml_style for scalars, 0 otherwise */
    uint32_t line;    /* 1-based line of the node's first character */
    uint32_t col;     /* 1-based column, in characters */
    const char *file; /* name of the file as given to the loader */

    /* Scalars: the text after substitution, NUL-terminated (never contains NUL, valid UTF-8). */
    const char *text;
    size_t len;
    int64_t i; /* ESG_YAML_INT */
    double d;  /* ESG_YAML_FLOAT */
    int b;     /* ESG_YAML_BOOL: 0 or 1 */

    /* Sequences: `count` items. Mappings: `count` pairs keys[i] -> items[i], in file order. */
    size_t count;
    const struct esg_yaml_node *const *items;
    const struct esg_yaml_node *const *keys; /* string scalars; NULL for sequences */
} esg_yaml_node;

/*
 * Environment lookup for ${VAR}: returns the value of `name` (borrowed; it must stay valid until
 * the loader returns) or NULL when unset. Tests inject their own; NULL means getenv().
 */
typedef struct esg_yaml_env {
    const char *(*lookup)(void *ud, const char *name);
    void *ud;
} esg_yaml_env;

/* Limits; a member left 0 takes the default above. */
typedef struct esg_yaml_limits {
    size_t max_bytes;
    size_t max_depth;
    size_t max_nodes;
    size_t max_scalar;
    size_t max_text;
} esg_yaml_limits;

/* Loader options; every member may be NULL, and so may the whole struct. */
typedef struct esg_yaml_opts {
    const esg_yaml_env *env;       /* borrowed for the call; NULL: getenv() */
    const esg_yaml_limits *limits; /* borrowed for the call; NULL: defaults */
    const char *base_dir;          /* esg_yaml_load_string() only: what esg_yaml_dir() returns */
} esg_yaml_opts;

/* A loaded document. Opaque; owns every node. */
typedef struct esg_yaml_doc esg_yaml_doc;

/*
 * Reads and parses the file at `path`. On success sets *out to a document the caller frees with
 * esg_yaml_free() and returns 0. On failure sets *out to NULL, appends one error per problem to
 * `errors` (borrowed, caller-owned) and returns ESP_ECONFIG (bad content), ESP_EIO (the file could
 * not be read; also reported in `errors`) or ESP_ENOMEM.
 */
int esg_yaml_load_file(const char *path, const esg_yaml_opts *opts, esg_yaml_doc **out,
                       esg_config_errors *errors);

/*
 * Like esg_yaml_load_file() for `len` bytes at `text` (borrowed; need not be NUL-terminated).
 * `name` (copied) is the file name used in positions and errors.
 */
int esg_yaml_load_string(const char *name, const char *text, size_t len, const esg_yaml_opts *opts,
                         esg_yaml_doc **out, esg_config_errors *errors);

/* Frees a document and all its nodes. NULL is ignored. */
void esg_yaml_free(esg_yaml_doc *doc);

/*
 * Root node (borrowed from `doc`). An empty document has a null scalar at 1:1 as its root, so
 * callers need no special case.
 */
const esg_yaml_node *esg_yaml_root(const esg_yaml_doc *doc);

/* File name given to the loader (borrowed from `doc`). */
const char *esg_yaml_name(const esg_yaml_doc *doc);

/*
 * Directory against which relative paths in the document resolve (borrowed from `doc`): the
 * absolute directory of the file for esg_yaml_load_file(), opts->base_dir for
 * esg_yaml_load_string(); NULL when there is none.
 */
const char *esg_yaml_dir(const esg_yaml_doc *doc);

/* Value of `key` in mapping `map` (borrowed); NULL when absent or `map` is not a mapping. */
const esg_yaml_node *esg_yaml_get(const esg_yaml_node *map, const char *key);

/* Human name of a node's type for messages: "string", "integer", "mapping", "sequence", ... */
const char *esg_yaml_type_name(const esg_yaml_node *node);

/*
 * Converts a subtree to JSON: mappings to objects, sequences to arrays, scalars by their type.
 * Sets *out to a new reference the caller releases with json_decref(). Floats that JSON cannot
 * represent (.inf, .nan) are errors appended to `errors`. Returns 0, ESP_ECONFIG or ESP_ENOMEM.
 */
int esg_yaml_to_json(const esg_yaml_node *node, json_t **out, esg_config_errors *errors);

/*
 * Appends an error positioned at `node` (its file, line and column; no position when NULL).
 * Returns 0 or ESP_ENOMEM.
 */
int esg_yaml_error(esg_config_errors *errors, const esg_yaml_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
