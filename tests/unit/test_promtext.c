/* Unit tests for shared/promtext.c: the text grows past its first block, HELP/TYPE lines come
 * as Prometheus expects them, and free leaves an empty text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shared/promtext.h"

static void
test_text_grows_and_family_lines_read_as_prometheus_wants(void **state)
{
    gl_text t = {NULL, 0, 0, false};

    (void)state;
    gl_prom_family(&t, "golive_x_total", "counter", "Things.");
    gl_text_printf(&t, "golive_x_total %d\n", 3);
    assert_false(t.failed);
    assert_string_equal(t.p, "# HELP golive_x_total Things.\n# TYPE golive_x_total counter\n"
                             "golive_x_total 3\n");
    for (int i = 0; i < 5000; i++)
        gl_text_printf(&t, "line %d\n", i);
    assert_false(t.failed);
    assert_non_null(strstr(t.p, "line 4999\n"));
    assert_int_equal(t.len, strlen(t.p));
    gl_text_free(&t);
    assert_null(t.p);
    assert_int_equal(t.len, 0);
}

static void
test_labeled_counter_prints_a_sample_per_label_value(void **state)
{
    gl_text t = {NULL, 0, 0, false};

    (void)state;
    gl_prom_labeled(&t, "golive_y_total", "Ys.", "kind",
                    (const gl_prom_value[]){{"busy", 2}, {"io", 0}}, 2);
    assert_string_equal(t.p, "# HELP golive_y_total Ys.\n# TYPE golive_y_total counter\n"
                             "golive_y_total{kind=\"busy\"} 2\ngolive_y_total{kind=\"io\"} 0\n");
    gl_text_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_grows_and_family_lines_read_as_prometheus_wants),
        cmocka_unit_test(test_labeled_counter_prints_a_sample_per_label_value),
    };

    return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
