#!/bin/sh
# replay.sh - make check's corpus replay: every harness in tests/fuzz runs
# once over each committed input of tests/fuzz/corpus/NAME (replay.c), under
# whatever sanitizers the build has.  A crash or a report fails the test.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${builddir:-.}
rc=0
for c in "$top"/tests/fuzz/corpus/*/; do
    name=$(basename "$c")
    bin=$bld/tests/fuzz/replay_$name
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin not built for corpus $name"
        rc=1
        continue
    fi
    "$bin" "$c" || { echo "FAIL: replay_$name"; rc=1; }
done
exit $rc
