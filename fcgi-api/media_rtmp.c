/* nginx-rtmp's on_publish / on_update / on_publish_done / on_play notifications (media.h): the
 * publisher's stream name is its key (OBS's "Stream Key"), which a 3xx reply renames to the public
 * name; or the public name with ?key=<key> in the RTMP URL. */
#include "media.h"
#include "stream_state.h"

#include <string.h>

static bool
call_is(const char *call, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strcmp(call, *names) == 0) return true;
    return false;
}

/* A publish (not a relay, not an update): the key must be unrevoked and open the stream. */
static int
start_publish(api_req *r, const char *name, const char *key, gl_stream *s, bool found,
              int64_t key_id, gl_err *err)
{
    api_transition t;
    int rv;

    if (found && key_id == 0 && (rv = api_stream_key_for(r, key, s->name, &key_id, err)) != GL_OK)
        return rv;
    if (!found || key_id == 0) return api_refuse_publish(name, err);
    if ((rv = api_stream_transition(r, s, true, key_id, &t, err)) != GL_OK) return rv;
    if (gl_stream_key_shape(name))
        /* 3xx + Location renames the stream: HLS and every later hook see the public name. */
        api_reply_redirect(r, s->name);
    else
        api_reply_transition(r, s, &t);
    return GL_OK;
}

int
api_media_rtmp_notify(api_req *r, gl_err *err)
{
    static const char *const open_calls[] = {"play",    "play_done",  "update_play", "done",
                                             "connect", "disconnect", NULL};
    char call[API_HOOK_FIELD_MAX] = "", name[API_HOOK_FIELD_MAX] = "", key[API_HOOK_FIELD_MAX] = "";
    gl_stream s;
    api_transition t;
    int64_t key_id;
    bool found;
    int rv;

    api_form_value(r->raw, "call", call, sizeof(call));
    api_form_value(r->raw, "name", name, sizeof(name));
    api_form_value(r->raw, "key", key, sizeof(key));
    if (call_is(call, open_calls)) {
        api_reply_hook_ok(r, "open"); /* watching is open to all */
        return GL_OK;
    }
    if (!call_is(call, (const char *const[]){"publish", "update_publish", "publish_done", NULL}))
        return gl_err_set(err, GL_EINVAL, "unknown nginx-rtmp call '%s'", call);
    if ((rv = api_stream_find(r, name, &s, &found, &key_id, err)) != GL_OK) return rv;
    if (strcmp(call, "publish_done") == 0) {
        if (!found) return gl_err_set(err, GL_ENOTFOUND, "no stream called '%s'", name);
        if ((rv = api_stream_transition(r, &s, false, 0, &t, err)) != GL_OK) return rv;
        api_reply_transition(r, &s, &t);
        return GL_OK;
    }
    if (strcmp(call, "update_publish") == 0 || api_query(r, "relay", key, sizeof(key))) {
        /* update_publish comes every notify_update_timeout while publishing: a non-2xx drops the
         * publisher, which is how revoking a key ends a stream that is on air. A relay is the
         * media server's own into its packaging stage (no key: the ingest had it). */
        if (!(found && s.live && s.session_key_active)) return api_refuse_publish(name, err);
        api_reply_hook_ok(r, strcmp(call, "update_publish") == 0 ? "publishing" : "relay");
        return GL_OK;
    }
    return start_publish(r, name, key, &s, found, key_id, err);
}
