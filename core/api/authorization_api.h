/*
 * eSignet's browser authorization APIs (esignet.md §1.4, §1.5, §4): the CSRF token, oauth-details,
 * send-otp, authenticate, claim-details and auth-code, with the envelope, the CSRF check, the
 * oauth-details-key/hash filter, attempt limits and temporary blocking of an individual ID. The
 * /authorize endpoint that starts the same flow for a browser lives here too.
 */
#ifndef ESG_API_AUTHORIZATION_API_H
#define ESG_API_AUTHORIZATION_API_H

#include "http/request.h"

void esg_api_authorize(esg_http_req *req, void *data);
void esg_api_csrf_token(esg_http_req *req, void *data);
void esg_api_oauth_details(esg_http_req *req, void *data);
/* POST /authorization/par-oauth-details: {clientId, requestUri} of a pushed request. [loop] */
void esg_api_par_oauth_details(esg_http_req *req, void *data);
void esg_api_send_otp(esg_http_req *req, void *data);
void esg_api_authenticate(esg_http_req *req, void *data);
void esg_api_claim_details(esg_http_req *req, void *data);
void esg_api_auth_code(esg_http_req *req, void *data);

#endif
