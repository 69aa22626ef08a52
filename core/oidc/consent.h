/*
 * The consent registry (esignet.md §6.4): what a user agreed to share with a client, kept in
 * the persistent store (collection "consents", key "<client_id>|<subject>") so that a later login
 * with the same request skips the consent step until the consent expires.
 *
 * A request is covered when a stored consent has the same hash: SHA-256 over the canonical JSON
 * of the requested claims (with their request details) and authorize scopes, keys and lists
 * sorted, so that order and repetition in the request do not matter.
 */
#ifndef ESG_OIDC_CONSENT_H
#define ESG_OIDC_CONSENT_H

#include <jansson.h>
#include <stdint.h>

#include "oauth/clients.h"
#include "oidc/transaction.h"

/*
 * Completion of esg_consent_evaluate(): status 0 and `capture` 1 when the user must be asked, or
 * 0 with `accepted` and `permitted` (borrowed arrays of the stored consent) and `expires_at` (its
 * expiry in seconds, 0 for never) when it covers the request; or a storage failure. [loop]
 */
typedef void (*esg_consent_cb)(void *ud, int status, int capture, const json_t *accepted,
                               const json_t *permitted, int64_t expires_at);

/*
 * Decides whether the authenticated transaction `t` (borrowed for the call) needs consent: a
 * stored, unexpired consent with the same hash covers it. The caller handles the cases that need
 * no lookup (nothing requested: no consent; prompt=consent: always ask). Returns 0 and `cb` runs
 * once later, or an error and it never runs. [loop]
 */
int esg_consent_evaluate(const esg_txn *t, esg_consent_cb cb, void *ud);

/*
 * The whole decision for the authenticated transaction `t` (borrowed for the call): nothing
 * requested needs no consent (capture 0, empty lists), prompt=consent always asks, and otherwise
 * esg_consent_evaluate() looks for a stored consent. Returns 0 and `cb` runs once, possibly before
 * this returns; or an error and it never runs. [loop]
 */
int esg_consent_decide(const esg_txn *t, esg_consent_cb cb, void *ud);

/*
 * Applies a decision that needs no capture to `t`: consent_capture 0, the accepted claims and
 * permitted scopes (copied; NULL for none) and the consent's expiry. Returns 0 or ESP_ENOMEM.
 * [any]
 */
int esg_consent_reuse(esg_txn *t, const json_t *accepted, const json_t *permitted,
                      int64_t expires_at);

/*
 * Stores the consent given in `t` (accepted_claims and permitted_scopes set), replacing any
 * earlier one, expiring after the client's consent_expire_in_mins (never when 0), and sets
 * t->consent_expires_at to that expiry so that the tokens of this login do not outlive it.
 * `done` gets the store's status. Returns 0 and `done` runs once later, or an error and it never
 * runs. [loop]
 */
int esg_consent_save(esg_txn *t, const esg_client *client, void (*done)(void *ud, int status),
                     void *ud);

/* The request hash of `t` into out[44]. Returns 0 or ESP_ENOMEM. [any] */
int esg_consent_hash(const esg_txn *t, char out[44]);

#endif
