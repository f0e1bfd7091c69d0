#!/bin/sh
# determinism: the same seed gives the same trace digest, run twice, on
# both backends, and again under libfaketime with the wall clock shifted by
# years and sped up 10x (the simulation must not read it). A different seed
# must give a different digest, or the digest proves nothing.
# usage: tests/determinism.sh ./snapsim
set -u
bin=${1:-./snapsim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapsim-det.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
digest() { sed -n 's/.*"digest":"\([0-9a-f]*\)".*/\1/p' | head -n 1; }

take() { # kind backend seed dir [wrapper...]
    k=$1 b=$2 s=$3 d=$4; shift 4
    "$@" "$bin" take --kind "$k" --backend "$b" --seed "$s" --records 800 --incremental --out "$tmp/$d" --json | digest
}
check() { # what a b
    if [ -n "$2" ] && [ "$2" = "$3" ]; then echo "ok    $1 ($2)"; else echo "FAIL  $1: '$2' vs '$3'"; fails=$((fails+1)); fi
}

for b in heap rocksdb; do
    for k in aligned unaligned native; do
        a=$(take $k $b 11 "$b-$k-1"); c=$(take $k $b 11 "$b-$k-2")
        check "take $k/$b same seed twice" "$a" "$c"
    done
done
# Checkpoints in progress at once interleave, deterministically.
conc() { "$bin" take --kind aligned --backend rocksdb --seed 13 --records 800 --incremental --max-concurrent-checkpoints 3 --out "$tmp/$1" --json | digest; }
a=$(conc conc-1); c=$(conc conc-2)
check "take aligned/rocksdb, 3 concurrent checkpoints, same seed twice" "$a" "$c"
# A used storage changes the ids drawn, never the digest: replaying a seed
# into the directory of an earlier run must reproduce it.
for k in native unaligned; do
    a=$(take $k rocksdb 11 used); c=$(take $k rocksdb 11 used)
    check "take $k/rocksdb twice into the same --out" "$a" "$c"
done
# A replay stopped mid-case (--until) shows the same state every time.
stopped() { "$bin" replay --seed 7 --until 600 --json | cksum | cut -d' ' -f1; }
a=$(stopped); c=$(stopped)
check "replay --until 600 twice: the same state" "$a" "$c"
a=$(take unaligned heap 11 other-1); c=$(take unaligned heap 12 other-2)
if [ -n "$a" ] && [ "$a" != "$c" ]; then echo "ok    different seeds differ ($a, $c)"; else echo "FAIL  seeds 11 and 12 gave '$a' and '$c'"; fails=$((fails+1)); fi

if command -v faketime >/dev/null 2>&1; then
    # ASan insists on coming first; libfaketime is preloaded before it.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
    for b in heap rocksdb; do
        a=$(take unaligned $b 11 "ft-$b-0")
        c=$(take unaligned $b 11 "ft-$b-1" faketime -f '+7y x10')
        check "take unaligned/$b under faketime +7y x10" "$a" "$c"
        c=$(take unaligned $b 11 "ft-$b-2" faketime -f '-3y x0.5')
        check "take unaligned/$b under faketime -3y x0.5" "$a" "$c"
    done
else
    echo "FAIL  faketime is not installed (make deps installs it)"; fails=$((fails+1))
fi

for b in heap rocksdb; do
    p=$("$bin" take --kind unaligned --backend $b --seed 5 --records 800 --out "$tmp/r-$b")
    a=$("$bin" restore "$p" --backend $b --records 400 --json | digest)
    c=$("$bin" restore "$p" --backend $b --records 400 --json | digest)
    check "restore unaligned/$b same seed twice" "$a" "$c"
done

s1=$("$bin" scenario run scenarios/rescaling.json --kind unaligned --backend rocksdb --json | digest)
s2=$("$bin" scenario run scenarios/rescaling.json --kind unaligned --backend rocksdb --json | digest)
check "scenario rescaling unaligned/rocksdb twice" "$s1" "$s2"

[ $fails = 0 ] && echo "determinism: all checks passed" || echo "determinism: $fails check(s) failed"
[ $fails = 0 ]
