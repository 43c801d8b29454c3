/* The media servers' two dialects, called by the hook routes (routes_streaming.c) once the shared
 * secret is checked and the body read. Each replies on success and returns GL_OK, else returns
 * a GL_E* with its message (api_handler's contract).
 *   nginx-rtmp (media_rtmp.c) form-encoded notifications, call=publish|update_publish|
 *              publish_done|play...; it has no "ready" callback: an accepted publish is the
 *              stream start.
 *   JSON (media_json.c) MediaMTX's auth request {"action","path","query","user","password",...}
 *              and the seed's webhook body (also what MediaMTX's runOnAvailable hooks send). */
#ifndef API_MEDIA_H
#define API_MEDIA_H

#include "api.h"

/* nginx-rtmp's notification in r->raw, on either hook URL. */
int api_media_rtmp_notify(api_req *r, gl_err *err);

/* MediaMTX's auth request in r->body. */
int api_media_json_auth(api_req *r, gl_err *err);

/* The webhook's JSON in r->body: stream_started / stream_stopped. */
int api_media_json_webhook(api_req *r, gl_err *err);

#endif
