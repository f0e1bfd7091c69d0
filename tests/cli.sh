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
# (not $tmp/sp: the savepoint DIR test above made that, a directory of snapshots)
cp -r "$sp" "$tmp/flsp" && rm "$(find "$tmp/flsp" -type f ! -name _metadata | head -n 1)"
expect 1 "inspect of a real savepoint missing a file" "$bin" inspect "$tmp/flsp"
grep -q "^rejected: .*1 file(s) missing" "$tmp/err" || { echo "cli: inspect of a real savepoint missing a file: $(cat "$tmp/err")"; bad=1; }
# --json shapes: every object of one place (the top, each list's elements,
# each nested object) has one set of members, whatever the outcome; a
# member with nothing to say is null or []. shapes WHAT FILE... reads the
# JSON lines of the files (each a different outcome) and names any place
# whose objects differ in their members. handle_classes (counts by class
# name) and a replay event's own trace line are maps, not records.
shape_jq='def place: map(if type == "number" then "[]" else . end) | join(".");
[.[] | (paths(objects) as $p | select($p | place | test("^(handle_classes|stop\\.event\\.trace)") | not)
        | {p: ($p | place), k: (getpath($p) | keys)}), {p: ".", k: keys}]
| group_by(.p) | map(select(map(.k) | unique | length > 1) | "\(.[0].p): \(map(.k) | unique | map(join(",")) | join(" / "))")
| .[]'
shapes() { # shapes WHAT FILE...: one line per file at least, all JSON objects, one shape
    what=$1; shift
    for f in "$@"; do
        if [ ! -s "$f" ] || ! jq -e 'type == "object"' "$f" >/dev/null 2>&1; then
            echo "cli: $what: $(basename "$f") holds no JSON object per line: $(head -c 200 "$f")"; bad=1; return
        fi
    done
    diffs=$(cat "$@" | jq -rs "$shape_jq")
    if [ -n "$diffs" ]; then echo "cli: $what: the members depend on the outcome: $diffs" | head -c 1200; echo; bad=1
    else echo "ok    $what: one shape over $(cat "$@" | jq -rs 'length') objects"; fi
}
js() { cp "$tmp/out" "$tmp/j.$1"; } # keeps the last command's stdout as j.NAME
mkdir -p "$tmp/js"
expect 0 "take --json" "$bin" take --kind aligned --backend rocksdb --incremental --records 300 --memory-threshold 0 --out "$tmp/js/t" --json; js take1
expect 1 "take --json into a path that cannot be a directory" "$bin" take --kind aligned --backend heap --out /dev/null/x --json; js take2
shapes "take --json: works, rejected" "$tmp/j.take1" "$tmp/j.take2"
[ "$(jq -r '.outcome, (.path == null), (.reason != null)' "$tmp/j.take2" | tr '\n' ' ')" = "rejected true true " ] \
    || { echo "cli: take --json of a failed take: $(cat "$tmp/j.take2")"; bad=1; }
expect 2 "take --json with a usage error prints no JSON" "$bin" take --kind unaligned --backend heap --max-concurrent-checkpoints 2 --out "$tmp/js/u" --json
[ -s "$tmp/out" ] && { echo "cli: a usage error printed JSON: $(cat "$tmp/out")"; bad=1; }
expect 0 "savepoint --json" "$bin" savepoint "$tmp/js/sp" --type native --backend heap --records 200 --memory-threshold 0 --json; js sp1
expect 1 "savepoint --json into a path that cannot be a directory" "$bin" savepoint /dev/null/x --backend heap --json; js sp2
expect 0 "stop --json" "$bin" stop --type canonical --drain --backend heap --records 200 --out "$tmp/js/st" --json; js st1
expect 1 "stop --json into a path that cannot be a directory" "$bin" stop --type canonical --backend heap --out /dev/null/x --json; js st2
shapes "savepoint and stop --json: works, rejected" "$tmp/j.take1" "$tmp/j.sp1" "$tmp/j.sp2" "$tmp/j.st1" "$tmp/j.st2"
jsp=$(jq -r .path "$tmp/j.sp1")
expect 0 "restore --json" "$bin" restore "$jsp" --backend heap --records 100 --json; js rs1
jcl=$("$bin" savepoint "$tmp/js/cl" --type native --backend heap --records 200 2>/dev/null)
expect 0 "restore --json in claim mode" "$bin" restore "$jcl" --backend heap --records 1000 --mode claim --json; js rs2
jq -e '.snapshot_files_deleted > 0 and .mode == "claim"' "$tmp/j.rs2" >/dev/null || { echo "cli: restore --json in claim mode deleted nothing: $(cat "$tmp/j.rs2")"; bad=1; }
expect 1 "restore --json of a directory without _metadata" "$bin" restore "$tmp/empty" --backend heap --json; js rs3
shapes "restore --json: works, claim, rejected" "$tmp/j.rs1" "$tmp/j.rs2" "$tmp/j.rs3"
[ "$(jq -r '.outcome, .checkpoints, .snapshot_files' "$tmp/j.rs3" | tr '\n' ' ')" = "rejected null 0 " ] \
    || { echo "cli: restore --json of an empty directory: $(cat "$tmp/j.rs3")"; bad=1; }
expect 1 "scenario run --json (works and rejected)" "$bin" scenario run scenarios/downgrade.json --kind native --backend heap --json; js sc
[ "$(jq -r .outcome "$tmp/j.sc" | sort -u | tr '\n' ' ')" = "rejected works " ] \
    || { echo "cli: scenario run --json: want works and rejected results: $(head -c 300 "$tmp/j.sc")"; bad=1; }
shapes "scenario run --json: works, rejected" "$tmp/j.sc"
expect 1 "fuzz --json under a mutant (a violation)" "$bin" fuzz --seeds 1 --mutant uploads-never-confirmed --json; js fz1
grep -q '^VIOLATION seed 1' "$tmp/err" || { echo "cli: fuzz --json: the VIOLATION line is not on stderr"; bad=1; }
jq -e '.violated and (.replay | startswith("snapsim replay --seed 1 --mutant uploads-never-confirmed"))' "$tmp/j.fz1" >/dev/null \
    || { echo "cli: fuzz --json of a violation has no replay command: $(head -c 300 "$tmp/j.fz1")"; bad=1; }
expect 0 "fuzz --json" "$bin" fuzz --seeds 2 --from 5 --json; js fz2
shapes "fuzz --json: a violation, clean seeds" "$tmp/j.fz1" "$tmp/j.fz2"
expect 1 "replay --json of a violation" "$bin" replay --seed 1 --mutant uploads-never-confirmed --json; js rp1
shapes "replay --json: a violation, a clean seed, fuzz's" "$tmp/j.rp1" "$tmp/j.fz2" "$tmp/j.fz1"
expect 0 "replay --until --json" "$bin" replay --seed 7 --until 600 --json; js ru1
expect 0 "replay --break --json" "$bin" replay --seed 7 --break subsume:2 --json; js ru2
expect 1 "replay --break --json past the case's end" "$bin" replay --seed 7 --break subsume:999 --until 99999999 --json; js ru3
shapes "replay --until/--break --json: a time, an event, the end" "$tmp/j.ru1" "$tmp/j.ru2" "$tmp/j.ru3"
jq -e '.stop.event == null and .stop.until_ms == 600' "$tmp/j.ru1" >/dev/null && jq -e '.stop.event.line == null' "$tmp/j.ru3" >/dev/null \
    || { echo "cli: replay stop --json: the members that do not apply are not null"; bad=1; }
# inspect --json holds everything the text shows: every word and number of
# the text is a value (or a member's name) of the JSON, but for the text's
# own prose. Paths count whole; a count the text shows is a list's length;
# '?' is how the text shows an unknown (null) value; 's' is file(s)'s.
words() { tr -s ' ,;:()"=\t' '\n' | sed -e 's/^#//' -e 's/^v\([0-9]\)/\1/' -e 's/\.\.\([0-9]\)/\n\1/' | grep -v '^$'; }
prose='^(s|[?]|and|not|paths|into|key|groups|file|files|split|splits|handle|handles|records|committed|the|storage|max|id|self-contained|from|bytes|inlined|state|with|in|of|a|an|absolute|relative|outside|size|mismatch|other|problem|operator|type|format|backend|metadata|version|engine|job|job\(s\)|snapshot|flink|_metadata|sst|SST|input|output|handle\(s\)|file\(s\)|split\(s\)|it|cannot|be|relocated|fully|finished|coordinator|sharing|managed|raw|keyed|channel|source|offsets|sink|checkpoint|incremental|uid|name|parallelism|master|missing|damaged|unchecked|savepoint|\.\.\.)$'
text_in_json() { # text_in_json WHAT PATH: inspect's text against inspect --json
    "$bin" inspect "$2" > "$tmp/it" 2>/dev/null; "$bin" inspect "$2" --json > "$tmp/ij" 2>/dev/null
    jq -r '(.. | scalars | tostring), (.. | objects | keys[]), (.. | arrays | length)' "$tmp/ij" > "$tmp/iv"
    words < "$tmp/iv" >> "$tmp/iv"
    lost=$(words < "$tmp/it" | grep -Ev "$prose" | sort -u | grep -vxFf "$tmp/iv" | tr '\n' ' ')
    if [ -n "$lost" ] || [ ! -s "$tmp/it" ]; then echo "cli: inspect --json of $1 lacks what the text shows: $lost" | head -c 600; echo; bad=1
    else echo "ok    inspect --json of $1 holds every field of its text"; fi
}
expect 0 "take a checkpoint with absolute handles" "$bin" take --kind aligned --backend rocksdb --incremental --records 300 --memory-threshold 0 --out "$tmp/js/a"
ja=$(cat "$tmp/out")
expect 0 "take an unaligned checkpoint" "$bin" take --kind unaligned --backend heap --records 300 --out "$tmp/js/u"
ju=$(cat "$tmp/out")
text_in_json "a model checkpoint with absolute handles" "$ja"
text_in_json "a model unaligned checkpoint" "$ju"
text_in_json "a model savepoint" "$jsp"
for d in "$fx"/*/*/; do
    [ -f "$d/PATH" ] && text_in_json "real Flink $(basename "$(dirname "$d")")/$(basename "$d")" "$d/$(cat "$d/PATH")"
done
cp -r "$jsp" "$tmp/js/dmg" && victim=$(find "$tmp/js/dmg" -type f ! -name _metadata | head -n 1) && printf 'x' >> "$victim"
text_in_json "a model savepoint with a damaged file" "$tmp/js/dmg"
"$bin" inspect "$jsp" --json > "$tmp/j.in1"
expect 1 "inspect --json of a damaged model savepoint" "$bin" inspect "$tmp/js/dmg" --json; js in2
expect 1 "inspect --json of a directory without _metadata" "$bin" inspect "$tmp/empty" --json; js in3
shapes "inspect --json of model snapshots: intact, damaged, none" "$tmp/j.in1" "$tmp/j.in2" "$tmp/j.in3" "$tmp/ij"
jq -e '.reason != null and .damaged == 1' "$tmp/j.in2" >/dev/null || { echo "cli: inspect --json of a damaged file has no reason"; bad=1; }
nu8=$(printf '%s/js/not-utf8-\377' "$tmp"); mkdir -p "$nu8" # a path that is no UTF-8 still gives its members
expect 1 "inspect --json of a directory whose name is not UTF-8" "$bin" inspect "$nu8" --json; js in4
shapes "inspect --json of a path that is not UTF-8" "$tmp/j.in1" "$tmp/j.in4"
for d in "$fx"/*/*/; do "$bin" inspect "$d/$(cat "$d/PATH")" --json 2>/dev/null; done > "$tmp/j.fl1"
expect 1 "inspect --json of a real savepoint missing a file" "$bin" inspect "$tmp/flsp" --json; js fl2
expect 1 "inspect --json of truncated real _metadata" "$bin" inspect "$tmp/trunc" --json; js fl3
shapes "inspect --json of real Flink snapshots: all 16, a missing file, truncated" "$tmp/j.fl1" "$tmp/j.fl2" "$tmp/j.fl3"
expect 0 "check --json: restores" "$bin" check "$sp" --to 2.2.0 --backend rocksdb --json; js ck1
expect 1 "check --json: rejected" "$bin" check "$sp" --to 2.0.1 --json; js ck2
expect 5 "check --json: unknown" "$bin" check "$hp" --to 1.20.3 --backend rocksdb --json; js ck3
expect 1 "check --json of truncated _metadata" "$bin" check "$tmp/trunc" --to 2.2.0 --json; js ck4
shapes "check --json: restores, rejected, unknown, unreadable" "$tmp/j.ck1" "$tmp/j.ck2" "$tmp/j.ck3" "$tmp/j.ck4"
# README's "JSON output" names each command's members, in order.
members_doc() { # the first `...` of the second cell of the README row whose first cell starts with $1
    awk -F'|' -v k="$1" 'index($2, k) == 2 { split($3, a, "`"); print a[2]; exit }' "$(dirname "$0")/../README.md"
}
members_are() { # members_are ROW FILE
    doc=$(members_doc "$1"); got=$(head -n 1 "$2" | jq -r 'keys_unsorted | join(" ")')
    [ -n "$doc" ] && [ "$doc" = "$got" ] || { echo "cli: README's JSON members of $1: '$doc', the command prints '$got'"; bad=1; }
}
members_are '`take`' "$tmp/j.take1"; members_are '`restore`' "$tmp/j.rs1"; members_are '`scenario run`' "$tmp/j.sc"
members_are '`fuzz`' "$tmp/j.fz2"; members_are '`replay --until' "$tmp/j.ru1"; members_are '`inspect` (snapsim' "$tmp/j.in1"
members_are '`inspect` (real' "$tmp/j.fl1"; members_are '`check`' "$tmp/j.ck1"
# matrix diff --json: the same diff and exit status as the text.
python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
ids = [r[0] for r in c.execute("select id from results where outcome = ? order by id", ("works",))]
c.execute("update results set outcome = ?, reason = ? where id = ?", ("rejected", "made worse by cli.sh", ids[0]))
c.execute("update results set bytes = bytes * 2 + 1 where id = ?", (ids[1],))
c.execute("delete from results where id = ?", (ids[2],))
c.commit()' "$(cp "$tmp/rep.db" "$tmp/worse.db" && echo "$tmp/worse.db")"
expect 1 "matrix diff of a regression" "$bin" matrix diff "$tmp/rep.db" "$tmp/worse.db"; cp "$tmp/out" "$tmp/diff.txt"
expect 1 "matrix diff --json of a regression" "$bin" matrix diff "$tmp/rep.db" "$tmp/worse.db" --json; js df1
expect 0 "matrix diff --json of no change" "$bin" matrix diff "$tmp/rep.db" "$tmp/rep.db" --json; js df2
expect 0 "matrix diff --impls --json" "$bin" matrix diff "$tmp/rep.db" "$tmp/rep.db" --impls model,flink --json; js df3
expect 2 "matrix diff --json of a missing database" "$bin" matrix diff "$tmp/none.db" "$tmp/rep.db" --json
shapes "matrix diff --json: a regression, none, --impls" "$tmp/j.df1" "$tmp/j.df2" "$tmp/j.df3"
# each line of the text is an element of the JSON, and the counts agree
jq -r '.changes[] | "\(.change | ascii_upcase) \(.guarantee)/\(.kind) \(.backend) \(.versions) [\(.scenario)]"' "$tmp/j.df1" | sort > "$tmp/dj"
jq -r '.costs[] | "\(.change | ascii_upcase) \(.guarantee)/\(.kind) \(.backend) \(.versions) [\(.scenario)] \(.old_bytes) -> \(.new_bytes)"' "$tmp/j.df1" | sort >> "$tmp/dj"
sed -n -e 's/^\(REGRESSION\|CHANGED\|NEW\|GONE\) \([^:]*\]\):.*/\1 \2/p' -e 's/^\(COST[-A-Z]*\) \([^:]*\]\): files [0-9]* -> [0-9]*, bytes \([0-9]*\) -> \([0-9]*\).*/\1 \2 \3 -> \4/p' "$tmp/diff.txt" | sort > "$tmp/dt"
sort -o "$tmp/dj" "$tmp/dj"
want="$(sed -n 's/^\([0-9]*\) regressions*, \([0-9]*\) changed, \([0-9]*\) new, \([0-9]*\) gone, \([0-9]*\) unchanged$/\1 \2 \3 \4 \5/p' "$tmp/diff.txt")"
got="$(jq -r '.summary | "\(.regressions) \(.changed) \(.new) \(.gone) \(.unchanged)"' "$tmp/j.df1")"
if ! cmp -s "$tmp/dj" "$tmp/dt" || [ ! -s "$tmp/dt" ] || [ "$want" != "$got" ] || [ "$(wc -l < "$tmp/dt")" -lt 3 ]; then
    echo "cli: matrix diff --json is not the text's diff: json [$(cat "$tmp/dj")] text [$(cat "$tmp/dt")] counts $got / $want"; bad=1
else echo "ok    matrix diff --json lists what the text lists ($(wc -l < "$tmp/dt") lines, counts $got)"; fi
jq -e '[.changes[] | select(.change == "regression")][0] | .old_outcome == "works" and .new_outcome == "rejected" and .new_reason == "made worse by cli.sh"' "$tmp/j.df1" >/dev/null \
    || { echo "cli: matrix diff --json: the regression's old/new outcome or reason is wrong"; bad=1; }
members_are '`matrix diff`' "$tmp/j.df1"
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
# Progress lines (git's rule): only on a terminal, or with --progress;
# --quiet leaves stderr empty. Under script(1) stderr is a terminal.
pm() { "$bin" matrix --jobs 1 --scenarios "$tmp/msc" --kind native --backend heap --observed "$tmp/none" \
    --db "$tmp/pm.db" --out "$tmp/pm" "$@"; }
pm 2>"$tmp/pm.err" >/dev/null
if grep -q '^\[1/1\]' "$tmp/pm.err" || ! grep -q 'results in' "$tmp/pm.err"; then
    echo "cli: matrix into a file: want the summary and no progress lines: $(cat "$tmp/pm.err")"; bad=1
else echo "ok    matrix into a file: the summary, no progress lines"; fi
pm --progress 2>"$tmp/pm.err" >/dev/null
grep -q '^\[1/1\] relocatable' "$tmp/pm.err" || { echo "cli: matrix --progress: no progress line: $(cat "$tmp/pm.err")"; bad=1; }
pm -q 2>"$tmp/pm.err" >/dev/null
[ -s "$tmp/pm.err" ] && { echo "cli: matrix -q wrote to stderr: $(cat "$tmp/pm.err")"; bad=1; }
"$bin" fuzz --seeds 10 --from 5 --progress 2>"$tmp/fz.err" >/dev/null
grep -q '^fuzz: 10 seeds, ' "$tmp/fz.err" || { echo "cli: fuzz --progress: no progress line: $(cat "$tmp/fz.err")"; bad=1; }
"$bin" fuzz --seeds 10 --from 5 --quiet --json 2>"$tmp/fz.err" >/dev/null
[ -s "$tmp/fz.err" ] && { echo "cli: fuzz --quiet --json wrote to stderr: $(cat "$tmp/fz.err")"; bad=1; }
if command -v script >/dev/null 2>&1; then
    script -qec "$bin matrix --jobs 1 --scenarios $tmp/msc --kind native --backend heap --observed $tmp/none --db $tmp/pm.db --out $tmp/pm" \
        "$tmp/pm.tty" >/dev/null 2>&1
    if grep -q '\[1/1\] relocatable' "$tmp/pm.tty"; then echo "ok    progress lines on a terminal"
    else echo "cli: matrix on a terminal: no progress line"; bad=1; fi
else
    echo "skip  progress on a terminal (script(1) is not installed)"
fi
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
# A long sweep piped into head stops when head has gone (300 seeds would
# take a minute), without a signal: its database holds only the first few.
( "$bin" fuzz --seeds 300 --json --db "$tmp/head.db" 2>/dev/null; echo "$?" >"$tmp/rc" ) | head -n 1 >/dev/null
rc=$(cat "$tmp/rc")
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from results").fetchone()[0])' "$tmp/head.db")
if [ "$rc" -ge 128 ] || [ "$n" -ge 300 ]; then echo "cli: fuzz piped into head: exit $rc after $n seeds"; bad=1
else echo "ok    fuzz piped into head stops ($rc, $n seeds)"; fi
[ $bad -eq 0 ] && echo "cli: all checks passed"
exit $bad
