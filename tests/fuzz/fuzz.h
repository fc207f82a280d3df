/*
 * fuzz.h - what every harness in tests/fuzz shares.
 *
 * Each harness defines LLVMFuzzerTestOneInput.  Built with libFuzzer
 * (make fuzz, clang) it is fuzzed; linked with replay.c (make check, any
 * compiler) it replays the committed corpus under tests/fuzz/corpus/NAME.
 * A harness may only return 0; a bug shows as a sanitizer report or an
 * abort().
 */
#ifndef RR_FUZZ_H
#define RR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private directory for harnesses that need files (made once, under
 * $TMPDIR or /tmp, removed at exit); aborts if it cannot be made. */
const char *fuzz_tmpdir(void);

/* Empties fuzz_tmpdir(). */
void fuzz_clean_tmpdir(void);

/* Writes data[0..size) to path; aborts on failure. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif
