/*
 * eSignet's client management API (spec esignet.md §12), mounted under the base path:
 *   v1  POST /client-mgmt/oidc-client,  PUT /client-mgmt/oidc-client/{client_id}
 *   v2  POST /client-mgmt/oauth-client, PUT /client-mgmt/oauth-client/{client_id}
 *   v3  POST /client-mgmt/client,       PUT, PATCH and GET /client-mgmt/client/{client_id}
 * Each function serves one version's routes and picks create, update, patch or read from the
 * method. Every call needs "Authorization: Bearer <token>" whose SHA-256 is
 * oidc.clients.admin_token_sha256. Requests and responses are eSignet envelopes; docs/API.md
 * describes the fields, rules and error codes. [loop]
 */
#ifndef ESG_API_CLIENTS_API_H
#define ESG_API_CLIENTS_API_H

#include "http/request.h"

void esg_clients_api_v1(esg_http_req *req, void *data);
void esg_clients_api_v2(esg_http_req *req, void *data);
void esg_clients_api_v3(esg_http_req *req, void *data);

#endif
