#!/usr/bin/env bash
# run_inherit.sh CASE: services started by a super-server with the
# connection already accepted (inherit.h): ucspi-tcp tcpserver (cat and a
# shell script), systemd's systemd-socket-activate (Accept=yes and
# Accept=no), xinetd and openbsd-inetd, each unwrapped, starting a wrapped
# service; the peer is stock openssl s_client. Each super-server passes
# full_check (issue 11 item 3) and has a *-plain-refused case (a client in
# clear gets nothing back in clear). run_inherit.sh --list prints the case
# names.
#
# Environment: as run.sh. Every process runs under `timeout` and is killed
# on exit; everything is on loopback and free ports.
set -euo pipefail

cases=(
	tcpserver-echo tcpserver-many tcpserver-plain-refused tcpserver-static-refused tcpserver-script
	socket-activate-inetd socket-activate-inetd-plain-refused socket-activate-accept-fd3
	socket-activate-listen socket-activate-listen-plain-refused
	xinetd-nowait xinetd-plain-refused openbsd-inetd-nowait openbsd-inetd-plain-refused
	inherited-tls-not-rehandshaken inherited-client-port-plain inherited-mptcp
)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
# The interpreter itself: a wrapper script in front of it (pyenv's shims)
# would be a wrapped program exec'ing another with the connection open.
py=$(python3 -c 'import sys; print(sys.executable)')
shared_pki

# policy [LOGFILE]: a server rule "in" on $port (P-256 certificate), log at
# info, to LOGFILE when given.
policy() {
	printf '[global]\nlog = info\n%b[in]\nrole = server\nport = %s\ncert = %s\nkey = %s\n' \
		"${1:+log_file = $1\n}" "$port" "$pki/server-p256.crt" "$pki/server-p256.key" >"$w/p.ini"
}
info_ok() { # info_ok LOG: the tlshim info line of one server connection
	has "$1" "^tlshim\[[0-9]+\]: info: rule in: server .* TLSv1\.[23] [A-Z0-9_-]+ [a-z0-9]+ peer "
}
# s_client PORT IN OUT [FIFO]: stock openssl s_client sends IN and writes
# what comes back to OUT (stdin held open until the echo is complete); its
# stderr in OUT.log. rc in $rc.
s_client() {
	local n
	n=$(stat -c %s "$2")
	feed "$2" "$3" "$n" "${4:-}"
	rc=0
	timeout $T openssl s_client -brief -nocommands -connect "127.0.0.1:$1" \
		-servername localhost -CAfile "$pki/ca.crt" -verify_return_error <"${4:-$w/feed}" >"$3" \
		2>"$3.log" 8>&- || rc=$?
}
# payload FILE N: a first line "tlshim-check $marker" (text: a shell
# service reads it with `read`), then N random bytes.
marker="CLEAR-MARKER-$RANDOM$RANDOM$RANDOM"
payload() {
	{
		echo "tlshim-check $marker"
		head -c "$2" /dev/urandom
	} >"$1"
}
# echo_ok PORT N [parallel]: N connections, one after another (or all at
# once), each sending its own 16 KiB, each echoed byte for byte.
echo_ok() {
	local p=$1 n=$2 par=${3:-} cpids=()
	for i in $(seq "$n"); do
		payload "$w/d$i.bin" 16384
		if [ -n "$par" ]; then
			(
				s_client "$p" "$w/d$i.bin" "$w/e$i.bin" "$w/f$i"
				exit "$rc"
			) &
			cpids+=("$!")
		else
			s_client "$p" "$w/d$i.bin" "$w/e$i.bin"
			[ "$rc" = 0 ] || fail "connection $i: s_client exited $rc"
		fi
	done
	for i in "${!cpids[@]}"; do
		wait "${cpids[$i]}" || fail "connection $((i + 1)): s_client failed"
	done
	for i in $(seq "$n"); do
		cmp -s "$w/d$i.bin" "$w/e$i.bin" || fail "connection $i: echo differs"
	done
}
big_echo() { # big_echo PORT: 1 MiB each way through s_client, sha256-identical
	payload "$w/big.bin" 1048576
	s_client "$1" "$w/big.bin" "$w/big.echo"
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	[ "$(sha256sum <"$w/big.bin")" = "$(sha256sum <"$w/big.echo")" ] ||
		fail "1 MiB echo differs ($(stat -c %s "$w/big.echo") bytes back)"
}
# tcpserver_start [LEVEL [SERVICE...]]: tcpserver (unwrapped) on $port, the
# service (default cat) wrapped, tlshim's log at LEVEL (default info).
tcpserver_start() {
	need tcpserver
	free_port
	policy
	local level=${1:-info}
	[ $# = 0 ] || shift
	[ $# != 0 ] || set -- cat
	bg srv.log tcpserver -v -RHl0 -c 40 127.0.0.1 "$port" \
		"$tlshim" -l "$level" -c "$w/p.ini" -- "$@"
	wait_listen "$port"
}
# wait_count FILE RE N: waits (up to 5 s) until $w/FILE has N lines
# matching RE, then fails unless it has exactly N.
wait_count() {
	for _ in $(seq 100); do
		[ "$(count "$1" "$2")" -ge "$3" ] && break
		sleep 0.05
	done
	[ "$(count "$1" "$2")" = "$3" ] || fail "$1: $(count "$1" "$2") lines match /$2/, not $3"
}
# full_check PORT LOG N: issue 11 item 3 against the wrapped echo service
# on PORT. 1 MiB each way through a recording relay, sha256-identical, both
# directions TLS records only, the marker never in clear; 20 connections
# one after another and 20 at once, each echoed byte for byte; LOG (the
# file the service's tlshim logs its info lines to) then has N + 41 TLS
# connections (N: those before). $port is PORT again afterwards.
full_check() {
	port=$1
	relay_start
	big_echo "$port"
	records_only "$w/big.bin"
	! grep -q -a -F "$marker" "$w/c2s.raw" "$w/s2c.raw" || fail "the marker crossed in clear"
	port=$1
	echo_ok "$port" 20
	echo_ok "$port" 20 parallel
	wait_count "$2" 'info: rule in: server .* TLSv1\.' $(($3 + 41))
}
# plain_refused PORT LOG: a client speaking in clear to the wrapped service
# on PORT gets no echo and no byte of its input back in clear: the answer
# is TLS records only (an alert) or nothing, and LOG has the rule's warning.
plain_refused() {
	need socat
	echo "PLAIN-$marker" >"$w/plain.in"
	rc=0
	timeout $T socat -t 5 - TCP:127.0.0.1:"$1" <"$w/plain.in" >"$w/plain.out" 2>"$w/plain.log" ||
		rc=$?
	! grep -q -a -F "$marker" "$w/plain.out" || fail "the plaintext came back"
	python3 "$here/tlsrecords.py" "$w/plain.out" "$w/plain.in" >"$w/plain.records" 2>&1 ||
		fail "answer to a plaintext client: $(cat "$w/plain.records")"
	for _ in $(seq 100); do grep -q -E 'warn: rule in: server ' "$w/$2" && break; sleep 0.05; done
	has "$2" '^tlshim\[[0-9]+\]: warn: rule in: server .*127\.0\.0\.1'
}

# example FILE: examples/FILE made runnable here: the installed tlshim
# becomes the built one, the policy $w/p.ini, the service /bin/cat.
src=$(cd "$here/../.." && pwd)
example() {
	[ -s "$src/examples/$1" ] || fail "examples/$1 missing"
	sed -e "s|/usr/bin/tlshim|$tlshim|" -e "s|/etc/tlshim/inetd-style.ini|$w/p.ini|" \
		-e "s|/usr/local/libexec/legacyd|/bin/cat|" -e "s|7007|$port|" "$src/examples/$1"
}

case $name in
tcpserver-echo)
	# full_check, the 1 MiB connection through the recording relay: fd 0
	# and fd 1 (one socket) are one connection, so one close_notify each way.
	tcpserver_start debug
	full_check "$port" srv.log 0
	wait_count srv.log '^tcpserver: end [0-9]+ status 0$' 41
	info_ok srv.log
	has srv.log 'inherited fd [01]: connection from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:[0-9]+: rule in'
	has srv.log 'inherited fd [01]: another descriptor of 127\.0\.0\.1:'
	hasnt srv.log 'truncation|refused|error|warn'
	# TLS 1.2 (the engine's version here): an alert is its own record type
	# even encrypted, so each side's close_notify is exactly one type-21.
	has srv.log 'info: rule in: server .* TLSv1\.2 '
	read -r _ alerts _ <<<"$(cut -d' ' -f2 "$w/s2c.records" | tr '=' ' ')"
	[ "$alerts" = 1 ] || fail "server sent $alerts alert records, not one close_notify"
	read -r _ calerts _ <<<"$(cut -d' ' -f2 "$w/c2s.records" | tr '=' ' ')"
	[ "$calerts" = 1 ] || fail "client sent $calerts alert records"
	;;

tcpserver-many)
	# 20 connections one after another, then 20 at once, at log level
	# info and without a relay: each its own process, handshake and echo,
	# and each service exits 0.
	tcpserver_start
	echo_ok "$port" 20
	echo_ok "$port" 20 parallel
	wait_count srv.log '^tcpserver: end [0-9]+ status 0$' 40
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 40 ] || fail "not 40 TLS connections"
	hasnt srv.log 'warn|error'
	;;

tcpserver-plain-refused)
	# A client speaking in clear gets nothing from the wrapped cat: its
	# bytes never reach cat (no echo), the refusal is logged and the
	# service exits non-zero.
	tcpserver_start
	plain_refused "$port" srv.log
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	has srv.log '^tcpserver: end [0-9]+ status [1-9]'
	;;

tcpserver-static-refused)
	# The service cannot load tlshim (statically linked; it would write the
	# marker first, then echo): the wrapper refuses to start it, so the
	# s_client peer (behind a recording relay) sees its connection end, the
	# server side sent not one byte, and nothing came back in clear.
	need gcc
	printf '#include <unistd.h>\nint main(void){char b[4096];ssize_t n;write(1,"%s\\n",%d);while((n=read(0,b,sizeof b))>0)write(1,b,(size_t)n);return 0;}\n' \
		"$marker" $((${#marker} + 1)) >"$w/static.c"
	gcc -static -O2 -o "$w/static" "$w/static.c" 2>"$w/gcc.log" || fail "gcc -static failed"
	tcpserver_start info "$w/static"
	relay_start
	payload "$w/big.bin" 65536
	s_client "$port" "$w/big.bin" "$w/big.echo"
	[ "$rc" != 0 ] || fail "s_client succeeded against a service that cannot load tlshim"
	records_only "$w/big.bin"
	[ ! -s "$w/s2c.raw" ] || fail "the server side sent $(stat -c %s "$w/s2c.raw") bytes"
	! grep -q -a -F "$marker" "$w/big.echo" || fail "the static service's marker came back"
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	has srv.log "^tlshim: $w/static is statically linked: LD_PRELOAD cannot reach it, so it would talk in clear; refusing\$"
	has srv.log '^tcpserver: end [0-9]+ status [1-9]'
	;;

tcpserver-script)
	# tcpserver runs a wrapped /bin/sh script: the shell itself reads the
	# first line (byte by byte, as sh's read does on a socket), notes it on
	# stderr (tcpserver's log, not the connection), answers it, then execs
	# cat for the rest: the TLS connection crosses exec (shim/handover.h),
	# restored in cat, not hand-shaken again (full_check: 41 handshakes).
	# shellcheck disable=SC2016 # the script's own $line and $$
	printf '%s\n' 'IFS= read -r line || exit 1' 'printf "script %s read: %s\n" "$$" "$line" >&2' \
		'printf "%s\n" "$line"' 'exec cat' >"$w/service.sh"
	tcpserver_start debug sh "$w/service.sh"
	full_check "$port" srv.log 0
	wait_count srv.log '^tcpserver: end [0-9]+ status 0$' 41
	[ "$(count srv.log "^script [0-9]+ read: tlshim-check $marker\$")" = 41 ] ||
		fail "the shell did not read the first line of every connection"
	[ "$(count srv.log 'debug: exec hand-over: fd [01](,[01])? \(rule in, 127\.0\.0\.1:[0-9]+\) restored$')" = 41 ] ||
		fail "not 41 connections handed over to cat"
	hasnt srv.log 'truncation|refused|error|warn'
	;;

socket-activate-inetd)
	# systemd Accept=yes with StandardInput=socket (the connection on 0 and
	# 1), as examples/systemd/legacyd.socket and legacyd@.service set it up:
	# systemd-analyze accepts the pair, and their ExecStart= runs under
	# systemd-socket-activate (the same protocol, without PID 1).
	need systemd-socket-activate
	free_port
	policy
	mkdir -p "$w/units"
	example systemd/legacyd.socket >"$w/units/legacyd.socket"
	example systemd/legacyd@.service >"$w/units/legacyd@.service"
	has units/legacyd.socket '^Accept=yes$'
	has units/legacyd@.service '^StandardInput=socket$'
	if command -v systemd-analyze >/dev/null; then
		rc=0
		(cd "$w/units" && SYSTEMD_UNIT_PATH="$w/units:" timeout $T systemd-analyze verify \
			--man=no "$w/units/legacyd.socket" "$w/units/legacyd@1.service") \
			>"$w/verify.log" 2>&1 || rc=$?
		if [ "$rc" != 0 ] || [ -s "$w/verify.log" ]; then
			fail "systemd-analyze verify: $(cat "$w/verify.log")"
		fi
	fi
	read -r -a cmd <<<"$(sed -n 's/^ExecStart=//p' "$w/units/legacyd@.service")"
	[ "${cmd[0]}" = "$tlshim" ] || fail "legacyd@.service does not start the service under tlshim"
	bg srv.log systemd-socket-activate -a --inetd -l 127.0.0.1:"$port" "${cmd[@]}"
	wait_listen "$port"
	full_check "$port" srv.log 0
	hasnt srv.log 'warn|error'
	;;

socket-activate-inetd-plain-refused)
	# Accept=yes, --inetd: a client in clear gets nothing in clear back.
	need systemd-socket-activate
	free_port
	policy
	bg srv.log systemd-socket-activate -a --inetd -l 127.0.0.1:"$port" \
		"$tlshim" -c "$w/p.ini" -- cat
	wait_listen "$port"
	plain_refused "$port" srv.log
	;;

socket-activate-listen | socket-activate-listen-plain-refused)
	# systemd Accept=no: the listening socket as fd 3 (LISTEN_FDS=1); a
	# python3 socketserver accepts from it like from its own listener.
	need systemd-socket-activate
	free_port
	policy
	cat >"$w/srv.py" <<-'PY'
		import os, socket, socketserver
		assert os.environ["LISTEN_FDS"] == "1" and os.environ["LISTEN_PID"] == str(os.getpid())
		class Echo(socketserver.BaseRequestHandler):
		    def handle(self):
		        while (b := self.request.recv(65536)):
		            self.request.sendall(b)
		srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo, bind_and_activate=False)
		srv.socket.close()
		srv.socket = socket.socket(fileno=3)
		srv.serve_forever()
	PY
	bg srv.log systemd-socket-activate -l 127.0.0.1:"$port" \
		"$tlshim" -c "$w/p.ini" -- "$py" "$w/srv.py"
	wait_listen "$port"
	if [ "$name" = socket-activate-listen ]; then
		full_check "$port" srv.log 0
		hasnt srv.log 'warn|error|Traceback'
	else
		# The handler's recv fails (the handshake did): no echo, in clear
		# or not, and the server lives on for the next client.
		plain_refused "$port" srv.log
		echo_ok "$port" 1
	fi
	;;

xinetd-nowait | xinetd-plain-refused)
	# xinetd (unwrapped, foreground, its own configuration) with a
	# `stream tcp nowait` service: the wrapped cat gets the connection on
	# 0, 1 and 2 (so tlshim logs to a file: stderr is the TLS stream).
	need xinetd
	free_port
	policy "$w/tlshim.log"
	# examples/xinetd/legacyd, on loopback, as this user, with the library.
	{
		printf 'defaults\n{\n\tlog_type = FILE %s\n}\n' "$w/xinetd-service.log"
		example xinetd/legacyd | sed -e "s|^\(\tuser *= \).*|\1$(id -un)|" \
			-e "s|^\(\tport *= .*\)|\1\n\tbind = 127.0.0.1\n\tenv = TLSHIM_LIBRARY=$TLSHIM_LIBRARY TLSHIM_LOG=debug|"
	} >"$w/xinetd.conf"
	has xinetd.conf '^	wait *= no$'
	has xinetd.conf "^	server *= $tlshim\$"
	bg_log_stdout=1 bg srv.log xinetd -dontfork -pidfile "$w/xinetd.pid" -f "$w/xinetd.conf"
	wait_listen "$port"
	if [ "$name" = xinetd-plain-refused ]; then
		plain_refused "$port" tlshim.log
	else
		full_check "$port" tlshim.log 0
		# xinetd puts the socket on 0, 1 and 2: one connection, three names.
		wait_count tlshim.log 'inherited fd [012]: another descriptor of ' 82
		hasnt tlshim.log 'warn|error'
	fi
	;;

openbsd-inetd-nowait | openbsd-inetd-plain-refused)
	# openbsd-inetd (unwrapped, `inetd -d`: debug, in the foreground) with
	# its own inetd.conf: a `stream tcp nowait` service on 127.0.0.1:PORT
	# whose program is env (inetd launders the environment) starting the
	# wrapped cat with the connection on 0, 1 and 2.
	inetd=/opt/tlshim-deps/openbsd-inetd/usr/sbin/inetd # scripts/deps unpacks it there
	[ -x "$inetd" ] || fail "$inetd is missing (scripts/deps)"
	free_port
	policy "$w/tlshim.log"
	printf '127.0.0.1:%s stream tcp nowait %s /usr/bin/env env TLSHIM_LIBRARY=%s TLSHIM_LOG=debug %s -c %s -- /bin/cat\n' \
		"$port" "$(id -un)" "$TLSHIM_LIBRARY" "$tlshim" "$w/p.ini" >"$w/inetd.conf"
	bg_log_stdout=1 bg srv.log "$inetd" -d "$w/inetd.conf"
	wait_listen "$port"
	if [ "$name" = openbsd-inetd-plain-refused ]; then
		plain_refused "$port" tlshim.log
	else
		full_check "$port" tlshim.log 0
		has srv.log "^ADD: 127\.0\.0\.1:$port proto=tcp, wait\.max=0\.256 .*server=/usr/bin/env"
		wait_count tlshim.log 'inherited fd [012]: another descriptor of ' 82
		hasnt tlshim.log 'warn|error'
	fi
	;;

inherited-tls-not-rehandshaken)
	# An inherited socket whose handshake already ran in another image (the
	# parent spoke TLS on it itself): the wrapped service must neither
	# hand-shake it again successfully nor use it in clear. Its first act
	# is to write a marker; then it would echo what it reads.
	free_port
	policy
	tag="CLEAR-MARKER-$RANDOM$RANDOM"
	rc=0
	timeout $T python3 "$here/inherit_tls.py" "$port" "$tag" "$pki/ca.crt" \
		"$pki/server-p256.crt" "$pki/server-p256.key" -- "$tlshim" -c "$w/p.ini" -- \
		"$py" -c 'import os, sys
os.write(1, sys.argv[1].encode() + b"\n")
os.write(1, os.read(0, 4096))' "$tag" >"$w/peer.log" 2>"$w/srv.log" 8>&- || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc: $(cat "$w/peer.log")"
	has peer.log '^service exit 1 '
	has srv.log 'ConnectionResetError'
	has srv.log '^tlshim\[[0-9]+\]: warn: rule in: server .*127\.0\.0\.1'
	;;

socket-activate-accept-fd3)
	# systemd Accept=yes without StandardInput=socket: the connection is
	# fd 3 (LISTEN_FDS=1), not stdin; a python3 echo serves it from there.
	need systemd-socket-activate
	free_port
	policy
	cat >"$w/srv.py" <<-'PY'
		import os, socket
		assert os.environ["LISTEN_FDS"] == "1"
		s = socket.socket(fileno=3)
		while (b := s.recv(65536)):
		    s.sendall(b)
		s.close()
	PY
	bg srv.log systemd-socket-activate -a -l 127.0.0.1:"$port" \
		"$tlshim" -c "$w/p.ini" -- "$py" "$w/srv.py"
	wait_listen "$port"
	# Not full_check (socket-activate-inetd runs it on the same program):
	# 41 python3 starts took 10-12 s here, up to the 25 s timeout under load.
	big_echo "$port"
	echo_ok "$port" 5
	echo_ok "$port" 5 parallel
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 11 ] || fail "not 11 TLS connections"
	hasnt srv.log 'warn|error|Traceback'
	;;

inherited-client-port-plain)
	# Client rules never apply to inherited sockets (inherit.h): socat,
	# unwrapped, connects to a plain server on a client rule's port and
	# execs (nofork) the wrapped program with the connection on 0 and 1;
	# that program's bytes arrive as they are, no ClientHello.
	need socat
	free_port
	printf '[global]\nlog = debug\n[out]\nrole = client\nport = %s\nca = %s\nserver_name = localhost\n' \
		"$port" "$pki/ca.crt" >"$w/p.ini"
	tag="INHERITED-CLIENT-$RANDOM$RANDOM"
	timeout $T socat -u TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr CREATE:"$w/got.txt" \
		</dev/null 2>"$w/plainsrv.log" 8>&- &
	srv=$!
	pids+=("$srv")
	wait_listen "$port"
	rc=0
	timeout $T socat TCP:127.0.0.1:"$port" EXEC:"$tlshim -c $w/p.ini -- /bin/echo $tag",nofork \
		</dev/null 2>"$w/cli.log" 8>&- || rc=$?
	[ "$rc" = 0 ] || fail "socat exited $rc"
	wait "$srv" || fail "the plain server failed"
	has got.txt "^$tag\$"
	hasnt cli.log 'inherited fd'
	;;

inherited-mptcp)
	# An MPTCP connection (Linux 5.6+) is a TCP byte stream too: a python3
	# super-server (unwrapped) accepts on an MPTCP listener and starts the
	# wrapped cat with the connection on 0 and 1. The peer (Python's ssl,
	# i.e. OpenSSL, over an MPTCP socket, since s_client's plain TCP would
	# make the kernel fall back to TCP) sends 1 MiB and checks the echo.
	[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" = 1 ] || fail "MPTCP is not enabled here"
	free_port
	policy
	cat >"$w/super.py" <<-'PY'
		import socket, subprocess, sys
		srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)  # IPPROTO_MPTCP
		srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		srv.bind(("127.0.0.1", int(sys.argv[1])))
		srv.listen()
		conn, _ = srv.accept()
		print("accepted protocol", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL), flush=True)
		child = subprocess.Popen(sys.argv[2:], stdin=conn, stdout=conn)
		conn.close()
		sys.exit(child.wait())
	PY
	cat >"$w/peer.py" <<-'PY'
		import hashlib, os, socket, ssl, sys, threading
		ctx = ssl.create_default_context(cafile=sys.argv[2])
		raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
		raw.settimeout(20)
		raw.connect(("127.0.0.1", int(sys.argv[1])))
		s = ctx.wrap_socket(raw, server_hostname="localhost")
		data = os.urandom(1 << 20)
		t = threading.Thread(target=s.sendall, args=(data,))
		t.start()
		got = b""
		while len(got) < len(data) and (b := s.recv(65536)):
		    got += b
		t.join()
		print(s.version(), hashlib.sha256(data).hexdigest() == hashlib.sha256(got).hexdigest(), len(got))
		s.unwrap()
	PY
	timeout $T "$py" "$w/super.py" "$port" "$tlshim" -c "$w/p.ini" -- cat \
		</dev/null >"$w/super.out" 2>"$w/srv.log" 8>&- &
	sup=$!
	pids+=("$sup")
	wait_listen "$port"
	timeout $T "$py" "$w/peer.py" "$port" "$pki/ca.crt" >"$w/peer.out" 2>"$w/peer.log" 8>&- ||
		fail "the MPTCP peer failed"
	wait "$sup" || fail "the service failed"
	has super.out '^accepted protocol 262$'
	has peer.out '^TLSv1\.2 True 1048576$'
	info_ok srv.log
	hasnt srv.log 'warn|error'
	;;
esac
