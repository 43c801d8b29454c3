/* Routing of /api/realtime/... and /api/streaming/... requests (router.c). */
#ifndef API_ROUTER_H
#define API_ROUTER_H

#include "api.h"

/* Split and decode r's path and find its handler. GL_OK (*fn set), GL_ENOTFOUND, GL_EINVAL
 * (bad percent-encoding), or GL_EMETHOD with the allowed methods in allow. */
int api_route(api_req *r, void (**fn)(api_req *), char *allow, size_t cap);

/* Percent-decode s in place ('+' as space when asked). false on a malformed escape or %00. */
bool api_url_decode(char *s, bool plus_is_space);

#endif
