/* golive-loadgen's run: connect and subscribe N clients, hold them idle, then publish at each
 * rate for a fixed time and print one JSON line per rate. See tests/bench/README.md. */
#include "lg.h"
#include "shared/jwt.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SETUP_TIMEOUT_S 120

static void
usage(void)
{
    fputs("usage: golive-loadgen --url ws://HOST:PORT/PATH [options]\n"
          "  --conns N --channels C --channel-prefix P --window W --sources 127.0.0.2-9\n"
          "  --subscribe JSON --ready-match TEXT --token-secret S --settle SECS --idle SECS\n"
          "  --pub-http URL --pub-body TMPL --pub-header 'H: v' --pub-conns K\n"
          "  --pub-ws JSON --pub-token TOKEN --rates R1,R2 --duration SECS --drain SECS\n"
          "  --pids P1,P2 --rss-pids P1 --label NAME --listen SECS (receive only)\n"
          "Templates expand {ch}, {ts} and {seq}; a message must carry \"lgts\":{ts}.\n",
          stderr);
    exit(2);
}

static double
secs(uint64_t us)
{
    return (double)us / 1e6;
}

static int
parse_hostport(const char *s, const char *scheme, struct sockaddr_in *dst, char *host, size_t hcap,
               char *path, size_t pcap)
{
    size_t sl = strlen(scheme);
    const char *hp, *slash, *colon;
    char ip[64];

    if (strncmp(s, scheme, sl) != 0) return -1;
    hp = s + sl;
    slash = strchr(hp, '/');
    if (slash == NULL) slash = hp + strlen(hp);
    snprintf(host, hcap, "%.*s", (int)(slash - hp), hp);
    snprintf(path, pcap, "%s", *slash ? slash : "/");
    if ((colon = strchr(host, ':')) == NULL) return -1;
    snprintf(ip, sizeof(ip), "%.*s", (int)(colon - host), host);
    if (strcmp(ip, "localhost") == 0) snprintf(ip, sizeof(ip), "127.0.0.1");
    dst->sin_family = AF_INET;
    dst->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, ip, &dst->sin_addr) == 1 ? 0 : -1;
}

static int
parse_list_int(const char *s, int *out, int max)
{
    int n = 0;
    for (char *end; *s != '\0' && n < max; s = *end ? end + 1 : end)
        out[n++] = (int)strtol(s, &end, 10);
    return n;
}

/* "127.0.0.2-9": sources 127.0.0.2 to 127.0.0.9. */
static int
parse_sources(lg_opts *o, const char *s)
{
    unsigned a, b, c, d, last;
    int n = sscanf(s, "%u.%u.%u.%u-%u", &a, &b, &c, &d, &last);
    if (n < 4 || a != 127 || d > 255) return -1;
    if (n == 4) last = d;
    if (last < d || last - d >= LG_MAX_SOURCES || last > 255) return -1;
    for (unsigned i = d; i <= last; i++)
        o->sources[o->nsources++].s_addr = htonl(a << 24 | b << 16 | c << 8 | i);
    return 0;
}

static void
parse_opts(lg_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", 1, 0, 'u'},
        {"conns", 1, 0, 'n'},
        {"channels", 1, 0, 'c'},
        {"channel-prefix", 1, 0, 'P'},
        {"window", 1, 0, 'w'},
        {"sources", 1, 0, 's'},
        {"subscribe", 1, 0, 'S'},
        {"ready-match", 1, 0, 'R'},
        {"token-secret", 1, 0, 'T'},
        {"settle", 1, 0, 'e'},
        {"idle", 1, 0, 'i'},
        {"pub-http", 1, 0, 'H'},
        {"pub-body", 1, 0, 'b'},
        {"pub-header", 1, 0, 'h'},
        {"pub-conns", 1, 0, 'k'},
        {"pub-ws", 1, 0, 'W'},
        {"pub-token", 1, 0, 't'},
        {"rates", 1, 0, 'r'},
        {"duration", 1, 0, 'd'},
        {"drain", 1, 0, 'D'},
        {"pids", 1, 0, 'p'},
        {"rss-pids", 1, 0, 'm'},
        {"label", 1, 0, 'l'},
        {"listen", 1, 0, 'L'},
        {0, 0, 0, 0},
    };
    int ch;

    *o = (lg_opts){.conns = 1000,
                   .channels = 1,
                   .window = 1000,
                   .channel_prefix = "bench",
                   .ready_match = "\"type\":\"subscribe\"",
                   .pub_conns = 4,
                   .pub_body_tmpl = "{\"lgts\":{ts},\"seq\":{seq}}",
                   .duration_s = 5,
                   .drain_s = 5,
                   .label = "run"};
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            o->url = optarg;
            break;
        case 'n':
            o->conns = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'c':
            o->channels = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'P':
            o->channel_prefix = optarg;
            break;
        case 'w':
            o->window = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 's':
            if (parse_sources(o, optarg) != 0) usage();
            break;
        case 'S':
            o->subscribe_tmpl = optarg;
            break;
        case 'R':
            o->ready_match = optarg;
            break;
        case 'T':
            o->token_secret = optarg;
            break;
        case 'L':
            o->listen_s = strtod(optarg, NULL);
            break;
        case 'e':
            o->settle_s = atof(optarg);
            break;
        case 'i':
            o->idle_s = atof(optarg);
            break;
        case 'H':
            o->pub_http = optarg;
            break;
        case 'b':
            o->pub_body_tmpl = optarg;
            break;
        case 'h':
            if (o->npub_headers == LG_MAX_HEADERS) usage();
            o->pub_headers[o->npub_headers++] = optarg;
            break;
        case 'k':
            o->pub_conns = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'W':
            o->pub_ws_tmpl = optarg;
            break;
        case 't':
            o->pub_token = optarg;
            break;
        case 'r':
            for (char *s = optarg, *end; *s && o->nrates < LG_MAX_STEPS; s = *end ? end + 1 : end)
                o->rates[o->nrates++] = strtod(s, &end);
            break;
        case 'd':
            o->duration_s = atof(optarg);
            break;
        case 'D':
            o->drain_s = atof(optarg);
            break;
        case 'p':
            o->npids = parse_list_int(optarg, o->pids, LG_MAX_PIDS);
            break;
        case 'm':
            o->nrss_pids = parse_list_int(optarg, o->rss_pids, LG_MAX_PIDS);
            break;
        case 'l':
            o->label = optarg;
            break;
        default:
            usage();
        }
    }
    if (o->url == NULL || o->conns == 0 || o->channels == 0 || o->window == 0 ||
        parse_hostport(o->url, "ws://", &o->dst, o->host, sizeof(o->host), o->path_tmpl,
                       sizeof(o->path_tmpl)) != 0)
        usage();
    if (o->pub_http != NULL &&
        parse_hostport(o->pub_http, "http://", &o->pub_dst, o->pub_host, sizeof(o->pub_host),
                       o->pub_path_tmpl, sizeof(o->pub_path_tmpl)) != 0)
        usage();
    if (o->nrates > 0 && o->pub_http == NULL && o->pub_ws_tmpl == NULL) usage();
    if (o->nsources == 0) parse_sources(o, "127.0.0.1");
    if (o->nrss_pids == 0) {
        memcpy(o->rss_pids, o->pids, sizeof(o->pids));
        o->nrss_pids = o->npids;
    }
}

/* One token per subscriber (sub and username "u<i>"), minted here so that tokens cost the
 * server a verification, as real ones do. */
static void
mint_tokens(lg_run *r)
{
    r->tokens = calloc(r->o->conns, sizeof(*r->tokens));
    for (uint32_t i = 0; r->tokens != NULL && i < r->o->conns; i++) {
        char sub[32];
        gl_jwt_claims cl = {.sub = sub,
                            .username = sub,
                            .role = "user",
                            .iat = (int64_t)time(NULL),
                            .exp = (int64_t)time(NULL) + 86400};
        gl_err err;
        snprintf(sub, sizeof(sub), "u%u", i);
        if (gl_jwt_mint(r->o->token_secret, &cl, &r->tokens[i], &err) != GL_OK) {
            fprintf(stderr, "loadgen: cannot mint a token: %s\n", err.msg);
            exit(1);
        }
    }
    if (r->tokens == NULL) exit(1);
}

static void
service(lg_run *r, int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(r->ep, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++)
        lg_net_event(r, evs[i].data.ptr, evs[i].events);
}

static void
service_for(lg_run *r, double secs)
{
    uint64_t until = lg_now_us() + (uint64_t)(secs * 1e6);
    for (uint64_t now; (now = lg_now_us()) < until;)
        service(r, (int)((until - now) / 1000 + 1));
}

/* Returns the setup time in µs (first connect to last subscription). */
static uint64_t
connect_all(lg_run *r)
{
    const lg_opts *o = r->o;
    uint64_t t0 = lg_now_us(), deadline = t0 + SETUP_TIMEOUT_S * 1000000u, last = t0;
    uint32_t next = 0;

    while (r->ready + r->failed < o->conns && lg_now_us() < deadline) {
        while (next < o->conns && r->in_setup < o->window) {
            lg_conn *c = &r->subs[next];
            c->kind = LG_SUB;
            c->index = next;
            c->ch = next % o->channels;
            r->subs_per_ch[c->ch]++;
            next++;
            r->in_setup++;
            if (lg_net_connect(r, c) != 0) {
                r->in_setup--;
                r->failed++;
            }
        }
        uint32_t before = r->ready;
        service(r, 10);
        if (r->ready != before) last = lg_now_us();
    }
    /* Subscribers that are not ready now will get nothing: expect nothing for them. */
    for (uint32_t i = 0; i < next; i++)
        if (r->subs[i].state != LG_READY) r->subs_per_ch[r->subs[i].ch]--;
    return last - t0;
}

static void
connect_publishers(lg_run *r)
{
    const lg_opts *o = r->o;
    uint64_t deadline = lg_now_us() + 10000000u;
    uint32_t n = o->pub_conns;

    r->pubs = calloc(n, sizeof(*r->pubs));
    if (r->pubs == NULL) exit(1);
    r->npubs = n;
    for (uint32_t i = 0; i < n; i++) {
        r->pubs[i].kind = o->pub_http ? LG_HTTP_PUB : LG_WS_PUB;
        r->pubs[i].index = i;
        if (lg_net_connect(r, &r->pubs[i]) != 0) {
            fprintf(stderr, "loadgen: cannot connect the publisher\n");
            exit(1);
        }
    }
    for (uint32_t i = 0; i < n; i++)
        while (r->pubs[i].state != LG_READY && lg_now_us() < deadline) {
            if (r->pubs[i].state == LG_CLOSED) break;
            service(r, 10);
        }
    for (uint32_t i = 0; i < n; i++)
        if (r->pubs[i].state != LG_READY) {
            fprintf(stderr, "loadgen: the publisher could not connect\n");
            exit(1);
        }
}

static uint64_t pub_seq;
static uint32_t pub_channel;

/* Send one publish on c now. */
static void
publish_on(lg_run *r, lg_conn *c)
{
    const lg_opts *o = r->o;
    char ch[96], body[4096], path[512], req[8192];
    uint64_t seq = pub_seq++;
    uint32_t chi = pub_channel++ % o->channels;
    int bl, n, hl;

    lg_channel_name(o, chi, ch, sizeof(ch));
    if (c->kind == LG_WS_PUB) {
        bl = lg_expand(o->pub_ws_tmpl, ch, lg_now_us(), seq, body, sizeof(body));
        if (bl < 0 || lg_net_send_text(r, c, body, (size_t)bl) != 0) r->pub_err++;
        r->pub_sent++;
        r->expected += r->subs_per_ch[chi];
        return;
    }
    bl = lg_expand(o->pub_body_tmpl, ch, lg_now_us(), seq, body, sizeof(body));
    if (bl < 0 || lg_expand(o->pub_path_tmpl, ch, 0, seq, path, sizeof(path)) < 0) exit(2);
    n = snprintf(req, sizeof(req),
                 "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n",
                 path, o->pub_host, bl);
    if (o->pub_token)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "Authorization: Bearer %s\r\n",
                      o->pub_token);
    for (int i = 0; i < o->npub_headers; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", o->pub_headers[i]);
    hl = snprintf(req + n, sizeof(req) - (size_t)n, "\r\n%s", body);
    if (hl < 0 || (size_t)(n + hl) >= sizeof(req)) exit(2);
    c->busy = true;
    c->ch = chi;
    r->pub_sent++;
    if (lg_net_send(r, c, req, (size_t)(n + hl)) != 0) r->pub_err++;
}

void
lg_pub_idle(lg_run *r, lg_conn *c)
{
    if (r->pub_backlog > 0 && !c->busy && c->state == LG_READY) {
        r->pub_backlog--;
        publish_on(r, c);
    }
}

/* The next publisher in turn that may send: WebSocket ones always (as many chatters would),
 * HTTP ones when their last request was answered. */
static void
publish_one(lg_run *r)
{
    static uint32_t turn;

    for (uint32_t k = 0; k < r->npubs; k++) {
        lg_conn *c = &r->pubs[turn++ % r->npubs];
        if (c->state == LG_READY && (c->kind == LG_WS_PUB || !c->busy)) {
            publish_on(r, c);
            return;
        }
    }
    r->pub_backlog++; /* every HTTP publisher is waiting for an answer */
}

static void
print_common(lg_run *r, uint64_t setup_us, uint64_t rss0, uint64_t rss1)
{
    const lg_opts *o = r->o;
    double per_conn = r->ready ? ((double)rss1 - (double)rss0) / r->ready : 0;
    printf("{\"label\":\"%s\",\"conns\":%u,\"channels\":%u,\"connected\":%u,\"failed\":%u,"
           "\"closed\":%u,\"setup_s\":%.3f,\"setup_per_s\":%.0f,\"rss_base\":%llu,"
           "\"rss_conns\":%llu,\"rss_per_conn\":%.0f",
           o->label, o->conns, o->channels, r->ready, r->failed, r->closed, secs(setup_us),
           setup_us ? r->ready / secs(setup_us) : 0, (unsigned long long)rss0,
           (unsigned long long)rss1, per_conn);
}

static void
run_step(lg_run *r, double rate, uint64_t setup_us, uint64_t rss0, uint64_t rss1)
{
    const lg_opts *o = r->o;
    uint64_t interval = (uint64_t)(1e6 / rate), t0, next, end, cpu0, cpu1, until;

    r->expected = r->received = r->stray = r->late = 0;
    r->pub_sent = r->pub_ok = r->pub_err = r->pub_backlog = 0;
    r->last_rx_us = 0;
    lg_samples_reset(&r->lat);
    cpu0 = lg_proc_cpu_us(o->pids, o->npids);
    t0 = next = r->step_t0_us = lg_now_us();
    end = t0 + (uint64_t)(o->duration_s * 1e6);
    for (uint64_t now; (now = lg_now_us()) < end;) {
        while (next <= now && next < end) {
            publish_one(r);
            next += interval;
        }
        service(r, (int)((next > now ? next - now : 0) / 1000));
    }
    /* Drain: wait for stragglers, publishes still queued and their answers. */
    until = lg_now_us() + (uint64_t)(o->drain_s * 1e6);
    while (lg_now_us() < until && (r->received < r->expected || r->pub_backlog > 0 ||
                                   r->pub_ok + r->pub_err < r->pub_sent))
        service(r, 5);
    cpu1 = lg_proc_cpu_us(o->pids, o->npids);
    double span = secs((r->last_rx_us > t0 ? r->last_rx_us : lg_now_us()) - t0);
    print_common(r, setup_us, rss0, rss1);
    printf(
        ",\"rate\":%g,\"duration_s\":%g,\"published\":%llu,\"pub_ok\":%llu,\"pub_err\":%llu,"
        "\"expected\":%llu,\"received\":%llu,\"loss\":%lld,\"late\":%llu,\"delivered_per_s\":%.0f,"
        "\"lat_us\":{\"p50\":%u,\"p99\":%u,\"p999\":%u,\"max\":%u},\"cpu_s\":%.3f,"
        "\"cpu_us_per_msg\":%.3f}\n",
        rate, o->duration_s, (unsigned long long)r->pub_sent, (unsigned long long)r->pub_ok,
        (unsigned long long)r->pub_err, (unsigned long long)r->expected,
        (unsigned long long)r->received, (long long)(r->expected - r->received),
        (unsigned long long)r->late, span > 0 ? (double)r->received / span : 0,
        lg_samples_quantile(&r->lat, 0.5), lg_samples_quantile(&r->lat, 0.99),
        lg_samples_quantile(&r->lat, 0.999), lg_samples_quantile(&r->lat, 1.0), secs(cpu1 - cpu0),
        r->received ? (double)(cpu1 - cpu0) / (double)r->received : 0);
    fflush(stdout);
}

/* Everything the run holds, so that a sanitizer build reports real leaks only. */
static void
free_run(lg_run *r)
{
    for (uint32_t i = 0; i < r->o->conns; i++)
        lg_conn_free(&r->subs[i]);
    for (uint32_t i = 0; i < r->npubs; i++)
        lg_conn_free(&r->pubs[i]);
    for (uint32_t i = 0; r->tokens != NULL && i < r->o->conns; i++)
        free(r->tokens[i]);
    free(r->tokens);
    free(r->subs);
    free(r->pubs);
    free(r->subs_per_ch);
    free(r->lat.v);
    close(r->ep);
}

int
main(int argc, char **argv)
{
    lg_opts o;
    lg_run r = {0};
    int status;
    struct rlimit rl;
    uint64_t setup_us, rss0, rss1;

    parse_opts(&o, argc, argv);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    r.o = &o;
    if ((r.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) return 1;
    r.subs = calloc(o.conns, sizeof(*r.subs));
    r.subs_per_ch = calloc(o.channels, sizeof(*r.subs_per_ch));
    if (r.subs == NULL || r.subs_per_ch == NULL) return 1;
    for (uint32_t i = 0; i < o.conns; i++)
        r.subs[i].fd = -1;
    if (o.token_secret != NULL) mint_tokens(&r);
    rss0 = lg_proc_rss(o.rss_pids, o.nrss_pids);

    setup_us = connect_all(&r);
    fprintf(stderr, "loadgen: %s: %u of %u subscribed in %.2f s (%u failed)\n", o.label, r.ready,
            o.conns, secs(setup_us), r.failed);
    service_for(&r, o.settle_s);
    rss1 = lg_proc_rss(o.rss_pids, o.nrss_pids);
    if (o.idle_s > 0) {
        uint64_t cpu0 = lg_proc_cpu_us(o.pids, o.npids);
        service_for(&r, o.idle_s);
        rss1 = lg_proc_rss(o.rss_pids, o.nrss_pids);
        print_common(&r, setup_us, rss0, rss1);
        printf(",\"idle_s\":%g,\"idle_cpu_s\":%.3f}\n", o.idle_s,
               secs(lg_proc_cpu_us(o.pids, o.npids) - cpu0));
        fflush(stdout);
    }
    if (o.listen_s > 0) {
        /* Subscribers only: what another process publishes (a cluster's other node). */
        uint64_t cpu0 = lg_proc_cpu_us(o.pids, o.npids);
        r.received = r.late = 0;
        r.step_t0_us = lg_now_us();
        lg_samples_reset(&r.lat);
        service_for(&r, o.listen_s);
        print_common(&r, setup_us, rss0, rss1);
        printf(",\"listen_s\":%g,\"received\":%llu,\"lat_us\":{\"p50\":%u,\"p99\":%u,"
               "\"p999\":%u,\"max\":%u},\"cpu_s\":%.3f}\n",
               o.listen_s, (unsigned long long)r.received, lg_samples_quantile(&r.lat, 0.5),
               lg_samples_quantile(&r.lat, 0.99), lg_samples_quantile(&r.lat, 0.999),
               lg_samples_quantile(&r.lat, 1.0), secs(lg_proc_cpu_us(o.pids, o.npids) - cpu0));
        fflush(stdout);
    }
    if (o.nrates > 0) connect_publishers(&r);
    for (int i = 0; i < o.nrates; i++) {
        run_step(&r, o.rates[i], setup_us, rss0, rss1);
        fprintf(stderr, "loadgen: %s: rate %g done\n", o.label, o.rates[i]);
    }
    if (o.nrates == 0 && o.idle_s <= 0 && o.listen_s <= 0) {
        print_common(&r, setup_us, rss0, rss1);
        printf("}\n");
    }
    status = r.ready == o.conns ? 0 : 3;
    free_run(&r);
    return status;
}
