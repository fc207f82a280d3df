/*
 * fuzz_slicercfg.c - slicer settings in uploads (services/cfgscan.h,
 * services/zipdir.h).  The first byte picks what the rest is: 0 a config
 * scanned with the text rules, 1 with the XML rules (whole and in pieces:
 * the verdicts must agree), 2 a 3MF and 3 a zipped AMF, written to a file
 * and read (central directory, local headers, inflate, CRC, caps).
 */
#include "fuzz.h"

#include "services/cfgscan.h"
#include "services/zipdir.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[512];
    struct cfgscan s;
    char err[512];
    unsigned long whole;
    int mode;

    if (size < 1)
        return 0;
    mode = data[0] & 3;
    data++;
    size--;
    if (mode < 2) {
        whole = cfgscan_buf(data, size, mode);
        cfgscan_init(&s, mode);
        for (size_t off = 0; off < size; off += 5)
            cfgscan_feed(&s, data + off, size - off < 5 ? size - off : 5);
        if (cfgscan_finish(&s) != whole)
            abort();
        return 0;
    }
    if (size < 22)
        return 0;
    if (!path[0])
        snprintf(path, sizeof(path), "%s/in.zip", fuzz_tmpdir());
    fuzz_write_file(path, data, size);
    cfgscan_zip(path, size, mode == 3, err, sizeof(err));
    return 0;
}
