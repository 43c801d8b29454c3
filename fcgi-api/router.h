/* Routing of /api/realtime/... and /api/streaming/... requests (router.c): path splitting, URL
 * decoding, matching against the route table the caller hands in. Knows no handler by name. */
#ifndef API_ROUTER_H
#define API_ROUTER_H

#include "api.h"

/* Split and decode r's path and find its route in table (n entries); on a match the route's
 * "{name}" segments are r's parameters (api_param). GL_OK (*fn set), GL_ENOTFOUND, GL_EINVAL
 * (bad percent-encoding), or GL_EMETHOD with the allowed methods in allow. */
int api_route(api_req *r, const api_route_def *table, size_t n, api_handler *fn, int *index,
              char *allow, size_t cap);

/* Percent-decode s in place ('+' as space when asked). false on a malformed escape or %00. */
bool api_url_decode(char *s, bool plus_is_space);

#endif
