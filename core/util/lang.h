/*
 * Language negotiation: which of the languages a server has (primary language subtags such as
 * "en" or "ar") a person wants, from the OpenID Connect ui_locales parameter (a space-separated
 * list of BCP 47 tags in order of preference, OpenID Connect Core §3.1.2.1) or from an HTTP
 * Accept-Language value (RFC 9110 §12.5.4). Tags are compared on their primary subtag, without
 * regard to case, so "ar-EG" and "AR" choose "ar". The input is untrusted and parsed in place,
 * with no allocation; any bytes are accepted and malformed items are skipped.
 */
#ifndef ESG_UTIL_LANG_H
#define ESG_UTIL_LANG_H

#include <stddef.h>

/* The index in `codes` (n entries, borrowed) of tag[0..len), or -1. [any] */
int esg_lang_match(const char *tag, size_t len, const char *const *codes, size_t n);

/* The index of the first tag of a space-separated list that is in `codes`, or -1. [any] */
int esg_lang_from_list(const char *s, size_t len, const char *const *codes, size_t n);

/*
 * The index of the best language of an Accept-Language value that is in `codes`: the highest
 * q-value wins, the earlier of equal ones; q=0 means "not this one"; an item with a malformed
 * weight is ignored; "*" names no language in particular. -1 when nothing matches. [any]
 */
int esg_lang_from_accept(const char *s, size_t len, const char *const *codes, size_t n);

/*
 * The ISO 639-3 code ("ara") of an ISO 639-1 primary subtag ("ar", any case), for eSignet's
 * language maps, which are keyed by ISO 639-3 codes; NULL for a subtag not in the table. [any]
 */
const char *esg_lang_iso639_3(const char *tag, size_t len);

#endif
