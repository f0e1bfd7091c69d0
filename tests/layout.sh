#!/bin/sh
# layout.sh: the module boundaries of the source tree, checked by grep.
#   sim/model/  plain data: includes only runtime/ and model/ headers
#   sim/state/  backends and formats: runtime/, model/ and state/ headers
#   flink/      the reader of real Flink snapshots: runtime/, model/, state/
#               and flink/ headers, never the engine (sim/) or its clients
#   sim/        the engine: anything of sim/, never the drivers, matrix or CLI
#   driver/     clients of the engine: public headers only (no sim_internal.h)
#   matrix/     knows nothing of the engine or RocksDB
# Exit 1 naming every include that crosses a boundary.
cd "$(dirname "$0")/.." || exit 2
bad=0
headers_of() { ls "$@" 2>/dev/null | sed 's#.*/##' | grep '\.h$'; }
MODEL=$(headers_of sim/model/*.h)
STATE=$(headers_of sim/state/*.h)
FLINK=$(headers_of flink/*.h)
RUNTIME=$(headers_of runtime/*.h)

# check DIR ALLOWED...: every quoted include in DIR must be among ALLOWED
check() {
    dir=$1; shift
    allowed=" $* "
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        for inc in $(sed -n 's/^#include "\(.*\)".*/\1/p' "$f"); do
            case "$allowed" in
                *" $inc "*) ;;
                *) echo "layout: $f includes $inc, outside what $dir may use"; bad=1 ;;
            esac
        done
    done
}
check sim/model $RUNTIME $MODEL
check sim/state $RUNTIME $MODEL $STATE
check flink $RUNTIME $MODEL $STATE $FLINK
check sim $RUNTIME $MODEL $STATE $(headers_of sim/*.h)
check driver $RUNTIME $MODEL $STATE $(headers_of sim/*.h | grep -v '^sim_internal.h$') $(headers_of driver/*.h)
check matrix $RUNTIME $(headers_of matrix/*.h)
for f in tools/*.c tools/*.h; do
    if grep -q '#include "sim_internal.h"' "$f"; then echo "layout: $f includes sim_internal.h"; bad=1; fi
done
if grep -ln 'rocksdb/c.h\|sqlite3.h' sim/model/* driver/* flink/* >/dev/null 2>&1; then
    grep -ln 'rocksdb/c.h\|sqlite3.h' sim/model/* driver/* flink/* | sed 's/^/layout: a library outside its module in /'; bad=1
fi
[ $bad -eq 0 ] && echo "layout: ok"
exit $bad
