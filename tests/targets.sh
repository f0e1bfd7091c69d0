#!/bin/sh
# targets.sh: the README's list of make targets and the Makefile agree.
# Every target in the README's "Targets" table is a phony target of the
# Makefile, and every phony target not listed in the Makefile's INTERNAL
# variable is in that table. Exit 1 naming each difference.
cd "$(dirname "$0")/.." || exit 2
phony=$(sed -n 's/^\.PHONY:\(.*\)/\1/p' Makefile | tr ' ' '\n' | sed '/^$/d' | sort -u)
internal=$(sed -n 's/^INTERNAL *:\{0,1\}= *\(.*\)/\1/p' Makefile | tr ' ' '\n' | sed '/^$/d' | sort -u)
documented=$(sed -n 's/^| `make \([a-z-]*\)`.*/\1/p' README.md | sort -u)
[ -n "$documented" ] || { echo "targets: README.md has no Targets table (| \`make X\` | ... |)"; exit 1; }
public=$(printf '%s\n' "$phony" | grep -vxF "$internal")
bad=0
for t in $documented; do
    printf '%s\n' "$phony" | grep -qxF "$t" || { echo "targets: README documents 'make $t', the Makefile has no such phony target"; bad=1; }
done
for t in $public; do
    printf '%s\n' "$documented" | grep -qxF "$t" || { echo "targets: the Makefile has 'make $t', README.md does not document it (or list it in INTERNAL)"; bad=1; }
done
[ $bad -eq 0 ] && echo "targets: README and Makefile agree ($(echo $documented | wc -w) documented targets)"
exit $bad
