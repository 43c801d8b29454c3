/* The fan-out of one node (fanout.h): the channel table's own subscribers. */
#include "fanout.h"
#include "channel.h"
#include "conn.h"
#include "modstate.h"

static uint32_t
deliver_local(pd_fanout *self, const char *channel, pd_frame *f, int64_t msg_id, int64_t prev_id)
{
    pd_fanout_local *fl = (pd_fanout_local *)self;
    pd_channel *ch = pd_channel_find(fl->srv, channel);

    uint32_t n;

    (void)prev_id; /* one node hears every message of its channels, in the order it stores them */
    if (ch == NULL) return 0;
    pd_channel_fanout(ch, f, msg_id);
    n = pd_channel_count(ch).subscribers;
    fl->srv->counters.deliveries += n;
    return n;
}

typedef struct moderators_of {
    pd_server *srv;
    const char *channel;
} moderators_of;

/* Who may moderate the channel: staff, chat.moderate, its broadcaster or channel moderators. */
static bool
may_moderate(pd_conn *c, void *arg)
{
    moderators_of *m = arg;
    gl_user full;
    const gl_user *u = pd_user_expand(c->user, &full);
    return gl_acl_may_moderate(u) ||
           pd_modstate_standing(m->srv, m->channel, u) >= GL_STANDING_MODERATOR;
}

static uint32_t
deliver_moderators_local(pd_fanout *self, const char *channel, pd_frame *f)
{
    pd_fanout_local *fl = (pd_fanout_local *)self;
    pd_channel *ch = pd_channel_find(fl->srv, channel);
    moderators_of m = {fl->srv, channel};

    return ch != NULL ? pd_channel_send_where(ch, f, may_moderate, &m) : 0;
}

static void
reloaded_local(pd_fanout *self, const char *channel)
{
    (void)self, (void)channel;
}

void
pd_fanout_local_init(pd_fanout_local *fl, pd_server *srv)
{
    fl->ops.deliver = deliver_local;
    fl->ops.deliver_moderators = deliver_moderators_local;
    fl->ops.reloaded = reloaded_local;
    fl->srv = srv;
}
