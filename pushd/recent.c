/* Recent messages per (channel, user) (recent.h), in srv->recent keyed "channel\x1fuser": neither
 * a channel name nor a user id holds a control character. */
#include "recent.h"
#include "shared/chan.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_EVERY 10 /* seconds between full passes */

typedef struct recent_entry {
    gl_recent r;
    int64_t forget_ms;
    char key[];
} recent_entry;

static void
make_key(char *buf, size_t cap, const char *channel, const char *user_id)
{
    snprintf(buf, cap, "%s\x1f%s", channel, user_id);
}

const gl_recent *
pd_recent_get(pd_server *srv, const char *channel, const char *user_id)
{
    char key[GL_CHAN_MAX + GL_USER_ID_MAX + 2];
    recent_entry *e;

    make_key(key, sizeof(key), channel, user_id);
    e = gl_map_get(&srv->recent, key);
    return e != NULL ? &e->r : NULL;
}

void
pd_recent_note(pd_server *srv, const char *channel, const char *user_id, const char *data,
               int64_t now_ms, int64_t keep_ms)
{
    char key[GL_CHAN_MAX + GL_USER_ID_MAX + 2];
    recent_entry *e;

    make_key(key, sizeof(key), channel, user_id);
    if ((e = gl_map_get(&srv->recent, key)) == NULL) {
        size_t len = strlen(key) + 1;
        if ((e = calloc(1, sizeof(*e) + len)) == NULL) return;
        memcpy(e->key, key, len);
        if (gl_map_put(&srv->recent, e->key, e) != GL_OK) {
            free(e);
            return;
        }
    }
    gl_recent_note(&e->r, data, now_ms);
    e->forget_ms = now_ms + (keep_ms > GL_RECENT_KEEP_MS ? keep_ms : GL_RECENT_KEEP_MS);
}

void
pd_recent_note_event(pd_server *srv, const char *channel, const char *event, int64_t now_ms,
                     int64_t keep_ms)
{
    cJSON *ev = cJSON_Parse(event);
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(ev, "user");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(user, "id");
    char *data = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ev, "data"));

    if (cJSON_IsString(id) && data != NULL)
        pd_recent_note(srv, channel, id->valuestring, data, now_ms, keep_ms);
    cJSON_free(data);
    cJSON_Delete(ev);
}

/* The map must not change while it is walked: survivors move to a new one. */
void
pd_recent_sweep(pd_server *srv, int64_t now_ms)
{
    gl_map kept = {0};
    gl_map_entry *me;
    size_t it = 0;

    if (srv->recent.len == 0 || ++srv->recent_ticks < SWEEP_EVERY) return;
    srv->recent_ticks = 0;
    while ((me = gl_map_next(&srv->recent, &it)) != NULL) {
        recent_entry *e = me->val;
        if (e->forget_ms > now_ms && gl_map_put(&kept, e->key, e) == GL_OK) continue;
        free(e);
    }
    gl_map_free(&srv->recent);
    srv->recent = kept;
}

void
pd_recent_free(pd_server *srv)
{
    gl_map_free_values(&srv->recent);
}
