/* Unit tests for shared/map.c: put, get, replace, delete and iteration, checked against a plain
 * reference array over many keys, so that a wrong backward shift on delete (an entry moved out
 * of reach of its probe run) shows up as a lost or phantom key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/err.h"
#include "shared/map.h"

#define NKEYS 10000
#define KEY_MAX 16

/* Keys live here for the whole test: the map only borrows them. */
static char keys[NKEYS][KEY_MAX];

static int
setup_keys(void **state)
{
    (void)state;
    for (int i = 0; i < NKEYS; i++)
        snprintf(keys[i], KEY_MAX, "key:%d", i);
    return 0;
}

/* A small deterministic generator, so that a failure replays. */
static uint32_t
lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void *
val_of(size_t i)
{
    return &keys[i];
}

/* Every key is in m exactly when present[i], with its own value, and len agrees. */
static void
check_all(const gl_map *m, const bool *present, size_t n)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        void *v = gl_map_get(m, keys[i]);
        if (present[i]) {
            count++;
            if (v != val_of(i)) fail_msg("key %s lost (got %p)", keys[i], v);
        } else if (v != NULL) {
            fail_msg("deleted key %s still found", keys[i]);
        }
    }
    assert_int_equal(m->len, count);
}

static void
test_map_empty_map_finds_nothing(void **state)
{
    gl_map m = {0};
    size_t it = 0;

    (void)state;
    assert_null(gl_map_get(&m, "a"));
    assert_null(gl_map_del(&m, "a"));
    assert_null(gl_map_next(&m, &it));
    assert_int_equal(m.len, 0);
    gl_map_free(&m);
    assert_null(m.slots);
}

static void
test_map_put_then_get_returns_the_value(void **state)
{
    gl_map m = {0};
    int a = 1, b = 2;

    (void)state;
    assert_int_equal(gl_map_put(&m, "alpha", &a), GL_OK);
    assert_int_equal(gl_map_put(&m, "beta", &b), GL_OK);
    assert_int_equal(m.len, 2);
    assert_ptr_equal(gl_map_get(&m, "alpha"), &a);
    assert_ptr_equal(gl_map_get(&m, "beta"), &b);
    assert_null(gl_map_get(&m, "gamma"));
    assert_null(gl_map_get(&m, ""));
    gl_map_free(&m);
}

static void
test_map_put_of_an_existing_key_replaces_its_value(void **state)
{
    gl_map m = {0};
    char copy[] = "alpha";
    int a = 1, b = 2;
    size_t it = 0;
    gl_map_entry *e;

    (void)state;
    assert_int_equal(gl_map_put(&m, "alpha", &a), GL_OK);
    assert_int_equal(gl_map_put(&m, copy, &b), GL_OK);
    assert_int_equal(m.len, 1);
    assert_ptr_equal(gl_map_get(&m, "alpha"), &b);
    // The entry now borrows the newer key.
    e = gl_map_next(&m, &it);
    assert_non_null(e);
    assert_ptr_equal(e->key, copy);
    assert_null(gl_map_next(&m, &it));
    gl_map_free(&m);
}

static void
test_map_del_returns_the_value_once(void **state)
{
    gl_map m = {0};
    int a = 1, b = 2;

    (void)state;
    assert_int_equal(gl_map_put(&m, "alpha", &a), GL_OK);
    assert_int_equal(gl_map_put(&m, "beta", &b), GL_OK);
    assert_ptr_equal(gl_map_del(&m, "alpha"), &a);
    assert_null(gl_map_del(&m, "alpha"));
    assert_null(gl_map_get(&m, "alpha"));
    assert_ptr_equal(gl_map_get(&m, "beta"), &b);
    assert_null(gl_map_del(&m, "missing"));
    assert_int_equal(m.len, 1);
    assert_ptr_equal(gl_map_del(&m, "beta"), &b);
    assert_int_equal(m.len, 0);
    assert_null(gl_map_get(&m, "beta"));
    // Emptied, the map takes keys again.
    assert_int_equal(gl_map_put(&m, "alpha", &b), GL_OK);
    assert_ptr_equal(gl_map_get(&m, "alpha"), &b);
    gl_map_free(&m);
}

static void
test_map_keeps_load_at_or_below_three_quarters(void **state)
{
    gl_map m = {0};

    (void)state;
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
        assert_true(m.len * 4 <= m.cap * 3);
        assert_true(m.cap <= 8 || m.len * 8 > m.cap * 3); /* and above 3/8 once grown */
        assert_int_equal(m.cap & (m.cap - 1), 0);
    }
    gl_map_free(&m);
}

static void
test_map_small_maps_keep_every_key_through_shuffled_deletes(void **state)
{
    bool present[64];
    uint32_t seed = 7;

    (void)state;
    for (size_t n = 1; n <= 64; n++) {
        for (int round = 0; round < 4; round++) {
            gl_map m = {0};
            size_t order[64];

            for (size_t i = 0; i < n; i++) {
                assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
                present[i] = true;
                order[i] = i;
            }
            for (size_t i = n; i > 1; i--) {
                size_t j = lcg(&seed) % i, t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
            for (size_t i = 0; i < n; i++) {
                assert_ptr_equal(gl_map_del(&m, keys[order[i]]), val_of(order[i]));
                present[order[i]] = false;
                check_all(&m, present, n);
            }
            gl_map_free(&m);
        }
    }
}

static void
test_map_many_keys_with_interleaved_deletes_match_a_reference(void **state)
{
    static bool present[NKEYS];
    gl_map m = {0};
    uint32_t seed = 12345;

    (void)state;
    memset(present, 0, sizeof(present));
    for (size_t i = 0; i < NKEYS; i++) {
        assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
        present[i] = true;
    }
    check_all(&m, present, NKEYS);
    for (int op = 1; op <= 200000; op++) {
        size_t i = lcg(&seed) % NKEYS;
        if (!present[i]) {
            assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
            present[i] = true;
        } else if (lcg(&seed) % 3 != 0) {
            assert_ptr_equal(gl_map_del(&m, keys[i]), val_of(i));
            present[i] = false;
            assert_null(gl_map_get(&m, keys[i]));
        } else {
            assert_ptr_equal(gl_map_get(&m, keys[i]), val_of(i));
        }
        if (op % 1000 == 0) check_all(&m, present, NKEYS);
    }
    // Drain in key order, checking everything left after each batch.
    for (size_t i = 0; i < NKEYS; i++) {
        assert_ptr_equal(gl_map_del(&m, keys[i]), present[i] ? val_of(i) : NULL);
        present[i] = false;
        if (i % 500 == 0) check_all(&m, present, NKEYS);
    }
    check_all(&m, present, NKEYS);
    assert_int_equal(m.len, 0);
    gl_map_free(&m);
}

static void
test_map_iteration_visits_each_key_once(void **state)
{
    static bool seen[NKEYS];
    gl_map m = {0};
    size_t it = 0, count = 0;
    gl_map_entry *e;

    (void)state;
    memset(seen, 0, sizeof(seen));
    for (size_t i = 0; i < NKEYS; i++)
        assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
    for (size_t i = 0; i < NKEYS; i += 3)
        assert_ptr_equal(gl_map_del(&m, keys[i]), val_of(i));
    while ((e = gl_map_next(&m, &it)) != NULL) {
        size_t i = (size_t)((char(*)[KEY_MAX])e->val - keys);
        assert_true(i < NKEYS);
        assert_ptr_equal(e->key, keys[i]);
        assert_false(seen[i]);
        assert_true(i % 3 != 0);
        seen[i] = true;
        count++;
    }
    assert_int_equal(count, m.len);
    assert_int_equal(count, NKEYS - (NKEYS + 2) / 3);
    gl_map_free(&m);
}

static void
test_map_free_empties_the_map_for_reuse(void **state)
{
    gl_map m = {0};

    (void)state;
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
    gl_map_free(&m);
    assert_null(m.slots);
    assert_int_equal(m.cap, 0);
    assert_int_equal(m.len, 0);
    assert_null(gl_map_get(&m, keys[0]));
    assert_int_equal(gl_map_put(&m, keys[0], val_of(0)), GL_OK);
    assert_ptr_equal(gl_map_get(&m, keys[0]), val_of(0));
    gl_map_free(&m);
    gl_map_free(&m);
}

static void
test_map_works_the_same_with_a_random_seed(void **state)
{
    static bool present[NKEYS];
    gl_map m = {0};
    uint32_t seed = 99;

    (void)state;
    gl_map_seed();
    memset(present, 0, sizeof(present));
    for (int op = 0; op < 50000; op++) {
        size_t i = lcg(&seed) % 2000;
        if (present[i]) {
            assert_ptr_equal(gl_map_del(&m, keys[i]), val_of(i));
            present[i] = false;
        } else {
            assert_int_equal(gl_map_put(&m, keys[i], val_of(i)), GL_OK);
            present[i] = true;
        }
        if (op % 500 == 0) check_all(&m, present, 2000);
    }
    check_all(&m, present, 2000);
    gl_map_free(&m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_empty_map_finds_nothing),
        cmocka_unit_test(test_map_put_then_get_returns_the_value),
        cmocka_unit_test(test_map_put_of_an_existing_key_replaces_its_value),
        cmocka_unit_test(test_map_del_returns_the_value_once),
        cmocka_unit_test(test_map_keeps_load_at_or_below_three_quarters),
        cmocka_unit_test(test_map_small_maps_keep_every_key_through_shuffled_deletes),
        cmocka_unit_test(test_map_many_keys_with_interleaved_deletes_match_a_reference),
        cmocka_unit_test(test_map_iteration_visits_each_key_once),
        cmocka_unit_test(test_map_free_empties_the_map_for_reuse),
        // Last: it re-keys the hash for the rest of the process.
        cmocka_unit_test(test_map_works_the_same_with_a_random_seed),
    };

    return cmocka_run_group_tests_name("map", tests, setup_keys, NULL);
}
