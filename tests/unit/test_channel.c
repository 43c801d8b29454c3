/* Unit tests for pushd/channel.c's bookkeeping that no client can provoke at will: a subscribe
 * that runs out of memory must leave the per-namespace client count as it found it (it used to
 * stay raised when the channel itself could not be created, filling the namespace for good).
 * Memory failure is injected with the linker's --wrap=strdup (channel_create copies the name). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pushd/channel.h"
#include "shared/acl.h"
#include "shared/config.h"

static bool fail_strdup;

char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);

char *
__wrap_strdup(const char *s)
{
    return fail_strdup ? NULL : __real_strdup(s);
}

static const char yaml[] = "namespaces:\n"
                           "  - name: chat\n"
                           "    max_clients: 1\n"
                           "channels:\n"
                           "  - pattern: \"chat:*\"\n"
                           "    namespace: chat\n";

typedef struct fixture {
    pd_server srv;
    pd_conn a, b;
    gl_policy pol;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gl_err err;

    assert_non_null(f);
    assert_int_equal(gl_config_parse(yaml, sizeof(yaml) - 1, "test.yaml", &f->srv.cfg, &err),
                     GL_OK);
    gl_policy_resolve(f->srv.cfg, "chat:a", NULL, &f->pol);
    assert_non_null(f->pol.ns);
    f->a.refs = f->b.refs = 1; /* anonymous, no socket: nothing is sent */
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    pd_channel_unsubscribe_all(&f->srv, &f->a);
    pd_channel_unsubscribe_all(&f->srv, &f->b);
    gl_map_free(&f->srv.channels);
    gl_map_free(&f->srv.ns_clients);
    gl_config_destroy(f->srv.cfg);
    free(f);
    return 0;
}

static void
test_a_failed_subscribe_leaves_the_namespace_count_alone(void **state)
{
    fixture *f = *state;
    gl_err err;

    fail_strdup = true;
    assert_int_equal(pd_channel_subscribe(&f->srv, &f->a, "chat:a", &f->pol, 0, &err), GL_ENOMEM);
    fail_strdup = false;
    assert_null(pd_channel_find(&f->srv, "chat:a"));
    /* the namespace holds one client: the failed one must not have taken the place */
    assert_int_equal(pd_channel_subscribe(&f->srv, &f->b, "chat:b", &f->pol, 0, &err), GL_OK);
}

static void
test_the_namespace_cap_still_holds(void **state)
{
    fixture *f = *state;
    gl_err err;

    assert_int_equal(pd_channel_subscribe(&f->srv, &f->a, "chat:a", &f->pol, 0, &err), GL_OK);
    assert_int_equal(pd_channel_subscribe(&f->srv, &f->b, "chat:b", &f->pol, 0, &err), GL_ERATE);
    assert_non_null(strstr(err.msg, "namespace chat is full"));
    /* a second channel in the same namespace does not count the connection twice */
    assert_int_equal(pd_channel_subscribe(&f->srv, &f->a, "chat:c", &f->pol, 0, &err), GL_OK);
    assert_int_equal(pd_channel_count(pd_channel_find(&f->srv, "chat:c")).anonymous, 1);
    assert_int_equal(pd_channel_unsubscribe(&f->srv, &f->a, "chat:a", &err), GL_OK);
    assert_int_equal(pd_channel_unsubscribe(&f->srv, &f->a, "chat:c", &err), GL_OK);
    assert_int_equal(pd_channel_subscribe(&f->srv, &f->b, "chat:b", &f->pol, 0, &err), GL_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_failed_subscribe_leaves_the_namespace_count_alone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_namespace_cap_still_holds, setup, teardown),
    };

    return cmocka_run_group_tests_name("channel", tests, NULL, NULL);
}
