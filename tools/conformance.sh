#!/bin/bash
# conformance.sh: the whole real-Flink lane, as conformance/lane.tsv lists it.
#
#   tools/conformance.sh [--jobs N] [--only FILE[,FILE...]] [--out DIR]
#
# Each line of the plan is one `snapsim matrix --impl flink` run over the
# scenarios it names, with its release and filter; its results replace
# matrix/observed/FILE (written to FILE.new first, moved into place only when
# the run finished). Progress on stderr (each run's matrix prints a line per
# result); the time of each run and of the whole lane at the end. A result
# other than works or skipped keeps its run directory (the JVMs' logs, the
# snapshots) under DIR/FILE.runs/.
# Exit status: 0 every run finished, 1 a run failed (its file is left as it
# was), 2 a usage error. The runner jars must have been built
# (conformance/build.sh; `make conformance` does both). SNAPSIM names the
# binary (default ./snapsim).
set -u
cd "$(dirname "$0")/.." || exit 2
jobs=2 only= out=build/conformance
usage() { echo "usage: tools/conformance.sh [--jobs N] [--only FILE[,FILE...]] [--out DIR]" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        --only) [ $# -ge 2 ] || usage; only=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "conformance.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
case $jobs in ''|*[!0-9]*) echo "conformance.sh: --jobs wants a number, not '$jobs'" >&2; exit 2 ;; esac
plan=conformance/lane.tsv
snapsim=${SNAPSIM:-./snapsim}
[ -x "$snapsim" ] || { echo "conformance.sh: $snapsim is not built (make snapsim)" >&2; exit 2; }
for f in ${only//,/ }; do
    grep -q "^$f	" "$plan" || { echo "conformance.sh: $f is not a file of $plan" >&2; exit 2; }
done
mkdir -p "$out"
t0=$(date +%s)
failed=0 runs=0
while IFS=$'\t' read -r file release filter scenarios; do
    case $file in ''|'#'*) continue ;; esac
    [ -z "$only" ] || [[ ",$only," == *",$file,"* ]] || continue
    runs=$((runs + 1))
    dir="$out/$file.scenarios"
    rm -rf "$dir" "$out/$file.runs" && mkdir -p "$dir" || exit 1
    ln -s "$PWD/scenarios/jobs" "$dir/jobs"
    for s in $scenarios; do
        [ -f "scenarios/$s.json" ] || { echo "conformance.sh: $plan: $file names $s, which is not in scenarios/" >&2; exit 2; }
        ln -s "$PWD/scenarios/$s.json" "$dir/$s.json"
    done
    [ "$filter" = - ] && filter=
    echo "conformance.sh: $file: Flink $release, $scenarios ${filter:+($filter)}" >&2
    t1=$(date +%s)
    # shellcheck disable=SC2086 # the filter is words
    if "$snapsim" matrix --impl flink --release "$release" $filter --jobs "$jobs" --scenarios "$dir" \
        --progress --db "$out/$file.db" --out "$out/$file.reports" --keep-runs "$out/$file.runs" --observed-out "matrix/observed/$file.new" \
        >"$out/$file.log"; then
        jq --arg note "make conformance (conformance/lane.tsv): $scenarios" '. + {note: $note}' \
            "matrix/observed/$file.new" >"matrix/observed/$file.tmp" &&
            mv "matrix/observed/$file.tmp" "matrix/observed/$file" && rm -f "matrix/observed/$file.new"
        echo "conformance.sh: $file: done in $(($(date +%s) - t1)) s" >&2
    else
        failed=$((failed + 1))
        rm -f "matrix/observed/$file.new"
        echo "conformance.sh: $file: the run failed (see $out/$file.log); matrix/observed/$file unchanged" >&2
    fi
done <"$plan"
echo "conformance.sh: $runs runs, $failed failed, $(($(date +%s) - t0)) s in all" >&2
[ "$failed" -eq 0 ]
