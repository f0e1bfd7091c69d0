#!/usr/bin/env bash
# Builds one runner jar per Flink release, sequentially:
#   target/runner-<v>.jar + target/runner-<v>.classpath   (thin jar + Maven's class path file)
# Usage: conformance/build.sh [VERSION...]    (default: $DEFAULT_VERSIONS below)
# Maven's output goes to target/logs/build-<v>.log; progress to stderr. A release that cannot be
# built leaves target/runner-<v>.FAILED with the reason, and the script goes on with the next.
# A release without flink-state-processor-api on Maven Central is built without spa-read/spa-write
# (target/runner-<v>.NOSPA says so). Exit status: the number of releases that failed (0: all built).
set -u
cd "$(dirname "$0")"
DEFAULT_VERSIONS="1.17.2 1.18.1 1.19.1 1.19.3 1.20.0 1.20.3 2.0.0 2.0.1 2.1.0 2.1.1 2.2.0 2.2.1 2.3.0"
VERSIONS=("$@")
[ ${#VERSIONS[@]} -eq 0 ] && read -r -a VERSIONS <<< "$DEFAULT_VERSIONS"
MVN=${MVN:-mvn}
mkdir -p target/logs
failed=0
say() { echo "build.sh: $*" >&2; }
for v in "${VERSIONS[@]}"; do
    log="target/logs/build-$v.log"
    rm -f "target/runner-$v.FAILED" "target/runner-$v.NOSPA"
    if ! [[ "$v" =~ ^[12]\.[0-9]+\.[0-9]+$ ]]; then
        echo "not a Flink release number: $v (expected 1.x.y or 2.x.y)" > "target/runner-$v.FAILED"
        say "$v: FAILED (not a release number)"; failed=$((failed+1)); continue
    fi
    line=${v%%.*}
    start=$(date +%s)
    say "$v: building (line $line, log $log)"
    if $MVN -B -Dflink.version="$v" -Dflink.line="$line" package > "$log" 2>&1; then
        :
    elif grep -q "flink-state-processor-api:jar:$v" "$log"; then
        say "$v: flink-state-processor-api:$v not served; building without spa-read/spa-write"
        mv "$log" "${log%.log}-spa.log"
        if $MVN -B -Dflink.version="$v" -Dflink.line="$line" -Dnospa package > "$log" 2>&1; then
            echo "org.apache.flink:flink-state-processor-api:$v could not be resolved (see $(basename "${log%.log}")-spa.log)" > "target/runner-$v.NOSPA"
        fi
    elif grep -q "COMPILATION ERROR" "$log" && ! grep -E '^\[ERROR\] /.*\.java' "$log" | grep -qv '/src/spa/'; then
        # only the State Processor API part fails (before 1.17 it has no OperatorIdentifier)
        say "$v: its State Processor API lacks what spa-read/spa-write use; building without them"
        mv "$log" "${log%.log}-spa.log"
        if $MVN -B -Dflink.version="$v" -Dflink.line="$line" -Dnospa package > "$log" 2>&1; then
            echo "the State Processor API of $v does not compile with spa-read/spa-write: $(grep -m1 -E '^\[ERROR\] /' "${log%.log}-spa.log")" > "target/runner-$v.NOSPA"
        fi
    fi
    if [ -f "target/runner-$v.jar" ] && [ -f "target/runner-$v.classpath" ] && grep -q "BUILD SUCCESS" "$log"; then
        got=$(java -jar "target/runner-$v.jar" version 2>/dev/null | sed -n 's/.*"release":"\([^"]*\)".*/\1/p')
        if [ "$got" != "$v" ]; then
            echo "built, but the runner reports release '$got' instead of $v (see $log)" > "target/runner-$v.FAILED"
            say "$v: FAILED (runner reports '$got')"; failed=$((failed+1)); continue
        fi
        say "$v: ok in $(( $(date +%s) - start )) s$([ -f "target/runner-$v.NOSPA" ] && echo ' (no State Processor API)')"
    else
        rm -f "target/runner-$v.jar" "target/runner-$v.classpath"
        reason=$(grep -m1 -E "^\[ERROR\] .*(Could not resolve|could not be resolved|Could not find artifact|Could not transfer)" "$log" || grep -m1 "^\[ERROR\]" "$log" || true)
        if grep -q -E "flink-(streaming-java|clients|connector-base|statebackend-rocksdb):jar:$v" "$log"; then
            reason="Flink release $v is not on Maven Central (or Maven Central is unreachable): $reason"
        elif grep -q "COMPILATION ERROR" "$log"; then
            reason="the runner does not compile against Flink $v: $(grep -m3 -E '\[ERROR\] /' "$log" | tr '\n' ' ')"
        fi
        echo "${reason:-build failed, see $log}" > "target/runner-$v.FAILED"
        say "$v: FAILED: $(cat "target/runner-$v.FAILED" | cut -c1-300)"
        failed=$((failed+1))
    fi
done
exit $failed
