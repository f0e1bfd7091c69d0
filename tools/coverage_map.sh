#!/bin/sh
# coverage_map.sh: which restore and format-reading functions each matrix
# cell reaches (issue #22). Runs every scenario once per snapshot kind and
# backend with the coverage build, each run writing its own .gcda tree
# (GCOV_PREFIX), asks gcov which functions of the restore and reader files
# ran, and writes OUT/restore-map.md (function x kind/backend, function x
# scenario, the functions no cell reaches with the recorded reason) and
# OUT/restore-map.tsv (scenario, kind/backend, file, function, reached).
# The real-Flink reader (flink/) is reached by `check` of the committed
# fixtures of real Flink snapshots, one more column.
#   sh tools/coverage_map.sh BIN OUT [quick]
# BIN is build-cov/snapsim (built with --coverage; its objects in
# build-cov/). quick: two scenarios, for make test's check of the target.
set -u
bin=${1:?usage: coverage_map.sh BIN OUT [quick]}
out=${2:?usage: coverage_map.sh BIN OUT [quick]}
mode=${3:-full}
objs=$(cd "$(dirname "$bin")" && pwd)
root=$(pwd)
reasons=tools/coverage_reasons.txt
[ -x "$bin" ] || { echo "coverage_map: $bin is not an executable" >&2; exit 2; }
[ -f "$reasons" ] || { echo "coverage_map: $reasons is missing" >&2; exit 2; }
command -v gcov >/dev/null || { echo "coverage_map: gcov is not installed" >&2; exit 2; }
mkdir -p "$out" || exit 2
work=$(mktemp -d "${TMPDIR:-/tmp}/snapsim-covmap.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# The restore paths and the readers of every format: the model's
# restore, its _metadata reader, channel state, the completed-checkpoint
# store, the backends' restores and the canonical/SST readers, and the
# reader of real Flink snapshots (flink/).
files="sim/sim_restore.c sim/sim_metadata.c sim/sim_channel_state.c sim/sim_completed_store.c
sim/state/sim_backend.c sim/state/sim_backend_heap.c sim/state/sim_backend_rocksdb.c
sim/state/sim_canonical.c sim/state/sim_sst_footer.c flink/fl_meta.c flink/fl_snapshot.c flink/fl_check.c"
# Of those files, the functions that restore or read (by name).
pick='restore|load|read|parse|from_json|resolve|verify|decode|open|seal|check|adopt|ingest|inline_from|bad'

if [ "$mode" = quick ]; then
    scenarios="scenarios/relocatable.json scenarios/restore_claim.json"
else
    scenarios=$(ls scenarios/*.json scenarios/shipped/*.json)
fi

# One cell's gcov answer: "file<TAB>function<TAB>0|1" per picked function.
cell_functions() { # DIR
    for f in $files; do
        o="$1$objs/$(dirname "$f")"
        g="$objs/$(dirname "$f")/$(basename "$f" .c).gcno"
        [ -f "$g" ] || continue
        mkdir -p "$o" && cp "$g" "$o/"
        (cd "$root" && gcov -n -f -o "$o" "$f" 2>/dev/null) | awk -v file="$f" -v pick="$pick" '
            /^Function / { fn = $2; gsub(/\047/, "", fn); next }
            /^Lines executed:/ && fn != "" {
                split($2, a, ":"); pct = a[2] + 0
                if (fn ~ pick) printf "%s\t%s\t%d\n", file, fn, (pct > 0 ? 1 : 0)
                fn = ""
            }'
    done
}

: > "$out/restore-map.tsv"
n=0
# One cell's run is done: its functions into the table as (scenario,
# kind/backend), its .gcda tree gone.
record() { # DIR SCENARIO KIND/BACKEND
    cell_functions "$1" | sed "s|^|$2\t$3\t|" >> "$out/restore-map.tsv"
    rm -rf "$1"
    n=$((n + 1))
    [ -t 2 ] && printf 'coverage_map: %d cells\r' "$n" >&2
}
for s in $scenarios; do
    name=$(basename "$s" .json)
    for k in canonical native aligned unaligned; do
        for b in heap rocksdb; do
            d="$work/$name-$k-$b"
            GCOV_PREFIX="$d" "$bin" scenario run "$s" --kind "$k" --backend "$b" >/dev/null 2>"$work/err"
            st=$?
            # 2: not a cell of this scenario (its kinds); above 4: the run died
            [ $st -eq 2 ] && { rm -rf "$d"; continue; }
            [ $st -gt 4 ] && { echo "coverage_map: $name $k $b died (exit $st): $(head -c 200 "$work/err")" >&2; exit 1; }
            record "$d" "$name" "$k/$b"
        done
    done
done
# The reader of real Flink snapshots: `check` of each committed fixture
# (tests/fixtures/flink/RELEASE/KIND-BACKEND), as a column of its own.
for p in tests/fixtures/flink/*/*/PATH; do
    [ -f "$p" ] || continue
    dir=$(dirname "$p"); cell=$(basename "$dir"); rel=$(basename "$(dirname "$dir")")
    k=${cell%%-*}; b=${cell#*-}; [ "$b" = hashmap ] && b=heap
    d="$work/flink-$rel-$cell"
    GCOV_PREFIX="$d" "$bin" check "$dir/$(cat "$p")" --to 2.2.0 >/dev/null 2>&1
    [ $? -gt 4 ] && { echo "coverage_map: check of $dir died" >&2; exit 1; }
    record "$d" check-of-real-flink "$k/$b"
    [ "$mode" = quick ] && break
done
[ $n -gt 0 ] || { echo "coverage_map: no cell ran" >&2; exit 1; }

# The tables: one row per function; a mark where some cell reached it.
awk -F'\t' -v reasons="$reasons" -v cells="$n" '
    BEGIN {
        while ((getline line < reasons) > 0) {
            if (line ~ /^#/ || line == "") continue
            i = index(line, " "); why[substr(line, 1, i - 1)] = substr(line, i + 1)
        }
        nkb = split("canonical/heap canonical/rocksdb native/heap native/rocksdb aligned/heap aligned/rocksdb unaligned/heap unaligned/rocksdb", kb, " ")
    }
    {
        key = $3 ":" $4
        if (!(key in seen)) { seen[key] = 1; order[++nf] = key }
        if (!($1 in sseen)) { sseen[$1] = 1; sc[++ns] = $1 }
        total[key, $2]++
        if ($5 == 1) { hit[key, $2]++; hits[key]++; shit[key, $1] = 1 }
    }
    END {
        printf "# Restore and format-reading functions reached by the matrix cells\n\n"
        printf "Generated by `make coverage` (tools/coverage_map.sh): %d cells (every scenario under `scenarios/` and `scenarios/shipped/`, each snapshot kind and backend it runs; and `snapsim check` of each real Flink snapshot under `tests/fixtures/flink/`), each a separate run of the coverage build; a function counts as reached when gcov saw one of its lines run. ", cells
        printf "The functions are those of the restore path and of the readers of every format (model `_metadata`, channel state, completed-checkpoint store, heap and RocksDB restores, canonical and SST readers, real Flink `_metadata`) whose names say they restore, load, read, parse, resolve or check.\n\n"
        reached = 0
        for (i = 1; i <= nf; i++) if (hits[order[i]] > 0) reached++
        printf "**%d of %d functions reached by some cell.**\n\n", reached, nf
        printf "## By snapshot kind and backend (cells reaching / cells run)\n\n| function |"
        for (j = 1; j <= nkb; j++) printf " %s |", kb[j]
        printf "\n|---|"
        for (j = 1; j <= nkb; j++) printf "---|"
        printf "\n"
        for (i = 1; i <= nf; i++) {
            f = order[i]; printf "| `%s` |", f
            for (j = 1; j <= nkb; j++) {
                t = total[f, kb[j]] + 0; h = hit[f, kb[j]] + 0
                if (t == 0) printf " |"
                else if (h == 0) printf " **0**/%d |", t
                else printf " %d/%d |", h, t
            }
            printf "\n"
        }
        printf "\n## By scenario (x: some kind or backend of it reached the function)\n\n"
        for (j = 1; j <= ns; j++) printf "%s%d = %s", (j > 1 ? ", " : ""), j, sc[j]
        printf "\n\n| function |"
        for (j = 1; j <= ns; j++) printf " %d |", j
        printf "\n|---|"
        for (j = 1; j <= ns; j++) printf "---|"
        printf "\n"
        for (i = 1; i <= nf; i++) {
            f = order[i]; printf "| `%s` |", f
            for (j = 1; j <= ns; j++) printf " %s |", ((f, sc[j]) in shit) ? "x" : ""
            printf "\n"
        }
        printf "\n## Reached by no cell\n\n"
        none = 0
        for (i = 1; i <= nf; i++) {
            f = order[i]; if (hits[f] > 0) continue
            none++
            fn = f; sub(/^.*:/, "", fn)
            printf "- `%s`: %s\n", f, (f in why) ? why[f] : ((fn in why) ? why[fn] : "no reason recorded in tools/coverage_reasons.txt")
        }
        if (none == 0) printf "Every function is reached by some cell.\n"
    }' "$out/restore-map.tsv" > "$out/restore-map.md" || exit 1
echo "coverage_map: $n cells; $out/restore-map.md" >&2
