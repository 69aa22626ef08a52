/* The userinfo endpoint (see userinfo.c). */
#ifndef ESG_OIDC_USERINFO_H
#define ESG_OIDC_USERINFO_H

#include "http/request.h"

/* Route handler for GET and POST /oidc/userinfo. [loop] */
void esg_oidc_userinfo(esg_http_req *req, void *data);

#endif
