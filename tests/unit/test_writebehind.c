/* test_writebehind.c - the write-behind keeps each file's bytes in order,
 * switches files mid-slot, and reports a failed write. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool/writebehind.h"
#include "suites.h"

static int tmp_file(char *path)
{
    int fd;

    strcpy(path, "/tmp/rr-wb-XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* The whole file at path, which must be len bytes. */
static void check_file(const char *path, const unsigned char *want,
                       size_t len)
{
    unsigned char *got = malloc(len + 1);
    FILE *f = fopen(path, "rb");

    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(got, 1, len + 1, f), len);
    ck_assert(memcmp(got, want, len) == 0);
    fclose(f);
    free(got);
}

START_TEST(wb_two_files_in_order)
{
    /* Spans of odd sizes, alternating files, through 3 slots of 1000
     * bytes: slots fill, split spans and change file mid-slot. */
    enum { N = 200000 };
    unsigned char *a = malloc(N), *b = malloc(N);
    char pa[32], pb[32];
    int fa = tmp_file(pa), fb = tmp_file(pb);
    size_t oa = 0, ob = 0, step = 1;
    struct wb *w = wb_new(1000, 3);

    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < N; i++) {
        a[i] = (unsigned char)(i * 7 + 1);
        b[i] = (unsigned char)(i * 13 + 5);
    }
    while (oa < N || ob < N) {
        size_t na = step % 2311, nb = (step * 3) % 1777;
        if (na > N - oa)
            na = N - oa;
        if (nb > N - ob)
            nb = N - ob;
        ck_assert_int_eq(wb_write(w, fa, a + oa, na), 0);
        ck_assert_int_eq(wb_write(w, fb, b + ob, nb), 0);
        oa += na;
        ob += nb;
        step = step * 5 + 3;
    }
    ck_assert_int_eq(wb_flush(w), 0);
    check_file(pa, a, N);
    check_file(pb, b, N);
    /* Usable again after a flush. */
    ck_assert_int_eq(wb_write(w, fa, "xyz", 3), 0);
    ck_assert_int_eq(wb_flush(w), 0);
    ck_assert_int_eq(lseek(fa, 0, SEEK_END), N + 3);
    wb_free(w);
    close(fa);
    close(fb);
    unlink(pa);
    unlink(pb);
    free(a);
    free(b);
}
END_TEST

START_TEST(wb_reports_failure)
{
    char path[32];
    int fd = tmp_file(path), ro;
    struct wb *w = wb_new(64, 2);
    char data[256];
    int rc = 0;

    ck_assert_ptr_nonnull(w);
    memset(data, 'x', sizeof(data));
    ro = open(path, O_RDONLY);
    ck_assert_int_ge(ro, 0);
    /* Writes to a read-only fd fail on the writer: a later call says so. */
    for (int i = 0; i < 10 && rc == 0; i++)
        rc = wb_write(w, ro, data, sizeof(data));
    if (rc == 0)
        rc = wb_flush(w);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(wb_flush(w), -1);
    ck_assert_int_eq(wb_write(w, fd, data, 1), -1);
    wb_free(w);
    close(ro);
    close(fd);
    unlink(path);
}
END_TEST

START_TEST(wb_free_drops_queued)
{
    /* Freed without a flush (a refused body): no hang, no leak. */
    char path[32];
    int fd = tmp_file(path);
    struct wb *w = wb_new(4096, 4);
    char data[10000];

    memset(data, 'y', sizeof(data));
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(wb_write(w, fd, data, sizeof(data)), 0);
    wb_free(w);
    wb_free(NULL);
    close(fd);
    unlink(path);
}
END_TEST

Suite *writebehind_suite(void)
{
    Suite *s = suite_create("writebehind");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, wb_two_files_in_order);
    tcase_add_test(tc, wb_reports_failure);
    tcase_add_test(tc, wb_free_drops_queued);
    suite_add_tcase(s, tc);
    return s;
}
