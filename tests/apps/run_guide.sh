#!/usr/bin/env bash
# run_guide.sh CASE: README.md's "Five minutes" guide, run as written. The
# shell block under that heading is taken from README.md itself and executed
# with `tlshim` meaning the built wrapper and the redis port moved to a free
# one, so the guide cannot drift from what works. run_guide.sh --list prints
# the case names (CMake registers one test per name).
#
# Environment as for run.sh: TLSHIM (the built wrapper), TLSHIM_LIBRARY,
# APPS_DIR (scratch; per-case work in $APPS_DIR/work/CASE).
set -euo pipefail

cases=(readme-redis-guide)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail_logs=(log out)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
need redis-server
need redis-cli
need openssl

# The guide's commands: the first ```sh block after the heading.
readme=$here/../../README.md
awk '/^## Five minutes/ { on = 1 } on && /^```sh$/ { code = 1; next }
	code && /^```$/ { exit } code { print }' "$readme" >"$w/guide.sh"
[ -s "$w/guide.sh" ] || fail "README.md has no shell block under '## Five minutes'"
grep -q 'tlshim ca init' "$w/guide.sh" || fail "the guide does not use tlshim ca"

free_port
# The guide backgrounds redis-server itself (through a shell function, so
# $! is a subshell): stop whatever listens on our port at exit.
cleanup() {
	kill_pids
	pkill -f "redis-server.*--port $port" 2>/dev/null || true
}
# Run it as a user would, with these differences only: `tlshim` is the
# built wrapper, the port is a free one, the background server is
# remembered (and waited for) so it can be stopped, a command the guide
# says is refused may fail, and s_client reads no terminal.
{
	echo 'set -euo pipefail'
	echo "tlshim() { timeout $T \"$tlshim\" \"\$@\"; }"
	sed -e "s/6379/$port/g" \
		-e 's/ &$/ \& echo $! >server.pid; sleep 0.2/' \
		-e 's/^\(redis-cli .*\)# not wrapped.*/\1 || echo "REFUSED rc=$?"/' \
		-e 's/^openssl s_client \(.*\)$/timeout 10 openssl s_client \1 <\/dev\/null/' \
		"$w/guide.sh"
} >"$w/run.sh"
(
	cd "$w"
	# the server line is backgrounded; wait for it before the clients
	# run by splitting at that line
	bash -c "$(sed -n '1,/server.pid/p' run.sh)" >"$w/part1.out" 2>"$w/part1.log" ||
		fail "the guide's first part failed"
	wait_listen "$port"
	# the guide's `cd tlshim-redis` happened in the first part
	cd "$w/tlshim-redis" || fail "the guide made no tlshim-redis directory"
	bash -c "$(sed -n '1,2p' ../run.sh; sed -n '/server.pid/,$p' ../run.sh | tail -n +2)" \
		>"$w/part2.out" 2>"$w/part2.log" || fail "the guide's second part failed"
)
[ -s "$w/tlshim-redis/server.pid" ] && pids+=("$(cat "$w/tlshim-redis/server.pid")")

has part1.out '^redis-in: role=server'   # tlshim --check printed the rules
has part2.out '^OK$'                     # set greeting hello
has part2.out '^hello$'                  # get greeting
has part2.out '^PONG$'                   # the -l info ping
has part2.log 'info: rule redis-out: client .*TLSv1.2 .*peer "CN=redis"'
has part2.out 'REFUSED rc='              # the unwrapped redis-cli
hasnt part2.out '^PONG.*PONG'
has part2.out 'Verify return code: 0'    # openssl s_client with the client cert
has part2.out 'Protocol *: TLSv1.2'
echo "apps/$name: ok"
