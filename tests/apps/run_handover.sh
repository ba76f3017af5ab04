#!/usr/bin/env bash
# run_handover.sh CASE: TLS connections that cross exec (shim/handover.h).
# A wrapped server accepts, reads and echoes a little itself, then hands
# the connection on fds 0 and 1 to another program (`cat`): by execve in
# the same process, by fork+exec (CGI style), by posix_spawn with adddup2
# file actions (python3 subprocess, close_fds=False), by Python's default
# subprocess path (vfork, dup2 in the child, exec), by os.system() and C
# popen() (their shell spawned by tlshim), and by a shell script under
# tcpserver that reads a line itself, then runs cat. The peer is stock
# openssl s_client: 1 MiB each way, sha256-identical. A target that cannot
# load tlshim (a static binary, a setuid copy) is refused: the client sees
# the connection end after the server's own echo, a recording relay shows
# only TLS records, and the log says why. run_handover.sh --list prints
# the case names.
#
# Environment: as run.sh. Every process runs under `timeout` and is killed
# on exit; everything is on loopback and free ports.
set -euo pipefail

cases=(
	handover-exec-cat handover-fork-exec-cat handover-spawn-cat handover-subprocess-cat
	handover-subprocess-many handover-path-search handover-tcpserver-script
	handover-wrapped-tcpserver handover-static-refused handover-setuid-refused
	handover-tcpserver-split handover-system-cat handover-popen-cat
)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${cases[@]}"
	exit 0
fi
name=${1:?usage: run_handover.sh CASE | --list}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tlshim=${TLSHIM:?TLSHIM must name the tlshim wrapper}
: "${TLSHIM_LIBRARY:?TLSHIM_LIBRARY must name libtlshim.so}"
export TLSHIM_LIBRARY
base=${APPS_DIR:?APPS_DIR must name a scratch directory}
pki=$base/pki
w=$base/work/$name
T=25 # seconds any single process may run
unset TLSHIM_CONFIG TLSHIM_LOG SSLKEYLOGFILE
# The interpreter itself, not a wrapper script in front of it (pyenv).
py=$(python3 -c 'import sys; print(sys.executable)')

label=apps
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$here/../lib/common.sh"
fresh_workdir
shared_pki

# policy: a server rule "in" on $port (P-256 certificate), log at debug.
policy() {
	printf '[global]\nlog = debug\n[in]\nrole = server\nport = %s\ncert = %s\nkey = %s\n' \
		"$port" "$pki/server-p256.crt" "$pki/server-p256.key" >"$w/p.ini"
}
# s_client PORT IN OUT: stock openssl s_client sends IN and writes what
# comes back to OUT (stdin held open until OUT has as many bytes as IN,
# or for the refusal cases until the server ends); rc in $rc.
s_client() {
	local n
	n=$(stat -c %s "$2")
	feed "$2" "$3" "$n"
	rc=0
	timeout $T openssl s_client -brief -nocommands -connect "127.0.0.1:$1" \
		-servername localhost -CAfile "$pki/ca.crt" -verify_return_error <"$w/feed" >"$3" \
		2>"$3.log" 8>&- || rc=$?
}
# served MODE TARGET [PREFIX COUNT]: the wrapped python3 server on $port
# handing over to TARGET by MODE (handover_server.py), behind a recording
# relay.
served() {
	free_port
	policy
	bg srv.log "$tlshim" -c "$w/p.ini" -- "$py" "$here/handover_server.py" "$port" "$@"
	srv=$bgpid
	wait_listen "$port"
	relay_start
}
# many seq|par: 20 connections to $port one after another (seq) or all at
# once (par), each 16 KiB echoed byte for byte.
many() {
	local cpids=() i
	for i in $(seq 20); do
		head -c 16384 /dev/urandom >"$w/d$1$i.bin"
		if [ "$1" = par ]; then
			(
				feed "$w/d$1$i.bin" "$w/e$1$i.bin" 16384 "$w/f$1$i"
				timeout $T openssl s_client -brief -nocommands -connect "127.0.0.1:$port" \
					-servername localhost -CAfile "$pki/ca.crt" -verify_return_error \
					<"$w/f$1$i" >"$w/e$1$i.bin" 2>/dev/null 8>&-
			) &
			cpids+=("$!")
		else
			s_client "$port" "$w/d$1$i.bin" "$w/e$1$i.bin"
			[ "$rc" = 0 ] || fail "connection $i: s_client exited $rc"
		fi
	done
	for p in "${cpids[@]}"; do wait "$p" || fail "a concurrent s_client failed"; done
	for i in $(seq 20); do
		cmp -s "$w/d$1$i.bin" "$w/e$1$i.bin" || fail "$1 connection $i: echo differs"
	done
}
big_echo() { # big_echo: 1 MiB each way through s_client, sha256-identical
	head -c 1048576 /dev/urandom >"$w/big.bin"
	s_client "$port" "$w/big.bin" "$w/big.echo"
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	[ "$(sha256sum <"$w/big.bin")" = "$(sha256sum <"$w/big.echo")" ] ||
		fail "1 MiB echo differs ($(stat -c %s "$w/big.echo") bytes back)"
}
srv_ok() { # srv_ok: the server (and what it handed over to) ended well
	rc=0
	wait "$srv" || rc=$?
	[ "$rc" = 0 ] || fail "the server exited $rc"
	hasnt srv.log 'truncation|refused|error|warn'
}
# refused TARGET WHY: the hand-over to TARGET is refused: the server exits
# 3 (its exec failed with EPERM), the client got the server's own echo of
# the first 1000 bytes and then a clean end, the marker TARGET would have
# written never crossed, and the log names the reason WHY.
refused() {
	served exec "$1"
	head -c 1048576 /dev/urandom >"$w/big.bin"
	s_client "$port" "$w/big.bin" "$w/big.echo"
	rc=0
	wait "$srv" || rc=$?
	[ "$rc" = 3 ] || fail "the server exited $rc, not 3 (exec refused)"
	has srv.log "handover_server: exec .*Operation not permitted"
	has srv.log "warn: exec .* refused \(EPERM\): TLS connection fd [0-9]+ would reach the new program, but $2"
	[ "$(stat -c %s "$w/big.echo")" = 1000 ] || fail "$(stat -c %s "$w/big.echo") bytes came back, not the server's own 1000"
	cmp -s <(head -c 1000 "$w/big.bin") "$w/big.echo" || fail "the server's own echo differs"
	records_only "$w/marker"
}
marker_prog() { # marker_prog OUT: a C program that prints $w/marker, then copies stdin to stdout
	head -c 256 /dev/urandom | base64 -w0 >"$w/marker"
	printf '#include <unistd.h>\nstatic const char m[] = "%s";\nint main(void){char b[4096];ssize_t n;write(1,m,sizeof m-1);while((n=read(0,b,sizeof b))>0)write(1,b,(size_t)n);return 0;}\n' \
		"$(cat "$w/marker")" >"$w/marker.c"
}

case $name in
handover-exec-cat)
	# The server execs cat in its own process with the connection on 0/1.
	served exec /bin/cat
	big_echo
	srv_ok
	has srv.log 'debug: exec /bin/cat: fd [01](,[01])? \(rule in, 127\.0\.0\.1:[0-9]+\) handed over as TLS state'
	has srv.log 'debug: exec hand-over: fd [01](,[01])? \(rule in, 127\.0\.0\.1:[0-9]+\) restored$'
	records_only "$w/big.bin"
	;;
handover-fork-exec-cat)
	# CGI style: the child of fork() dup2s and execs; the parent closes.
	served fork /bin/cat
	big_echo
	srv_ok
	has srv.log 'debug: exec /bin/cat: fd [01](,[01])? .* handed over as TLS state'
	records_only "$w/big.bin"
	;;
handover-spawn-cat)
	# python3 subprocess with close_fds=False: posix_spawn, adddup2 onto 0/1.
	served spawn /bin/cat
	big_echo
	srv_ok
	has srv.log 'debug: spawn /bin/cat: fd [01](,[01])? .* handed over as TLS state'
	records_only "$w/big.bin"
	;;
handover-subprocess-cat)
	# python3 subprocess with its defaults (close_fds=True): a vfork child
	# dup2s the connection onto 0/1, close_range()s the rest and execs cat;
	# the copies are the child's own (shim/fdtab.h fdtab_view_alias).
	# "cat" by name: Python's child tries execve along $PATH itself, so
	# failed execs (ENOENT) come first and must leave the connection be.
	served subprocess cat
	big_echo
	srv_ok
	has srv.log 'debug: exec (/usr)?/bin/cat: fd [01](,[01])? .* handed over as TLS state'
	has srv.log 'debug: exec hand-over: fd [01](,[01])? \(rule in, 127\.0\.0\.1:[0-9]+\) restored$'
	records_only "$w/big.bin"
	;;
handover-path-search)
	# The same, with 8 missing directories before the one that has cat:
	# Python's child tries execve once per PATH entry, and only the one
	# that runs gets a hand-over (one memfd pair, one log line naming both
	# descriptors, one restore).
	miss=$(printf '/nonexistent%d:' 1 2 3 4 5 6 7 8)
	PATH=$miss$PATH served subprocess cat
	big_echo
	srv_ok
	[ "$(count srv.log 'handed over as')" = 1 ] ||
		fail "$(count srv.log 'handed over as') hand-overs logged, not 1"
	has srv.log 'debug: exec (/usr)?/bin/cat: fd 0,1 \(rule in, 127\.0\.0\.1:[0-9]+\) handed over as TLS state$'
	[ "$(count srv.log 'debug: exec hand-over: fd 0,1 .* restored$')" = 1 ] ||
		fail "not one restore of fd 0,1"
	records_only "$w/big.bin"
	;;
handover-subprocess-many)
	# The same CGI-style server for 41 connections: 20 one after another,
	# 20 at once (each cat a vfork child of the server, running while it
	# accepts the next), one 1 MiB sha256-identical through the relay.
	served subprocess cat 1000 41
	rport=$port
	port=$sport # the first 40 straight to the server, the last via the relay
	many seq
	many par
	port=$rport
	big_echo
	srv_ok
	[ "$(count srv.log 'debug: exec hand-over: fd [01](,[01])? .* restored$')" = 41 ] ||
		fail "not 41 hand-overs restored"
	records_only "$w/big.bin"
	;;
handover-tcpserver-script)
	# tcpserver (unwrapped) runs a wrapped shell script: sh reads a line
	# itself and answers it, then runs cat (fork+exec) on the rest.
	need tcpserver
	free_port
	policy
	# shellcheck disable=SC2016 # the script's own $line
	printf 'IFS= read -r line\nprintf "hello %%s\\n" "$line"\ncat\n' >"$w/service.sh"
	bg srv.log tcpserver -v -RHl0 -c 40 127.0.0.1 "$port" \
		"$tlshim" -c "$w/p.ini" -- sh "$w/service.sh"
	wait_listen "$port"
	relay_start
	{
		echo "tlshim"
		head -c 1048576 /dev/urandom
	} >"$w/big.bin"
	{
		echo "hello tlshim"
		tail -c +8 "$w/big.bin"
	} >"$w/want.bin"
	feed "$w/big.bin" "$w/big.echo" "$(stat -c %s "$w/want.bin")"
	rc=0
	timeout $T openssl s_client -brief -nocommands -connect "127.0.0.1:$port" \
		-servername localhost -CAfile "$pki/ca.crt" -verify_return_error <"$w/feed" \
		>"$w/big.echo" 2>"$w/big.echo.log" 8>&- || rc=$?
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	[ "$(sha256sum <"$w/want.bin")" = "$(sha256sum <"$w/big.echo")" ] ||
		fail "echo differs ($(stat -c %s "$w/big.echo") bytes back)"
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	has srv.log '^tcpserver: end [0-9]+ status 0$'
	has srv.log 'debug: exec (/usr)?/bin/cat: fd [01](,[01])? .* handed over as TLS state'
	hasnt srv.log 'truncation|refused|error|warn'
	records_only "$w/big.bin"
	;;
handover-wrapped-tcpserver)
	# The super-server itself wrapped (the issue's first attempt): tcpserver
	# accepts the TLS connection, its child dup2s it onto 0/1 and execs
	# cat; 20 connections one after another, then 20 at once, each 16 KiB
	# echoed byte for byte, one 1 MiB sha256-identical through a relay.
	need tcpserver
	free_port
	policy
	bg srv.log "$tlshim" -c "$w/p.ini" -- tcpserver -v -RHl0 -c 40 127.0.0.1 "$port" cat
	wait_listen "$port"
	many seq
	many par
	relay_start
	big_echo
	records_only "$w/big.bin"
	[ "$(count srv.log 'debug: exec /usr/bin/cat: fd [01](,[01])? .* handed over as fresh server connection')" -ge 41 ] ||
		fail "fewer than 41 hand-overs logged"
	hasnt srv.log 'truncation|refused|error|warn'
	;;
handover-tcpserver-split)
	# `head -c N | sha256sum` under tcpserver: head reads the connection,
	# sha256sum writes it. One user per connection: the first of the two
	# to exec gets it and the other is refused (EPERM, logged) instead of
	# a second writer on the same key. Nothing crosses in clear; the client
	# never gets a hash.
	need tcpserver
	free_port
	policy
	bg srv.log tcpserver -v -RHl0 -c 40 127.0.0.1 "$port" \
		"$tlshim" -c "$w/p.ini" -- sh -c 'head -c 4096 | sha256sum'
	wait_listen "$port"
	relay_start
	head -c 4096 /dev/urandom >"$w/in.bin"
	sha256sum <"$w/in.bin" >"$w/marker"
	feed "$w/in.bin" "$w/out.bin" 1
	rc=0
	timeout 10 openssl s_client -brief -nocommands -connect "127.0.0.1:$port" \
		-servername localhost -CAfile "$pki/ca.crt" -verify_return_error <"$w/feed" \
		>"$w/out.bin" 2>"$w/out.log" 8>&- || rc=$?
	# head first: sha256sum's write is refused and nothing comes back;
	# sha256sum first: head's read is refused and the hash is of nothing.
	[ ! -s "$w/out.bin" ] || [ "$(cat "$w/out.bin")" = "$(sha256sum </dev/null)" ] ||
		fail "the client got $(stat -c %s "$w/out.bin") bytes: $(head -c 80 "$w/out.bin")"
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	has srv.log 'warn: rule in: .* another process uses this connection since fork\(\) or exec \(only one may\); refused \(EPERM\)'
	has srv.log '(head|sha256sum): .*(error|Operation not permitted)'
	records_only "$w/marker"
	;;
handover-system-cat)
	# os.system() with the connection on 0/1: glibc would start the shell
	# where no hook sees it, so tlshim spawns it (shim/hook_system.c); the
	# shell forks cat, which gets the connection, then exits 7, which
	# system() returns.
	served system 'cat; exit 7'
	big_echo
	srv_ok
	has srv.log 'handover_server: system status 7$'
	has srv.log 'debug: spawn /bin/sh: fd [01](,[01])? .* handed over as TLS state'
	has srv.log 'debug: exec (/usr)?/bin/cat: fd [01](,[01])? .* handed over as TLS state'
	records_only "$w/big.bin"
	;;
handover-popen-cat)
	# C popen(cmd, "w") (ctypes) with the connection on fd 1, the child's
	# stdout; the command takes its stdin from it too (<&1) and exits 5,
	# which pclose() returns.
	served popen 'cat <&1; exit 5'
	big_echo
	srv_ok
	has srv.log 'handover_server: pclose status 5$'
	has srv.log 'debug: spawn /bin/sh: fd 1 .* handed over as TLS state'
	has srv.log 'debug: exec (/usr)?/bin/cat: fd [01](,[01])? .* handed over as TLS state'
	records_only "$w/big.bin"
	;;
handover-static-refused)
	need gcc
	marker_prog
	gcc -static -O1 -o "$w/static-cat" "$w/marker.c" 2>"$w/gcc.log" ||
		fail "gcc -static failed (libc.a missing? scripts/deps)"
	refused "$w/static-cat" 'it is statically linked'
	;;
handover-setuid-refused)
	need gcc
	marker_prog
	gcc -O1 -o "$w/setuid-cat" "$w/marker.c"
	chmod u+s "$w/setuid-cat"
	refused "$w/setuid-cat" 'it is setuid/setgid or has file capabilities'
	;;
*) fail "unknown case" ;;
esac
echo "$label/$name: ok"
