#!/bin/sh
# cli.sh: exit statuses the README documents, checked on the real binary.
#   sh tests/cli.sh ./snapsim
bin=${1:-./snapsim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapsim-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0
expect() { # expect STATUS WHAT CMD...
    want=$1; what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; got=$?
    if [ "$got" -ne "$want" ]; then echo "cli: $what: exit $got, want $want ($(head -c 200 "$tmp/err"))"; bad=1
    else echo "ok    $what ($got)"; fi
}
echo junk > "$tmp/junk.db"
expect 2 "matrix diff of a missing database" "$bin" matrix diff "$tmp/none.db" "$tmp/none2.db"
expect 2 "matrix diff of a non-SQLite file" "$bin" matrix diff "$tmp/junk.db" "$tmp/junk.db"
expect 2 "matrix diff --impls with an unknown implementation" "$bin" matrix diff "$tmp/junk.db" "$tmp/junk.db" --impls model,jvm
expect 2 "matrix diff with an unknown option" "$bin" matrix diff "$tmp/junk.db" "$tmp/junk.db" --color
expect 2 "an unknown command" "$bin" frobnicate
expect 2 "scenario --impl with a bad value" "$bin" scenario run scenarios/relocatable.json --impl jvm
expect 2 "matrix with a scenario directory that does not exist" "$bin" matrix --scenarios "$tmp/no-such-dir" --db "$tmp/nodir.db" --out "$tmp/nodir-out"
mkdir -p "$tmp/empty"
expect 1 "inspect of a directory without _metadata" "$bin" inspect "$tmp/empty"
expect 1 "restore of a directory without _metadata" "$bin" restore "$tmp/empty" --backend heap
snap=$("$bin" take --kind canonical --backend heap --records 300 --memory-threshold 0 --out "$tmp/s" 2>/dev/null)
expect 0 "inspect of an intact snapshot" "$bin" inspect "$snap"
victim=$(find "$snap" -type f ! -name _metadata | head -n 1)
[ -n "$victim" ] && printf 'x' >> "$victim"
expect 1 "inspect of a snapshot with a damaged file" "$bin" inspect "$snap"
# The HTML report: viewport, legend, links to the other outputs (bench.md
# only when it is there), reasons without Flink's 32-hex ids, and a replay
# command naming the version pair.
mkdir -p "$tmp/scn" "$tmp/rep" && cp scenarios/downgrade.json "$tmp/scn/" && ln -s "$PWD/scenarios/jobs" "$tmp/scn/jobs"
touch "$tmp/rep/bench.md"
expect 0 "matrix of one scenario" "$bin" matrix --jobs 1 --scenarios "$tmp/scn" --kind native --backend heap --db "$tmp/rep.db" --out "$tmp/rep"
h="$tmp/rep/index.html"
grep -q '<meta name="viewport" content="width=device-width' "$h" || { echo "cli: index.html has no viewport meta tag"; bad=1; }
grep -q 'class="legend"><small>Legend: ✓' "$h" || { echo "cli: index.html has no legend of the symbols"; bad=1; }
for l in guarantees.md results.csv results.json junit.xml bench.md; do
    grep -q "<a href=\"$l\">" "$h" || { echo "cli: index.html does not link $l"; bad=1; }
done
grep -q 'href="coverage/restore-map.md"' "$h" && { echo "cli: index.html links a restore map that is not there"; bad=1; }
if grep -Eq '[0-9a-f]{32}' "$h" "$tmp/rep/guarantees.md"; then
    echo "cli: a report shows a 32-hex id: $(grep -Eo '.{60}[0-9a-f]{32}' "$h" "$tmp/rep/guarantees.md" | head -n 1)"; bad=1
fi
grep -q -- '--versions &#39;2.0.0-&gt;1.20.1&#39;' "$h" || { echo "cli: the replay command names no version pair"; bad=1; }
grep -q 'answered' "$h" && { echo "cli: index.html still says 'answered'"; bad=1; }
rm "$tmp/rep/bench.md"
expect 0 "matrix render without bench.md" "$bin" matrix render "$tmp/rep.db" "$tmp/rep"
grep -q 'href="bench.md"' "$h" && { echo "cli: index.html links bench.md that is not there"; bad=1; }
expect 1 "scenario run --versions of one variant" "$bin" scenario run scenarios/downgrade.json --kind native --backend heap --versions '2.0.0->1.20.1'
[ "$(wc -l < "$tmp/out")" -eq 1 ] && grep -q '2.0.0->1.20.1' "$tmp/out" || { echo "cli: --versions did not keep exactly its pair: $(head -c 300 "$tmp/out")"; bad=1; }
expect 2 "scenario run --versions of no variant" "$bin" scenario run scenarios/downgrade.json --versions '9.9->9.8'
# restore answers one line on stdout: what it restored and what the mode did.
msp=$("$bin" take --kind native --backend heap --records 300 --out "$tmp/r" 2>/dev/null)
expect 0 "restore in no-claim mode" "$bin" restore "$msp" --backend heap --records 100
if ! grep -q "^works: restored .* no-claim: the snapshot is the user's, [0-9]* of its [0-9]* files left" "$tmp/out"; then
    echo "cli: restore printed no summary line: $(head -c 300 "$tmp/out")"; bad=1
fi
expect 0 "restore in claim mode" "$bin" restore "$msp" --backend heap --records 1000 --mode claim
if ! grep -q "^works: .* claim: the job owns the snapshot, [1-9][0-9]* of its [0-9]* files deleted" "$tmp/out"; then
    echo "cli: a claim restore did not say what it deleted: $(head -c 300 "$tmp/out")"; bad=1
fi
# Flink's spellings: hashmap, the _metadata path, -s/-rm/-n, --type NATIVE,
# the savepoint directory as an argument.
fsp=$("$bin" take --kind native --backend hashmap --records 300 --out "$tmp/f" 2>/dev/null)
[ -n "$fsp" ] || { echo "cli: take --backend hashmap made no snapshot"; bad=1; }
expect 0 "restore of a _metadata path" "$bin" restore "$fsp/_metadata" --backend hashmap --records 50
expect 0 "restore -s PATH -rm no_claim -n" "$bin" restore -s "$fsp" -rm no_claim -n --backend heap --records 50
expect 2 "restore -rm with a bad mode" "$bin" restore -s "$fsp" -rm maybe --backend heap
expect 0 "savepoint DIR --type NATIVE" "$bin" savepoint "$tmp/sp" --type NATIVE --backend heap --records 100
grep -q "^$tmp/sp/savepoint-" "$tmp/out" || { echo "cli: savepoint DIR did not write under DIR: $(cat "$tmp/out")"; bad=1; }
expect 2 "take with a directory argument (take wants --out)" "$bin" take "$tmp/t" --kind native --backend heap
# --interval: 0 takes no periodic checkpoint (the one counted is the
# savepoint); by default a long run takes about 8 (the interval grows with
# --records), where 100 ms takes hundreds.
expect 2 "take with a bad --interval" "$bin" take --kind native --backend heap --out "$tmp/i" --interval 5s
ck() { sed -n 's/.*"checkpoints":\([0-9]*\).*/\1/p' "$tmp/out"; }
expect 0 "take with --interval 0" "$bin" take --kind native --backend heap --out "$tmp/i0" --records 2000 --interval 0 --json
[ "$(ck)" = 1 ] || { echo "cli: --interval 0 took $(ck) checkpoints, want only the savepoint"; bad=1; }
expect 0 "take with --interval 100" "$bin" take --kind native --backend heap --out "$tmp/i1" --records 20000 --interval 100 --json
many=$(ck)
expect 0 "take of 20000 records, default interval" "$bin" take --kind native --backend heap --out "$tmp/i2" --records 20000 --json
if [ "$(ck)" -lt 5 ] || [ "$(ck)" -gt 12 ] || [ "$many" -le 200 ]; then
    echo "cli: 20000 records took $(ck) checkpoints by default ($many at 100 ms), want about 8"; bad=1
fi
# replay --json: lists are JSON arrays (the text output joins them).
expect 0 "replay --json" "$bin" replay --seed 5 --json
grep -q '"plan":\["put#' "$tmp/out" && grep -q '"actions":\["run","savepoint"' "$tmp/out" \
    || { echo "cli: replay --json: plan and actions are not arrays: $(head -c 300 "$tmp/out")"; bad=1; }
# replay --until/--break: stop, print the state there, the trace a prefix of the full one.
expect 0 "replay --trace (the full trace)" "$bin" replay --seed 7 --trace "$tmp/full.jsonl"
expect 0 "replay --until 600" "$bin" replay --seed 7 --until 600 --trace "$tmp/until.jsonl"
grep -q "^stopped   at case time 600 ms" "$tmp/out" && grep -q "^  pending   chk [0-9]" "$tmp/out" \
    && grep -q "^registry  [0-9]* entr" "$tmp/out" && grep -q "^  src-0 .*split 0 at [0-9]" "$tmp/out" \
    || { echo "cli: replay --until printed no state: $(head -c 300 "$tmp/out")"; bad=1; }
prefix_of_full() { # the trace $1 is a non-empty strict prefix of full.jsonl
    n=$(wc -c < "$1")
    [ "$n" -gt 0 ] && [ "$n" -lt "$(wc -c < "$tmp/full.jsonl")" ] && head -c "$n" "$tmp/full.jsonl" | cmp -s - "$1"
}
prefix_of_full "$tmp/until.jsonl" || { echo "cli: replay --until: its trace is no prefix of the full one"; bad=1; }
expect 0 "replay --break restore --json" "$bin" replay --seed 7 --break restore --json --trace "$tmp/brk.jsonl"
line=$(sed -n 's/.*"event":{"name":"restore","nth":1,"line":\([0-9]*\).*/\1/p' "$tmp/out")
if [ -z "$line" ] || ! sed -n "${line}p" "$tmp/full.jsonl" | grep -q '"ev":"restore"' || ! prefix_of_full "$tmp/brk.jsonl"; then
    echo "cli: replay --break restore: line '$line' is not the full trace's restore, or no prefix: $(head -c 300 "$tmp/out")"; bad=1
fi
expect 1 "replay --until after the case's end" "$bin" replay --seed 7 --until 99999999
grep -q "^ended     the case ended before case time 99999999 ms" "$tmp/out" \
    || { echo "cli: replay --until past the end: $(head -c 200 "$tmp/out")"; bad=1; }
expect 2 "replay --until x" "$bin" replay --seed 7 --until x
expect 2 "replay --break subsume:0" "$bin" replay --seed 7 --break subsume:0
expect 2 "replay --break with an unknown event" "$bin" replay --seed 7 --break nosuch
# ...naming every event the sources write (the list is kept by hand).
for ev in $(perl -0777 -ne 'while (/(?:sim_trace|rt_trace_event)\s*\((?:[^;"]*?),\s*"([a-z_0-9]+)"/g) { print "$1\n" }' \
        $(find "$(dirname "$0")/../runtime" "$(dirname "$0")/../sim" "$(dirname "$0")/../driver" -name '*.c') | sort -u); do
    grep -q " $ev\( \|$\)" "$tmp/err" || { echo "cli: replay --break: the event list lacks '$ev'"; bad=1; }
done
# README's jq recipes, each on the real trace.
sed -n '/<!-- jq-recipes/,/<!-- \/jq-recipes/p' "$(dirname "$0")/../README.md" | grep '^jq ' > "$tmp/recipes"
[ "$(wc -l < "$tmp/recipes")" -eq 3 ] || { echo "cli: README has $(wc -l < "$tmp/recipes") jq recipes, want 3"; bad=1; }
i=0
while read -r recipe; do
    i=$((i + 1))
    (cd "$tmp" && cp full.jsonl trace.jsonl && sh -c "$recipe") > "$tmp/jq.out" 2> "$tmp/jq.err" \
        || { echo "cli: jq recipe $i failed: $(head -c 200 "$tmp/jq.err")"; bad=1; }
    n=$(wc -l < "$tmp/jq.out")
    case $i in
        1) want=$(grep -c '"ev":"complete"' "$tmp/full.jsonl") ;;
        *) want=nonzero ;;
    esac
    if [ "$want" = nonzero ] && [ "$n" -eq 0 ] || [ "$want" != nonzero ] && [ "$n" -ne "$want" ]; then
        echo "cli: jq recipe $i printed $n lines, want $want"; bad=1
    else echo "ok    jq recipe $i ($n lines)"; fi
done < "$tmp/recipes"
# Every option a command's --help names is one it parses, and the options
# of other commands are refused: tests/test_cli.c checks that for every
# command through its own entry point. Here, on the binary, a few by name:
expect 2 "fuzz --trace (replay's option)" "$bin" fuzz --seeds 1 --trace "$tmp/t.jsonl"
expect 2 "replay --seeds (fuzz's option)" "$bin" replay --seed 1 --seeds 5
expect 2 "savepoint --kind (it takes --type)" "$bin" savepoint --kind aligned --backend heap --out "$tmp/sk"
expect 2 "fuzz --seed (no abbreviation of --seeds)" "$bin" fuzz --seed 3
# fuzz runs each seed in a child process: it answers what an in-process replay of the seed answers
"$bin" fuzz --seeds 3 --from 44 --json 2>/dev/null | sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' > "$tmp/fz"
for s in 44 45 46; do "$bin" replay --seed $s --json 2>/dev/null | sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p'; done > "$tmp/rp"
if [ "$(wc -l < "$tmp/fz")" -ne 3 ] || ! cmp -s "$tmp/fz" "$tmp/rp"; then
    echo "cli: fuzz seeds 44-46 in child processes differ from their replays"; bad=1
else echo "ok    fuzz seeds in child processes equal their replays"; fi
# fuzz --minimize: a mutant's failing seed shrinks; the replay command it prints reproduces
# the minimized case's failure, message for message.
expect 0 "fuzz --minimize of a mutant's failing seed" "$bin" fuzz --minimize 1 --mutant uploads-never-confirmed
fails=$(sed -n 's/^  fails: //p' "$tmp/out")
cmd=$(sed -n 's/^  replay: snapsim //p' "$tmp/out" | sed "s#--trace [^ ]*#--trace $tmp/min.jsonl#")
if [ -z "$fails" ] || [ -z "$cmd" ]; then echo "cli: fuzz --minimize printed no failure or replay: $(head -c 300 "$tmp/out")"; bad=1; fi
# shellcheck disable=SC2086 # the printed command, split as a shell would
expect 1 "the minimized case's replay command" "$bin" $cmd
grep -qxF "outcome   corrupted: $fails" "$tmp/out" && [ -s "$tmp/min.jsonl" ] \
    || { echo "cli: the minimized case's replay does not fail as minimized: $(head -c 300 "$tmp/out")"; bad=1; }
expect 2 "fuzz --minimize of a seed that does not fail" "$bin" fuzz --minimize 1
[ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q "seed 1 does not fail" "$tmp/err" \
    || { echo "cli: fuzz --minimize of a passing seed: $(cat "$tmp/err")"; bad=1; }
expect 2 "replay --case that is not hex choices" "$bin" replay --seed 1 --case 1..2 --trace "$tmp/bad.jsonl"
[ ! -e "$tmp/bad.jsonl" ] || { echo "cli: replay with a bad --case wrote a trace"; bad=1; }
expect 2 "fuzz --minimize with --seeds" "$bin" fuzz --minimize 1 --seeds 3
expect 2 "take -rm (restore's)" "$bin" take -rm claim --kind native --backend heap --out "$tmp/rm"
grep -q "unknown option '-rm'" "$tmp/err" || { echo "cli: take -rm: $(cat "$tmp/err")"; bad=1; }
# Real Flink snapshots (tests/fixtures/flink): inspect, and check's statuses.
fx=$(dirname "$0")/fixtures/flink
sp=$fx/2.1.1/native-rocksdb/$(cat "$fx/2.1.1/native-rocksdb/PATH")
expect 0 "inspect of a real Flink savepoint" "$bin" inspect "$sp"
expect 0 "inspect --json of a real Flink savepoint" "$bin" inspect "$sp" --json
expect 0 "check of a real savepoint that restores" "$bin" check "$sp" --to 2.2.0 --backend rocksdb
expect 1 "check of a real savepoint the target cannot read" "$bin" check "$sp" --to 2.0.1
expect 1 "check of a native RocksDB savepoint on the heap backend" "$bin" check "$sp" --to 2.2.0 --backend hashmap
hp=$fx/1.20.3/native-hashmap/$(cat "$fx/1.20.3/native-hashmap/PATH")
expect 5 "check of the heap's key-group stream on RocksDB (unknown)" "$bin" check "$hp" --to 1.20.3 --backend rocksdb
expect 2 "check without --to" "$bin" check "$sp"
expect 2 "check --to an unknown release" "$bin" check "$sp" --to 0.9
expect 2 "check --backend bogus" "$bin" check "$sp" --to 2.2.0 --backend bogus
expect 1 "check of a directory without Flink _metadata" "$bin" check "$tmp/empty" --to 2.2.0
mkdir -p "$tmp/trunc"
head -c 100 "$sp/_metadata" > "$tmp/trunc/_metadata"
expect 1 "inspect of truncated real _metadata" "$bin" inspect "$tmp/trunc"
expect 1 "check of truncated real _metadata" "$bin" check "$tmp/trunc" --to 2.2.0
cp -r "$sp" "$tmp/sp" && rm "$(find "$tmp/sp" -type f ! -name _metadata | head -n 1)"
expect 1 "inspect of a real savepoint missing a file" "$bin" inspect "$tmp/sp"
# Two matrix runs into one database at once (one scenario, one cell each):
# both work, and a merge keeps the two runs apart (each has its own uid).
mkdir -p "$tmp/msc" && cp "$(dirname "$0")/../scenarios/relocatable.json" "$tmp/msc/"
for i in 1 2; do
    "$bin" matrix --jobs 1 --scenarios "$tmp/msc" --kind native --backend heap --observed "$tmp/none" \
        --db "$tmp/two.db" --out "$tmp/two$i" >"$tmp/two$i.log" 2>&1 &
done
wait
for i in 1 2; do tail -n 1 "$tmp/two$i.log" | grep -q "results in" || { echo "cli: concurrent matrix $i: $(tail -n 1 "$tmp/two$i.log")"; bad=1; }; done
expect 0 "matrix merge of two concurrent runs" "$bin" matrix merge "$tmp/two-merged.db" "$tmp/two.db"
runs=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(distinct uid) from runs").fetchone()[0])' "$tmp/two-merged.db")
[ "$runs" = 2 ] || { echo "cli: two concurrent matrix runs merged into $runs run(s), want 2"; bad=1; }
# The README's local sweep: shards under GNU parallel, merged; the merged
# database holds every seed exactly once (a shard that skipped or repeated
# a seed, or a merge that lost a run, fails it). Skipped without parallel.
if command -v parallel >/dev/null 2>&1; then
    abs="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
    ( cd "$tmp" && parallel -j 2 "'$abs' fuzz --seeds 7 --from 40 --shard {}/3 --db sweep-{}.db > sweep-{}.log 2>&1" ::: 0 1 2 )
    expect 0 "matrix merge of three fuzz shards" "$bin" matrix merge "$tmp/sweep.db" "$tmp/sweep-0.db" "$tmp/sweep-1.db" "$tmp/sweep-2.db"
    seeds=$(python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select seed, count(*) from results where scenario = ? group by seed order by seed", ("fuzz",)).fetchall()
print(",".join("%d:%d" % r for r in rows))' "$tmp/sweep.db")
    want="40:1,41:1,42:1,43:1,44:1,45:1,46:1"
    if [ "$seeds" = "$want" ]; then echo "ok    a parallel sweep merged holds each seed once"
    else echo "cli: parallel sweep: seed:count $seeds, want $want"; bad=1; fi
else
    echo "skip  a parallel sweep (GNU parallel is not installed)"
fi
# Piped into head: the early close is not a crash (no SIGPIPE death,
# 141): the trace goes on long after head has gone.
( "$bin" scenario run scenarios/rescaling.json --kind unaligned --backend heap --trace /dev/stdout 2>/dev/null; echo "$?" >"$tmp/rc" ) | head -n 1 >/dev/null
rc=$(cat "$tmp/rc")
if [ "$rc" -ge 128 ]; then echo "cli: a trace piped into head died of signal $((rc - 128))"; bad=1
else echo "ok    a trace piped into head ($rc)"; fi
[ $bad -eq 0 ] && echo "cli: all checks passed"
exit $bad
