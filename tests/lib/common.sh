# shellcheck shell=bash
# common.sh: shell plumbing shared by the case scripts (tests/apps/run*.sh,
# tests/interop/run.sh). Sourced, never run. Each script sets its variables,
# sources this file, then calls fresh_workdir (and shared_pki if it needs the
# shared PKI). Sourcing it sets pids=() and `trap cleanup EXIT`.
#
# Variables the script sets BEFORE sourcing:
#   name    the case name (used in failure messages)
#   label   the test label for messages: "apps" or "interop"
#   base    the scratch directory shared by all cases of the build
#   w       this case's work directory ($base/work/$name)
#   T       seconds any single process may run (timeout)
#   pki     where shared_pki makes the PKI (only if shared_pki is called)
# Optional, with their defaults:
#   fail_logs=(log)        extensions of the $w files fail prints the tail of
#   fail_tail=25           how many lines of each of them fail prints
#   port_lo=10000          free_port picks from port_lo .. port_lo+port_n-1
#   port_n=10000           (apps: 10000-19999; interop: 20000-31999)
#   bg_log_stdout=         1: bg appends CMD's stdout and stderr to LOG;
#                          else it truncates LOG with stderr only
#
# Functions:
#   fresh_workdir       creates $base and an empty $w
#   shared_pki [FN...]  under the lock $base/.lock: makes the shared PKI in
#                       $pki (tests/interop/mkcerts.sh, idempotent), then
#                       runs FN... (more once-per-build setup) if given
#   kill_pids           kills every pid in pids, then waits for all children
#   cleanup             the EXIT trap: kill_pids (a script needing more
#                       redefines cleanup after sourcing, calling kill_pids)
#   fail MSG            prints "$label/$name: FAIL: MSG" and the last
#                       $fail_tail lines of each $w/*.EXT log, exits 1
#   has FILE RE         fails unless $w/FILE has a line matching RE (ERE)
#   hasnt FILE RE       fails if $w/FILE has a line matching RE
#   count FILE RE       prints how many lines of $w/FILE match RE
#   need PROG           fails unless PROG is on PATH
#   free_port           sets $port to a free loopback port in the range,
#                       holding $base/.portlock (fd 8) until wait_listen, so
#                       parallel cases (of every script) never collide
#   wait_listen PORT    waits until something listens on PORT, then drops
#                       the port lock; fails after 5 s
#   bg LOG CMD...       starts CMD under timeout $T in the background, stdin
#                       /dev/null, output per bg_log_stdout; sets $bgpid and
#                       adds it to pids (scripts with another bg signature
#                       define their own after sourcing)
#   feed FILE OUT N [FIFO]  FIFO (default $w/feed) yields FILE, then stays
#                       open until OUT holds N bytes (the echo came back),
#                       so a stock client that quits on end of input does
#                       not quit before its peer answered
#   relay_start         a socat recording relay on a new $port in front of
#                       the server on $port (kept in $sport), for one
#                       connection: $w/c2s.raw and $w/s2c.raw hold what
#                       crossed each way; sets $relay (its pid)
#   records_only PLAIN  waits for the relay to end, then fails unless both
#                       directions are TLS records only and no piece of the
#                       file PLAIN is in clear (tests/apps/tlsrecords.py);
#                       the record counts in $w/c2s.records, $w/s2c.records

tests_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${name:?}" "${label:?}" "${base:?}" "${w:?}" "${T:?}"
[ -n "${fail_logs+set}" ] || fail_logs=(log)
: "${fail_tail:=25}" "${port_lo:=10000}" "${port_n:=10000}"

fresh_workdir() {
	mkdir -p "$base"
	rm -rf "$w"
	mkdir -p "$w"
}

# shellcheck disable=SC2120 # FN... is optional
shared_pki() {
	(
		flock 9
		bash "$tests_lib/../interop/mkcerts.sh" "${pki:?}" >/dev/null
		[ $# = 0 ] || "$@"
	) 9>"$base/.lock"
}

pids=()
kill_pids() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
cleanup() {
	kill_pids
}
trap cleanup EXIT

fail() {
	echo "$label/$name: FAIL: $*" >&2
	for ext in "${fail_logs[@]}"; do
		for f in "$w"/*."$ext"; do
			[ -e "$f" ] && { echo "== $f"; tail -n "$fail_tail" "$f"; }
		done
	done >&2
	exit 1
}
has() { grep -q -E -- "$2" "$w/$1" || fail "$1 lacks /$2/"; }
hasnt() { ! grep -q -E -- "$2" "$w/$1" || fail "$1 has /$2/"; }
count() { grep -c -E -- "$2" "$w/$1" || true; }
need() { command -v "$1" >/dev/null || fail "$1 is not installed (scripts/deps)"; }

free_port() {
	exec 8>"$base/.portlock"
	flock 8
	for _ in $(seq 100); do
		port=$((port_lo + RANDOM % port_n))
		ss -Htan "sport = :$port" | grep -q . || return 0
	done
	fail "no free port"
}
wait_listen() {
	for _ in $(seq 200); do
		if ss -Hltn "sport = :$1" | grep -q .; then
			flock -u 8
			return 0
		fi
		sleep 0.025
	done
	fail "nothing listens on port $1"
}

bg() {
	local log=$1
	shift
	if [ "${bg_log_stdout:-}" = 1 ]; then
		timeout "$T" "$@" </dev/null >>"$w/$log" 2>&1 8>&- &
	else
		timeout "$T" "$@" </dev/null 2>"$w/$log" 8>&- &
	fi
	bgpid=$!
	pids+=("$bgpid")
}

feed() {
	local fifo=${4:-$w/feed}
	rm -f "$fifo"
	mkfifo "$fifo"
	{
		cat "$1"
		for _ in $(seq $((T * 20))); do
			[ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -ge "$3" ] && break
			sleep 0.05
		done
	} >"$fifo" 2>/dev/null 8>&- &
	pids+=("$!")
}

relay_start() {
	need socat
	sport=$port
	free_port
	bg relay.log socat -r "$w/c2s.raw" -R "$w/s2c.raw" \
		TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr TCP:127.0.0.1:"$sport"
	relay=$bgpid
	wait_listen "$port"
}
records_only() {
	wait "$relay" 2>/dev/null || true
	for d in c2s s2c; do
		python3 "$tests_lib/../apps/tlsrecords.py" "$w/$d.raw" "$1" >"$w/$d.records" 2>&1 ||
			fail "$d: $(cat "$w/$d.records")"
	done
}
