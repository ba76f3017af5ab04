#!/usr/bin/env bash
# run.sh CASE: one real-application case. Unmodified programs (socat, nc,
# curl, python3 -m http.server, openssl, gnutls-cli, tshark) run under the
# in-tree tlshim wrapper; every assertion is about what those programs and
# the wire saw. run.sh --list prints the case names (CMake registers one test
# per name).
#
# Environment: TLSHIM (the built wrapper), TLSHIM_LIBRARY (the built
# libtlshim.so), APPS_DIR (scratch: shared PKI, per-case work in
# $APPS_DIR/work/CASE). Every process runs under `timeout` and is killed on
# exit, so a hung program cannot hang ctest.
set -euo pipefail

cases=(
	socat-echo nc-file http-server-curl curl-client-s_server
	s_client-wrapped-server gnutls-cli-wrapped-server wire-capture
	wrapper-check wrapper-refuses wrapper-version-help
	http-server-curl-alpn curl-client-alpn wrapper-check-versions-alpn
)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
shared_pki

# policy FILE [server] [client]: a policy with a server rule (P-256 cert)
# and/or a client rule (verifies the CA, name localhost) on $port.
policy() {
	local file=$1
	shift
	{
		printf '[global]\nlog = info\n'
		for r in "$@"; do
			case $r in
			server) printf '[in]\nrole = server\nport = %s\ncert = %s\nkey = %s\n' \
				"$port" "$pki/server-p256.crt" "$pki/server-p256.key" ;;
			client) printf '[out]\nrole = client\nport = %s\nca = %s\nserver_name = localhost\n' \
				"$port" "$pki/ca.crt" ;;
			esac
		done
	} >"$w/$file"
}
# info_ok LOG ROLE: the tlshim info line of one TLS 1.2 connection.
info_ok() {
	has "$1" "^tlshim\[[0-9]+\]: info: rule [a-z]+: $2 .* TLSv1\.2 ECDHE-[A-Z0-9-]+ [a-z0-9]+ peer "
}
textdata() { # textdata FILE LINES: printable lines with a per-run marker
	local tag=$RANDOM$RANDOM
	for i in $(seq "$2"); do printf 'tlshim-apps %s line %06d 0123456789abcdef\n' "$tag" "$i"; done >"$1"
}

case $name in
socat-echo)
	# socat on both ends: 1 MiB through an EXEC:cat echo, byte for byte.
	need socat
	free_port
	policy policy.ini server client
	head -c 1048576 /dev/urandom >"$w/data.bin"
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr EXEC:cat
	wait_listen "$port"
	rc=0
	timeout $T "$tlshim" -c "$w/policy.ini" -- socat -t 10 - TCP:127.0.0.1:"$port" \
		<"$w/data.bin" >"$w/echo.bin" 2>"$w/cli.log" || rc=$?
	[ "$rc" = 0 ] || fail "client socat exited $rc"
	cmp "$w/data.bin" "$w/echo.bin" >"$w/cmp.log" 2>&1 || fail "echo differs"
	info_ok cli.log client
	info_ok srv.log server
	has cli.log 'peer "CN=localhost,O=tlshim interop"'
	;;

nc-file)
	# netcat-openbsd on both ends: a 3 MB file, client -N (shutdown on EOF).
	need nc
	free_port
	policy policy.ini server client
	head -c 3000000 /dev/urandom >"$w/file.bin"
	timeout $T "$tlshim" -c "$w/policy.ini" -- nc -d -l 127.0.0.1 "$port" \
		>"$w/recv.bin" 2>"$w/srv.log" 8>&- &
	srv=$!
	pids+=("$srv")
	wait_listen "$port"
	rc=0
	timeout $T "$tlshim" -c "$w/policy.ini" -- nc -N 127.0.0.1 "$port" \
		<"$w/file.bin" >"$w/cli.out" 2>"$w/cli.log" || rc=$?
	[ "$rc" = 0 ] || fail "client nc exited $rc"
	rc=0
	wait "$srv" || rc=$?
	[ "$rc" = 0 ] || fail "server nc exited $rc"
	cmp "$w/file.bin" "$w/recv.bin" >"$w/cmp.log" 2>&1 || fail "file differs"
	info_ok cli.log client
	info_ok srv.log server
	;;

http-server-curl)
	# python3 -m http.server wrapped with a server rule; stock curl over https.
	need curl
	py=$(command -v /usr/bin/python3 python3 | head -n 1) || fail "python3 missing"
	free_port
	policy policy.ini server
	mkdir "$w/www"
	head -c 300000 /dev/urandom >"$w/www/file"
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		"$py" -m http.server "$port" --bind 127.0.0.1 --directory "$w/www"
	wait_listen "$port"
	rc=0
	timeout $T curl -sS -v --cacert "$pki/ca.crt" -o "$w/got" \
		"https://localhost:$port/file" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "curl exited $rc"
	cmp "$w/www/file" "$w/got" >"$w/cmp.log" 2>&1 || fail "content differs"
	has curl.log '^\* SSL connection using TLSv1\.2 / ECDHE-'
	has curl.log '^< HTTP/1\.[01] 200'
	info_ok srv.log server
	# And the server refuses plain http on its TLS port (fail closed).
	rc=0
	timeout $T curl -sS -o "$w/plain" "http://127.0.0.1:$port/file" 2>"$w/plain.log" || rc=$?
	[ "$rc" != 0 ] || fail "plain http was served on the TLS port"
	[ ! -s "$w/plain" ] || fail "plain http got bytes"
	;;

http-server-curl-alpn)
	# curl --http2 offers h2,http/1.1; the rule says alpn = http/1.1, so
	# the wrapped HTTP/1 server (python3 http.server) is reached with
	# http/1.1 and the log line says so. A client with no common protocol
	# is refused with no_application_protocol (RFC 7301 §3.2) and a hint.
	need curl
	py=$(command -v /usr/bin/python3 python3 | head -n 1) || fail "python3 missing"
	free_port
	policy policy.ini server
	printf 'alpn = http/1.1\n' >>"$w/policy.ini"
	mkdir "$w/www"
	head -c 100000 /dev/urandom >"$w/www/file"
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		"$py" -m http.server "$port" --bind 127.0.0.1 --directory "$w/www"
	wait_listen "$port"
	rc=0
	timeout $T curl --http2 -sS -v --cacert "$pki/ca.crt" -o "$w/got" \
		"https://localhost:$port/file" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "curl exited $rc"
	cmp "$w/www/file" "$w/got" >"$w/cmp.log" 2>&1 || fail "content differs"
	has curl.log 'ALPN.*offers h2'
	has curl.log 'ALPN.*server accepted (to use )?http/1\.1'
	has curl.log '^< HTTP/1\.[01] 200'
	has srv.log "info: rule in: server .* TLSv1\.2 ECDHE-[A-Z0-9-]+ [a-z0-9]+ alpn http/1\.1 peer "
	rc=0
	timeout $T openssl s_client -connect "127.0.0.1:$port" -CAfile "$pki/ca.crt" \
		-alpn h2 </dev/null >"$w/h2.out" 2>"$w/h2.log" || rc=$?
	[ "$rc" != 0 ] || fail "a client offering only h2 got in"
	has h2.log "alert no application protocol"
	sleep 0.2 # the refusal line
	has srv.log "warn: rule in: .*handshake refused: no application protocol in common .*client offered h2; we accept http/1\.1 -- add one of the client's protocols to the rule's alpn"
	;;

curl-client-alpn)
	# A wrapped plaintext curl whose client rule offers http/1.1 reaches
	# s_server -alpn http/1.1; the client's log line names the protocol.
	need curl
	free_port
	policy policy.ini client
	printf 'alpn = http/1.1\n' >>"$w/policy.ini"
	bg srv.log openssl s_server -accept "127.0.0.1:$port" -www -alpn http/1.1 \
		-cert "$pki/server-rsa.crt" -key "$pki/server-rsa.key"
	wait_listen "$port"
	rc=0
	timeout $T "$tlshim" -c "$w/policy.ini" -- curl -sS -v -o "$w/page" \
		"http://localhost:$port/" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "wrapped curl exited $rc"
	has curl.log '^< HTTP/1\.[01] 200'
	has curl.log "info: rule out: client .* TLSv1\.2 ECDHE-RSA-[A-Z0-9-]+ [a-z0-9]+ alpn http/1\.1 peer "
	;;

wrapper-check-versions-alpn)
	# min_version / max_version / alpn / TLS 1.3 suite names under --check:
	# the effective range is what this build speaks (TLS 1.2), and what
	# cannot be honoured is refused with its line (fail closed).
	port=443
	policy good.ini server client
	{
		printf '[h2-out]\nrole = client\nport = 8443\nca = %s\n' "$pki/ca.crt"
		printf 'alpn = h2, http/1.1\nmax_version = 1.2\n'
		printf 'ciphers = ECDHE-ECDSA-AES128-GCM-SHA256\n'
		printf '[pg-in]\nrole = server\nport = 5432\ncert = %s\nkey = %s\n' \
			"$pki/server-p256.crt" "$pki/server-p256.key"
		printf 'alpn = postgresql\n'
		printf 'ciphers = TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384\n'
	} >>"$w/good.ini"
	rc=0
	"$tlshim" --check "$w/good.ini" >"$w/good.out" 2>"$w/good.log" || rc=$?
	[ "$rc" = 0 ] || fail "--check on a valid policy exited $rc"
	has good.out '^in: .* min_version=1\.2 max_version=1\.3 alpn=- legacy_peers=no handshake_timeout=10 effective_versions=1\.2$'
	has good.out '^h2-out: .* min_version=1\.2 max_version=1\.2 alpn=h2,http/1\.1 .* effective_versions=1\.2$'
	has good.out '^pg-in: .*ciphers=TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384 .* alpn=postgresql .* effective_versions=1\.2$'
	rc=0
	TLSHIM_CONFIG=$w/good.ini "$tlshim" --which server:5432 >"$w/which.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "--which exited $rc"
	has which.out '^  settings: .*alpn=postgresql .*effective_versions=1\.2$'

	b=$w/broken.ini
	{
		printf '[a]\nrole = server\nport = 1\ncert = %s\nkey = %s\n' \
			"$pki/server-p256.crt" "$pki/server-p256.key"
		printf 'min_version = 1.3\n'                               # 6
		printf '[b]\nrole = client\nport = 2\nverify_peer = none\n' # 7-10
		printf 'alpn = h2,,http/1.1\n'                             # 11
		printf '[c]\nrole = client\nport = 3\nverify_peer = none\n' # 12-15
		printf 'alpn = h2, h2\n'                                   # 16
	} >"$b"
	rc=0
	"$tlshim" --check "$b" >"$w/check.out" 2>"$w/check.log" || rc=$?
	[ "$rc" = 2 ] || fail "--check on a broken policy exited $rc, not 2"
	has check.log "^$b:6: min_version = 1\.3: TLS 1\.3 is not available in this build yet"
	has check.log "^$b:11: alpn: empty protocol name \(item 2\)$"
	has check.log "^$b:16: alpn: duplicate protocol name 'h2' \(item 2\)$"
	# (The whole-rule checks run once every line is valid: a file of its own.)
	printf '[d]\nrole = client\nport = 4\nverify_peer = none\nciphers = TLS_AES_256_GCM_SHA384\n' \
		>"$w/only13.ini"
	rc=0
	"$tlshim" --check "$w/only13.ini" >/dev/null 2>"$w/only13.log" || rc=$?
	[ "$rc" = 2 ] || fail "a TLS 1.3-only cipher list was accepted"
	has only13.log "^$w/only13.ini:1: rule d: ciphers names only TLS 1\.3 suites \(TLS_AES_256_GCM_SHA384\), and TLS 1\.3 is not available in this build yet"
	printf '[x]\nrole = client\nport = 1\nverify_peer = none\nmin_version = 1.3\nmax_version = 1.2\n' >"$w/order.ini"
	rc=0
	"$tlshim" --check "$w/order.ini" >/dev/null 2>"$w/order.log" || rc=$?
	[ "$rc" = 2 ] || fail "min above max accepted"
	has order.log "^$w/order.ini:5: min_version = 1\.3 is above max_version = 1\.2 \(line 6\)$"
	;;

curl-client-s_server)
	# wrapped plaintext curl http:// with a client rule -> openssl s_server -www.
	need curl
	free_port
	policy policy.ini client
	bg srv.log openssl s_server -accept "127.0.0.1:$port" -www \
		-cert "$pki/server-rsa.crt" -key "$pki/server-rsa.key"
	wait_listen "$port"
	rc=0
	timeout $T "$tlshim" -c "$w/policy.ini" -- curl -sS -v -o "$w/page" \
		"http://localhost:$port/" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "wrapped curl exited $rc"
	has curl.log '^< HTTP/1\.[01] 200'
	has page '^New, TLSv1\.2, Cipher is ECDHE-RSA-'
	has page '^ +Protocol +: TLSv1\.2$'
	has page '^ +Cipher +: ECDHE-RSA-[A-Z0-9-]+$'
	info_ok curl.log client
	has curl.log 'peer "CN=localhost,O=tlshim interop"'
	;;

s_client-wrapped-server)
	# stock openssl s_client -> wrapped socat EXEC:cat: data echoes.
	free_port
	policy policy.ini server
	textdata "$w/data.txt" 2000
	n=$(stat -c %s "$w/data.txt")
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
	feed "$w/data.txt" "$w/echo.txt" "$n"
	rc=0
	timeout $T openssl s_client -brief -connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$pki/ca.crt" -verify_return_error <"$w/feed" >"$w/echo.txt" \
		2>"$w/cli.log" || rc=$?
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	cmp "$w/data.txt" "$w/echo.txt" >"$w/cmp.log" 2>&1 || fail "echo differs"
	has cli.log '^Protocol version: TLSv1\.2$'
	has cli.log '^Ciphersuite: ECDHE-ECDSA-'
	has cli.log '^Verification: OK$'
	info_ok srv.log server
	;;

gnutls-cli-wrapped-server)
	# stock gnutls-cli -> wrapped socat EXEC:cat: data echoes.
	need gnutls-cli
	free_port
	policy policy.ini server
	textdata "$w/data.txt" 2000
	n=$(stat -c %s "$w/data.txt")
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
	feed "$w/data.txt" "$w/echo.txt" "$n"
	rc=0
	timeout $T gnutls-cli --logfile="$w/cli.log" --x509cafile "$pki/ca.crt" -p "$port" \
		--sni-hostname localhost --verify-hostname localhost 127.0.0.1 \
		<"$w/feed" >"$w/echo.txt" 2>"$w/cli.err.log" || rc=$?
	[ "$rc" = 0 ] || fail "gnutls-cli exited $rc"
	cmp "$w/data.txt" "$w/echo.txt" >"$w/cmp.log" 2>&1 || fail "echo differs"
	has cli.log '^- Description: \(TLS1\.2-X\.509\)-\(ECDHE-'
	has cli.log '^- Status: The certificate is trusted'
	has cli.log 'extended master secret'
	info_ok srv.log server
	;;

wire-capture)
	# Capture loopback while a wrapped client talks to a wrapped server and,
	# as a control, a plain client to a plain server. The wrapped marker must
	# never be on the wire, TLS 1.2 application-data records must be; the
	# control marker must be found (so the search itself works).
	need socat
	free_port
	policy policy.ini server client
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr EXEC:cat
	wait_listen "$port"
	tport=$port
	free_port
	bg plainsrv.log socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr EXEC:cat
	wait_listen "$port"
	pport=$port
	tag=$RANDOM$RANDOM$RANDOM
	secret="SECRET-MARKER-$tag-do-not-leak"
	control="CONTROL-MARKER-$tag-in-clear"
	for _ in $(seq 50); do echo "$secret"; done >"$w/secret.txt"
	for _ in $(seq 50); do echo "$control"; done >"$w/control.txt"

	filter="tcp port $tport or tcp port $pport"
	pcap=$w/wire.pcap
	tool=
	if command -v tshark >/dev/null; then
		timeout $T tshark -i lo -f "$filter" -w "$pcap" </dev/null >/dev/null \
			2>"$w/capture.log" 8>&- &
		cap=$!
		pids+=("$cap")
		for _ in $(seq 200); do
			grep -qs "Capturing on" "$w/capture.log" && { tool=tshark; break; }
			kill -0 "$cap" 2>/dev/null || break
			sleep 0.025
		done
	fi
	if [ -z "$tool" ] && command -v tcpdump >/dev/null; then
		echo "apps/$name: tshark cannot capture here; using tcpdump" >&2
		timeout $T tcpdump -i lo -U -w "$pcap" "$filter" </dev/null >/dev/null \
			2>"$w/capture.log" 8>&- &
		cap=$!
		pids+=("$cap")
		for _ in $(seq 200); do
			grep -qs "listening on" "$w/capture.log" && { tool=tcpdump; break; }
			kill -0 "$cap" 2>/dev/null || break
			sleep 0.025
		done
	fi
	[ -n "$tool" ] || fail "no packet capture possible (tshark/tcpdump missing or not permitted)"
	sleep 0.5 # the kernel filter is attached just before the message

	rc=0
	timeout $T "$tlshim" -c "$w/policy.ini" -- socat -t 5 - TCP:127.0.0.1:"$tport" \
		<"$w/secret.txt" >"$w/secret.echo" 2>"$w/cli.log" || rc=$?
	[ "$rc" = 0 ] || fail "wrapped socat client exited $rc"
	rc=0
	timeout $T socat -t 5 - TCP:127.0.0.1:"$pport" \
		<"$w/control.txt" >"$w/control.echo" 2>"$w/plaincli.log" || rc=$?
	[ "$rc" = 0 ] || fail "plain socat client exited $rc"
	cmp "$w/secret.txt" "$w/secret.echo" >"$w/cmp.log" 2>&1 || fail "wrapped echo differs"
	cmp "$w/control.txt" "$w/control.echo" >>"$w/cmp.log" 2>&1 || fail "plain echo differs"
	info_ok cli.log client
	sleep 0.5
	kill -INT "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	[ -s "$pcap" ] || fail "$tool wrote no capture"

	grep -q -a -F "$control" "$pcap" || fail "control marker not in the capture (capture broken?)"
	! grep -q -a -F "$secret" "$pcap" || fail "the wrapped plaintext is on the wire"
	! grep -q -a -F "SECRET-MARKER-$tag" "$pcap" || fail "part of the wrapped plaintext is on the wire"
	# Raw bytes: TLS 1.2 application data record headers 17 03 03.
	records=$(od -An -v -tx1 "$pcap" | tr -s ' \n' '\n' | awk '
		$1 == "17" { a = 1; next }
		a == 1 && $1 == "03" { a = 2; next }
		a == 2 && $1 == "03" { n++ }
		{ a = ($1 == "17") ? 1 : 0 }
		END { print n + 0 }')
	echo "raw 17 03 03 headers: $records" >"$w/wire.log"
	[ "$records" -ge 2 ] || fail "no TLS 1.2 application-data records (17 03 03) in the capture"
	if command -v tshark >/dev/null; then
		# Decode the wrapped port as TLS: ServerHello says TLS 1.2, all
		# records are version 0x0303, application data flows both ways.
		d=(tshark -r "$pcap" -d "tcp.port==$tport,tls" -o tcp.desegment_tcp_streams:TRUE)
		{
			"${d[@]}" -Y "tls.handshake.type==2" -T fields -e tls.handshake.version \
				-e tls.handshake.ciphersuite >"$w/hello.txt" &&
				"${d[@]}" -Y "tcp.port==$tport && tls.record.content_type==23" -T fields \
					-e tcp.srcport -e tls.record.version >"$w/appdata.txt" &&
				"${d[@]}" -Y "tcp.port==$tport" >"$w/decode.txt"
		} 2>"$w/decode.log" || fail "tshark could not read the capture back"
		has hello.txt '^0x0303	0xc0'
		[ "$(wc -l <"$w/appdata.txt")" -ge 2 ] || fail "tshark found no application data"
		[ "$(cut -f1 "$w/appdata.txt" | sort -u | wc -l)" = 2 ] ||
			fail "application data not seen in both directions"
		hasnt appdata.txt '	.*0x030[^3]'
		has decode.txt 'TLSv1\.2.*Application Data'
	fi
	;;

wrapper-check)
	# --check: every error with FILE:LINE, exit 2; a valid file prints its
	# effective rules and exits 0.
	b=$w/broken.ini
	cat >"$b" <<-EOF
		[global]
		log = loud

		[a]
		role = server
		port = 70000
		cert = nope.crt
		key = nope.key

		[b]
		role = sideways
		port = 443
		colour = blue
	EOF
	rc=0
	"$tlshim" --check "$b" >"$w/check.out" 2>"$w/check.log" || rc=$?
	[ "$rc" = 2 ] || fail "--check on a broken policy exited $rc, not 2"
	has check.log "^$b:2: .*loud"
	has check.log "^$b:6: .*70000"
	has check.log "^$b:7: .*nope\.crt"
	has check.log "^$b:11: .*sideways"
	has check.log "^$b:13: .*colour"
	hasnt check.log "^$b:(1|3|4|5|9|10|12):"
	port=443
	policy good.ini server client
	rc=0
	"$tlshim" --check "$w/good.ini" >"$w/good.out" 2>"$w/good.log" || rc=$?
	[ "$rc" = 0 ] || fail "--check on a valid policy exited $rc"
	has good.out '^in: role=server port=443 .*verify_peer=none'
	has good.out '^out: role=client port=443 .*verify_peer=require server_name=localhost'
	;;

wrapper-refuses)
	# An invalid policy: the wrapper exits 2 and never runs the program.
	printf '[x]\nrole = client\nport = abc\n' >"$w/broken.ini"
	rc=0
	"$tlshim" -c "$w/broken.ini" -- touch "$w/ran" >"$w/run.out" 2>"$w/run.log" || rc=$?
	[ "$rc" = 2 ] || fail "tlshim -c broken.ini exited $rc, not 2"
	[ ! -e "$w/ran" ] || fail "the program ran despite the invalid policy"
	has run.log "^$w/broken.ini:3: "
	# The same through TLSHIM_CONFIG, and with `true` as in the README.
	rc=0
	TLSHIM_CONFIG=$w/broken.ini "$tlshim" true 2>"$w/env.log" || rc=$?
	[ "$rc" = 2 ] || fail "TLSHIM_CONFIG=broken.ini tlshim true exited $rc, not 2"
	# A valid policy runs it (so the refusal above was about the policy).
	port=443
	policy good.ini client
	"$tlshim" -c "$w/good.ini" -- touch "$w/ran" 2>"$w/good.log" || fail "valid policy: did not run"
	[ -e "$w/ran" ] || fail "valid policy: program did not run"
	;;

wrapper-version-help)
	"$tlshim" --version >"$w/version.out" 2>"$w/version.log" || fail "--version failed"
	has version.out '^tlshim [0-9]+\.[0-9]+\.[0-9]+$'
	"$tlshim" --help >"$w/help.out" 2>"$w/help.log" || fail "--help failed"
	has help.out '^usage: tlshim \[-c FILE\] \[-l LEVEL\] \[--\] PROGRAM'
	has help.out -- '--check FILE'
	;;

*)
	fail "unknown case"
	;;
esac
echo "apps/$name: ok"
