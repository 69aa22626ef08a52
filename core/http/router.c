/*
 * Router: a segment trie built once from the route table. Each node has its literal children
 * sorted for binary search, at most one parameter child, and per method the route that ends
 * there. A lookup walks the path's segments, trying the literal child before the parameter child
 * and backing off when a branch ends without a route, so "/a/new" can coexist with "/a/{id}".
 */
#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

typedef struct rnode rnode;
struct rnode {
    const char *seg; /* literal segment of the edge from the parent (not NUL-terminated) */
    size_t seg_len;
    rnode **kids; /* literal children, sorted by (length, bytes) */
    size_t nkids;
    rnode *param; /* the {name} child */
    const char *param_name;
    size_t param_len;
    const esg_http_route *by_method[ESG_HTTP_METHOD_COUNT];
    unsigned allow;
};

struct esg_http_router {
    esg_http_route *routes;
    size_t n;
    rnode *root;
};

static void node_free(rnode *nd)
{
    if (nd == NULL)
        return;
    for (size_t i = 0; i < nd->nkids; i++)
        node_free(nd->kids[i]);
    free(nd->kids);
    node_free(nd->param);
    free(nd);
}

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* Index of the literal child `seg`, or of where it would be inserted (with *found = 0). */
static size_t kid_find(const rnode *nd, const char *seg, size_t len, int *found)
{
    size_t lo = 0, hi = nd->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = seg_cmp(seg, len, nd->kids[mid]->seg, nd->kids[mid]->seg_len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = 0;
    return lo;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Checks one literal segment: what the decoded-path rules let through, minus braces. */
static int literal_ok(const char *s, size_t n)
{
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x21 || ch == 0x7f || ch == '{' || ch == '}' || ch == '%' || ch == '?' ||
            ch == '#')
            return 0;
    }
    return esg_utf8_valid(s, n);
}

static int add_route(esg_http_router *r, const esg_http_route *rt, char *err, size_t errlen)
{
    const char *p = rt->pattern;
    const unsigned all = ESG_HTTP_M(ESG_HTTP_GET) | ESG_HTTP_M(ESG_HTTP_HEAD) |
                         ESG_HTTP_M(ESG_HTTP_POST) | ESG_HTTP_M(ESG_HTTP_PUT) |
                         ESG_HTTP_M(ESG_HTTP_DELETE) | ESG_HTTP_M(ESG_HTTP_PATCH) |
                         ESG_HTTP_M(ESG_HTTP_OPTIONS);
    if (p == NULL || p[0] != '/' || strlen(p) > 1024) {
        snprintf(err, errlen, "route pattern %s must start with '/'", p ? p : "(null)");
        return ESP_EINVAL;
    }
    if (rt->handler == NULL || rt->methods == 0 || (rt->methods & ~all) != 0) {
        snprintf(err, errlen, "route %s needs a handler and known methods", p);
        return ESP_EINVAL;
    }
    rnode *nd = r->root;
    const char *names[ESG_HTTP_MAX_PARAMS];
    size_t name_lens[ESG_HTTP_MAX_PARAMS];
    size_t nparams = 0, nsegs = 0;
    size_t i = 1, n = strlen(p);
    while (n > 1 && i <= n) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        const char *seg = p + i;
        size_t len = j - i;
        if (len == 0) {
            snprintf(err, errlen, "route pattern %s has an empty segment", p);
            return ESP_EINVAL;
        }
        if (++nsegs > ESG_HTTP_MAX_SEGMENTS) {
            snprintf(err, errlen, "route pattern %s has too many segments", p);
            return ESP_EINVAL;
        }
        if (seg[0] == '{') {
            size_t k = 1;
            while (k < len && name_char(seg[k]))
                k++;
            if (len < 3 || k != len - 1 || seg[len - 1] != '}') {
                snprintf(err, errlen, "route pattern %s has a malformed parameter", p);
                return ESP_EINVAL;
            }
            const char *pn = seg + 1;
            size_t pl = len - 2;
            if (nparams == ESG_HTTP_MAX_PARAMS) {
                snprintf(err, errlen, "route pattern %s has too many parameters", p);
                return ESP_EINVAL;
            }
            for (size_t q = 0; q < nparams; q++) {
                if (name_lens[q] == pl && memcmp(names[q], pn, pl) == 0) {
                    snprintf(err, errlen, "route pattern %s repeats a parameter name", p);
                    return ESP_EINVAL;
                }
            }
            names[nparams] = pn;
            name_lens[nparams++] = pl;
            if (nd->param == NULL) {
                nd->param = calloc(1, sizeof(rnode));
                if (nd->param == NULL)
                    return ESP_ENOMEM;
                nd->param_name = pn;
                nd->param_len = pl;
            } else if (nd->param_len != pl || memcmp(nd->param_name, pn, pl) != 0) {
                snprintf(err, errlen,
                         "route pattern %s names a parameter differently from another route at "
                         "the same position",
                         p);
                return ESP_EINVAL;
            }
            nd = nd->param;
        } else {
            if (!literal_ok(seg, len)) {
                snprintf(err, errlen, "route pattern %s has an invalid segment", p);
                return ESP_EINVAL;
            }
            int found;
            size_t at = kid_find(nd, seg, len, &found);
            if (!found) {
                rnode *kid = calloc(1, sizeof(rnode));
                rnode **kids = kid ? realloc(nd->kids, (nd->nkids + 1) * sizeof(*kids)) : NULL;
                if (kids == NULL) {
                    free(kid);
                    return ESP_ENOMEM;
                }
                memmove(kids + at + 1, kids + at, (nd->nkids - at) * sizeof(*kids));
                kids[at] = kid;
                nd->kids = kids;
                nd->nkids++;
                kid->seg = seg;
                kid->seg_len = len;
            }
            nd = nd->kids[at];
        }
        i = j + 1;
    }
    for (int m = 1; m < ESG_HTTP_METHOD_COUNT; m++) {
        if (!(rt->methods & ESG_HTTP_M(m)))
            continue;
        if (nd->by_method[m] != NULL) {
            snprintf(err, errlen, "%s %s is registered twice (also as %s)", esg_http_method_name(m),
                     p, nd->by_method[m]->pattern);
            return ESP_EINVAL;
        }
        nd->by_method[m] = rt;
        nd->allow |= ESG_HTTP_M(m);
    }
    if (nd->allow & ESG_HTTP_M(ESG_HTTP_GET))
        nd->allow |= ESG_HTTP_M(ESG_HTTP_HEAD);
    return 0;
}

int esg_http_router_new(const esg_http_route *routes, size_t n, esg_http_router **out, char *err,
                        size_t errlen)
{
    int rc = ESP_ENOMEM;
    char dummy[8];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    esg_http_router *r = calloc(1, sizeof(*r));
    if (r == NULL)
        goto fail;
    r->root = calloc(1, sizeof(rnode));
    r->routes = n > 0 ? calloc(n, sizeof(*routes)) : NULL;
    if (r->root == NULL || (n > 0 && r->routes == NULL))
        goto fail;
    if (n > 0)
        memcpy(r->routes, routes, n * sizeof(*routes));
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        rc = add_route(r, &r->routes[i], err, errlen);
        if (rc != 0)
            goto fail;
    }
    *out = r;
    return 0;
fail:
    if (rc == ESP_ENOMEM)
        snprintf(err, errlen, "out of memory");
    esg_http_router_free(r);
    return rc;
}

void esg_http_router_free(esg_http_router *router)
{
    if (router == NULL)
        return;
    node_free(router->root);
    free(router->routes);
    free(router);
}

typedef struct walk_state {
    const char *segs[ESG_HTTP_MAX_SEGMENTS];
    size_t lens[ESG_HTTP_MAX_SEGMENTS];
    size_t nseg;
    int method;
    esg_http_match *m;
    const rnode *first_partial; /* first node whose path matched but not the method */
} walk_state;

static const esg_http_route *route_for(const rnode *nd, int method)
{
    if (nd->by_method[method] != NULL)
        return nd->by_method[method];
    if (method == ESG_HTTP_HEAD)
        return nd->by_method[ESG_HTTP_GET];
    return NULL;
}

static const esg_http_route *walk(const rnode *nd, walk_state *st, size_t depth)
{
    if (depth == st->nseg) {
        if (nd->allow == 0)
            return NULL;
        const esg_http_route *rt = route_for(nd, st->method);
        if (rt == NULL && st->first_partial == NULL)
            st->first_partial = nd;
        return rt;
    }
    const char *seg = st->segs[depth];
    size_t len = st->lens[depth];
    int found;
    size_t at = kid_find(nd, seg, len, &found);
    if (found) {
        const esg_http_route *rt = walk(nd->kids[at], st, depth + 1);
        if (rt != NULL)
            return rt;
    }
    if (nd->param != NULL && len > 0 && st->m->nparams < ESG_HTTP_MAX_PARAMS) {
        esg_http_match *m = st->m;
        size_t k = m->nparams++;
        m->names[k].ptr = nd->param_name;
        m->names[k].len = nd->param_len;
        m->values[k].ptr = seg;
        m->values[k].len = len;
        const esg_http_route *rt = walk(nd->param, st, depth + 1);
        if (rt != NULL)
            return rt;
        m->nparams = k;
    }
    return NULL;
}

int esg_http_router_match(const esg_http_router *router, int method, const char *path, size_t len,
                          esg_http_match *m)
{
    walk_state st;
    memset(m, 0, sizeof(*m));
    if (path == NULL || len == 0 || path[0] != '/' || method <= 0 ||
        method >= ESG_HTTP_METHOD_COUNT)
        return ESP_ENOTFOUND;
    st.nseg = 0;
    st.method = method;
    st.m = m;
    st.first_partial = NULL;
    if (len > 1) {
        size_t i = 1;
        while (i <= len) {
            size_t j = i;
            while (j < len && path[j] != '/')
                j++;
            if (st.nseg == ESG_HTTP_MAX_SEGMENTS)
                return ESP_ENOTFOUND;
            st.segs[st.nseg] = path + i;
            st.lens[st.nseg++] = j - i;
            i = j + 1;
        }
    }
    const esg_http_route *rt = walk(router->root, &st, 0);
    if (rt != NULL) {
        m->route = rt;
        return 0;
    }
    m->nparams = 0;
    if (st.first_partial != NULL) {
        m->allow = st.first_partial->allow;
        return ESP_ENOTSUP;
    }
    return ESP_ENOTFOUND;
}

int esg_http_methods_format(unsigned mask, char *out, size_t size)
{
    size_t len = 0;
    if (size == 0)
        return ESP_ETOOBIG;
    out[0] = '\0';
    for (int m = 1; m < ESG_HTTP_METHOD_COUNT; m++) {
        if (!(mask & ESG_HTTP_M(m)))
            continue;
        const char *name = esg_http_method_name(m);
        size_t need = strlen(name) + (len > 0 ? 2 : 0);
        if (len + need + 1 > size)
            return ESP_ETOOBIG;
        if (len > 0) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, name, strlen(name) + 1);
        len += strlen(name);
    }
    return 0;
}

void esg_http_router_dispatch(esg_http_req *req, void *router)
{
    esg_http_match m;
    int rc = esg_http_router_match(router, req->method, req->path, req->path_len, &m);
    if (rc == ESP_ENOTSUP) {
        char allow[64];
        esg_http_methods_format(m.allow, allow, sizeof(allow));
        esg_http_resp_header(req, "Allow", allow);
        esg_http_respond_error(req, 405, "invalid_request", "method not allowed");
        return;
    }
    if (rc != 0) {
        esg_http_respond_error(req, 404, "invalid_request", "no such endpoint");
        return;
    }
    req->route = m.route;
    req->nparams = m.nparams;
    for (size_t i = 0; i < m.nparams; i++) {
        req->pnames[i] = m.names[i];
        req->pvalues[i] = m.values[i];
    }
    m.route->handler(req, m.route->data);
}

size_t esg_http_router_count(const esg_http_router *router)
{
    return router->n;
}

const esg_http_route *esg_http_router_route(const esg_http_router *router, size_t i)
{
    return i < router->n ? &router->routes[i] : NULL;
}
