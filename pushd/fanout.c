/* The fan-out of one node (fanout.h): the channel table's own subscribers. */
#include "fanout.h"
#include "channel.h"

static uint32_t
deliver_local(pd_fanout *self, const char *channel, pd_frame *f, int64_t msg_id)
{
    pd_fanout_local *fl = (pd_fanout_local *)self;
    pd_channel *ch = pd_channel_find(fl->srv, channel);

    if (ch == NULL) return 0;
    pd_channel_fanout(ch, f, msg_id);
    return pd_channel_count(ch).subscribers;
}

void
pd_fanout_local_init(pd_fanout_local *fl, pd_server *srv)
{
    fl->ops.deliver = deliver_local;
    fl->srv = srv;
}
