#!/usr/bin/env bash
# run_inherit.sh CASE: services started by a super-server with the
# connection already accepted (inherit.h): ucspi-tcp tcpserver, systemd's
# systemd-socket-activate (Accept=yes and Accept=no) and xinetd, each
# unwrapped, starting a wrapped service; the peer is stock openssl
# s_client. run_inherit.sh --list prints the case names.
#
# Environment: as run.sh. Every process runs under `timeout` and is killed
# on exit; everything is on loopback and free ports.
set -euo pipefail

cases=(
	tcpserver-echo tcpserver-many tcpserver-plain-refused
	socket-activate-inetd socket-activate-accept-fd3 socket-activate-listen xinetd-nowait
	inherited-tls-not-rehandshaken inherited-client-port-plain inherited-mptcp
)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${cases[@]}"
	exit 0
fi
name=${1:?usage: run_inherit.sh CASE | --list}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tlshim=${TLSHIM:?TLSHIM must name the tlshim wrapper}
: "${TLSHIM_LIBRARY:?TLSHIM_LIBRARY must name libtlshim.so}"
export TLSHIM_LIBRARY
base=${APPS_DIR:?APPS_DIR must name a scratch directory}
pki=$base/pki
w=$base/work/$name
T=25 # seconds any single process may run
unset TLSHIM_CONFIG TLSHIM_LOG SSLKEYLOGFILE
# The interpreter itself: a wrapper script in front of it (pyenv's shims)
# would be a wrapped program exec'ing another with the connection open.
py=$(python3 -c 'import sys; print(sys.executable)')

label=apps
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$here/../lib/common.sh"
fresh_workdir
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
# echo_ok N [parallel]: N connections, one after another (or all at once),
# each sending its own 16 KiB, each echoed byte for byte.
echo_ok() {
	local n=$1 par=${2:-} cpids=()
	for i in $(seq "$n"); do
		head -c 16384 /dev/urandom >"$w/d$i.bin"
		if [ -n "$par" ]; then
			(
				s_client "$port" "$w/d$i.bin" "$w/e$i.bin" "$w/f$i"
				exit "$rc"
			) &
			cpids+=("$!")
		else
			s_client "$port" "$w/d$i.bin" "$w/e$i.bin"
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
	head -c 1048576 /dev/urandom >"$w/big.bin"
	s_client "$1" "$w/big.bin" "$w/big.echo"
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	[ "$(sha256sum <"$w/big.bin")" = "$(sha256sum <"$w/big.echo")" ] ||
		fail "1 MiB echo differs ($(stat -c %s "$w/big.echo") bytes back)"
}
tcpserver_start() { # tcpserver_start [LEVEL]: tcpserver (unwrapped) on $port, the service the wrapped cat
	need tcpserver
	free_port
	policy
	bg srv.log tcpserver -v -RHl0 -c 40 127.0.0.1 "$port" \
		"$tlshim" -l "${1:-info}" -c "$w/p.ini" -- cat
	wait_listen "$port"
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
	# 1 MiB each way through a recording relay: both directions are TLS
	# records from first byte to last, the plaintext never crosses, and
	# fd 0 and fd 1 (one socket) are one connection: one close_notify.
	need socat
	tcpserver_start debug
	sport=$port
	free_port
	bg relay.log socat -r "$w/c2s.raw" -R "$w/s2c.raw" \
		TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr TCP:127.0.0.1:"$sport"
	relay=$bgpid
	wait_listen "$port"
	big_echo "$port"
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	has srv.log '^tcpserver: end [0-9]+ status 0$'
	info_ok srv.log
	has srv.log 'inherited fd [01]: connection from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:[0-9]+: rule in'
	has srv.log 'inherited fd [01]: another descriptor of 127\.0\.0\.1:'
	hasnt srv.log 'truncation|refused|error'
	wait "$relay" 2>/dev/null || true # the relay ends with the connection
	for d in c2s s2c; do
		python3 "$here/tlsrecords.py" "$w/$d.raw" "$w/big.bin" >"$w/$d.records" 2>&1 ||
			fail "$d: $(cat "$w/$d.records")"
	done
	# TLS 1.2 (the engine's version here): an alert is its own record type
	# even encrypted, so each side's close_notify is exactly one type-21.
	has srv.log 'info: rule in: server .* TLSv1\.2 '
	read -r _ alerts _ <<<"$(cut -d' ' -f2 "$w/s2c.records" | tr '=' ' ')"
	[ "$alerts" = 1 ] || fail "server sent $alerts alert records, not one close_notify"
	read -r _ calerts _ <<<"$(cut -d' ' -f2 "$w/c2s.records" | tr '=' ' ')"
	[ "$calerts" = 1 ] || fail "client sent $calerts alert records"
	;;

tcpserver-many)
	# 20 connections one after another, then 20 at once: each its own
	# process, handshake and echo.
	tcpserver_start
	echo_ok 20
	echo_ok 20 parallel
	for _ in $(seq 100); do
		[ "$(count srv.log '^tcpserver: end ')" -ge 40 ] && break
		sleep 0.05
	done
	[ "$(count srv.log '^tcpserver: end [0-9]+ status 0$')" = 40 ] ||
		fail "not 40 clean service exits"
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 40 ] || fail "not 40 TLS connections"
	hasnt srv.log 'warn|error'
	;;

tcpserver-plain-refused)
	# A client speaking in clear gets nothing from the wrapped service: its
	# bytes never reach cat (no echo) and the refusal is logged.
	need socat
	tcpserver_start
	tag="PLAIN-MARKER-$RANDOM$RANDOM"
	rc=0
	echo "$tag" | timeout $T socat -t 5 - TCP:127.0.0.1:"$port" >"$w/plain.out" 2>"$w/plain.log" ||
		rc=$?
	for _ in $(seq 100); do grep -q "^tcpserver: end" "$w/srv.log" && break; sleep 0.05; done
	# The only answer is a TLS alert record: no echo, nothing in clear.
	! grep -q -a -F "$tag" "$w/plain.out" || fail "the plaintext came back"
	python3 "$here/tlsrecords.py" "$w/plain.out" >"$w/plain.records" 2>&1 ||
		fail "answer to a plaintext client: $(cat "$w/plain.records")"
	has srv.log '^tlshim\[[0-9]+\]: warn: rule in: server .*127\.0\.0\.1'
	has srv.log '^tcpserver: end [0-9]+ status [1-9]'
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
	big_echo "$port"
	echo_ok 5
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 6 ] || fail "not 6 TLS connections"
	hasnt srv.log 'warn|error'
	;;

socket-activate-listen)
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
	big_echo "$port"
	echo_ok 5
	echo_ok 5 parallel
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 11 ] || fail "not 11 TLS connections"
	hasnt srv.log 'warn|error|Traceback'
	;;

xinetd-nowait)
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
	big_echo "$port"
	echo_ok 5
	[ "$(count tlshim.log 'info: rule in: server .* TLSv1\.')" = 6 ] || fail "not 6 TLS connections"
	# xinetd puts the socket on 0, 1 and 2: one connection, three names.
	[ "$(count tlshim.log 'inherited fd [012]: another descriptor of ')" = 12 ] ||
		fail "not two aliases per connection"
	hasnt tlshim.log 'warn|error'
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
	big_echo "$port"
	echo_ok 5
	[ "$(count srv.log 'info: rule in: server .* TLSv1\.')" = 6 ] || fail "not 6 TLS connections"
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
