#!/usr/bin/env bash
# run_diag.sh CASE: what tlshim tells a user who has to find out why a
# connection is (not) protected: `tlshim --which`, the advice after every
# refused handshake (real misconfigurations between wrapped socat peers),
# the -l debug handshake trace, and one info line per connection.
# run_diag.sh --list prints the case names.
#
# Environment: TLSHIM, TLSHIM_LIBRARY (the build's wrapper and library),
# APPS_DIR (scratch; per-case work in $APPS_DIR/work/CASE).
set -euo pipefail

cases=(which-client which-server which-errors refusal-hints debug-trace info-line)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail_logs=(log out)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
shared_pki

hasf() { grep -q -F -- "$2" "$w/$1" || fail "$1 lacks \"$2\""; }
# server LOG POLICY: a wrapped socat echo server on $port.
server() {
	bg "$1" "$tlshim" -c "$w/$2" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
}
# client LOG POLICY [ARGS...]: a wrapped socat client sending one line; its
# exit status in $rc, what came back in $w/LOG.echo.
client() {
	local log=$1 pol=$2
	shift 2
	rc=0
	echo "hello from $log" | timeout $T "$tlshim" "$@" -c "$w/$pol" -- \
		socat -t 3 - TCP:127.0.0.1:"$port" >"$w/$log.echo" 2>"$w/$log" || rc=$?
}
# Wait until FILE has a line matching RE (a server logs after the client left).
wait_for() {
	for _ in $(seq 200); do
		grep -q -E -- "$2" "$w/$1" 2>/dev/null && return 0
		sleep 0.025
	done
	fail "$1 never got /$2/"
}

case $name in
which-client)
	# --which HOST:PORT: the first matching client rule and why; near
	# misses when none matches; exit 0 / 1.
	cat >"$w/p.ini" <<-EOF
		[in]
		role = server
		port = 6379
		cert = $pki/server-p256.crt
		key = $pki/server-p256.key

		[redis-out]
		role = client
		port = 6379
		hosts = 127.0.0.1, ::1, 10.0.0.0/8
		ca = $pki/ca.crt
		server_name = redis.internal

		[wide]
		role = client
		port = 6379, 7000-7010
		ca = $pki/ca.crt
	EOF
	w1() { # w1 SPEC WANT_RC OUT
		local rc=0
		"$tlshim" -c "$w/p.ini" --which "$1" >"$w/$3" 2>"$w/$3.log" || rc=$?
		[ "$rc" = "$2" ] || fail "--which $1 exited $rc, not $2"
	}
	w1 127.0.0.1:6379 0 lo.out
	has lo.out '^127\.0\.0\.1:6379: rule redis-out \(line 7\): role client, port 6379 in 6379, 127\.0\.0\.1 in hosts$'
	has lo.out 'must carry the name redis\.internal'
	has lo.out '^  settings: role=client port=6379 hosts=127\.0\.0\.1,::1,10\.0\.0\.0/8 .*server_name=redis\.internal'
	has lo.out '^  also matches, but the first match wins: rule wide \(line 14\)$'
	w1 10.9.8.7:6379 0 net.out
	has net.out '^10\.9\.8\.7:6379: rule redis-out .*10\.9\.8\.7 in hosts \(10\.0\.0\.0/8\)$'
	w1 '[::1]:6379' 0 v6.out
	has v6.out '^\[::1\]:6379: rule redis-out .*::1 in hosts$'
	w1 192.168.1.5:6379 0 any.out
	has any.out '^192\.168\.1\.5:6379: rule wide \(line 14\): role client, port 6379 in 6379,7000-7010, hosts any$'
	has any.out 'no server_name: the server.s certificate must carry the IP address 192\.168\.1\.5'
	w1 192.168.1.5:7005 0 range.out
	has range.out 'rule wide .*port 7005 in 6379,7000-7010'
	# No rule: plain TCP, with the near misses.
	w1 127.0.0.1:80 1 none.out
	has none.out '^127\.0\.0\.1:80: no rule matches: the connection stays plain TCP'
	has none.out '^  near miss: rule redis-out \(line 7\): port 80 not in 6379$'
	has none.out '^  near miss: rule wide \(line 14\): port 80 not in 6379,7000-7010$'
	# A name: resolved, each address explained; the name is not matched.
	w1 localhost:6379 0 name.out
	has name.out '^localhost:6379 \(127\.0\.0\.1:6379\): rule redis-out'
	has name.out 'redis\.internal \(also sent as SNI\), not the name given here'
	# Without hosts covering the address and on another port: both kinds.
	cat >"$w/q.ini" <<-EOF
		[only-lan]
		role = client
		port = 5432
		hosts = 192.168.0.0/16
		ca = $pki/ca.crt
		[srv]
		role = server
		port = 5432
		cert = $pki/server-p256.crt
		key = $pki/server-p256.key
	EOF
	rc=0
	"$tlshim" -c "$w/q.ini" --which 10.1.1.1:5432 >"$w/q.out" 2>"$w/q.log" || rc=$?
	[ "$rc" = 1 ] || fail "--which 10.1.1.1:5432 exited $rc, not 1"
	has q.out '^  near miss: rule only-lan \(line 1\): port 5432 in 5432, but 10\.1\.1\.1 is not in hosts 192\.168\.0\.0/16$'
	has q.out '^  note: rule srv \(line 6\) is a server rule for port 5432'
	# TLSHIM_CONFIG stands in for -c, as for a program.
	TLSHIM_CONFIG=$w/q.ini "$tlshim" --which 192.168.7.7:5432 >"$w/env.out" 2>"$w/env.log" ||
		fail "--which with TLSHIM_CONFIG failed"
	has env.out '^192\.168\.7\.7:5432: rule only-lan'
	;;

which-server)
	cat >"$w/p.ini" <<-EOF
		[redis-in]
		role = server
		port = 6379, 6380
		cert = $pki/server-p256.crt
		key = $pki/server-p256.key
		ca = $pki/ca.crt
		verify_peer = require
		[redis-out]
		role = client
		port = 7000
		ca = $pki/ca.crt
	EOF
	"$tlshim" -c "$w/p.ini" --which server:6380 >"$w/s.out" 2>"$w/s.log" || fail "--which server:6380 failed"
	has s.out '^server:6380: rule redis-in \(line 1\): role server, port 6380 in 6379,6380$'
	has s.out 'client certificates: required \(verify_peer = require\)'
	has s.out '^  settings: role=server port=6379,6380 .*verify_peer=require'
	rc=0
	"$tlshim" -c "$w/p.ini" --which server:7000 >"$w/n.out" 2>"$w/n.log" || rc=$?
	[ "$rc" = 1 ] || fail "--which server:7000 exited $rc, not 1"
	has n.out '^server:7000: no server rule matches: connections accepted on local port 7000 stay plain TCP$'
	has n.out '^  note: rule redis-out \(line 8\) is a client rule for port 7000'
	has n.out '^  near miss: rule redis-in \(line 1\): role server, port 7000 not in 6379,6380$'
	;;

which-errors)
	# Usage errors and invalid policies: exit 2, messages on stderr.
	printf '[x]\nrole = client\nport = 99999\n' >"$w/bad.ini"
	for spec in 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 host:port server:x ::1 '[::1]6379'; do
		rc=0
		"$tlshim" -c "$w/bad.ini" --which "$spec" >"$w/e.out" 2>"$w/e.log" || rc=$?
		[ "$rc" = 2 ] || fail "--which '$spec' exited $rc, not 2"
		has e.log '^tlshim: --which .*expected HOST:PORT'
	done
	rc=0
	"$tlshim" -c "$w/bad.ini" --which 127.0.0.1:1 >"$w/b.out" 2>"$w/b.log" || rc=$?
	[ "$rc" = 2 ] || fail "--which with an invalid policy exited $rc, not 2"
	has b.log "^$w/bad.ini:3: "
	[ ! -s "$w/b.out" ] || fail "--which printed an explanation for an invalid policy"
	rc=0
	"$tlshim" -c "$w/bad.ini" --which >"$w/m.out" 2>"$w/m.log" || rc=$?
	[ "$rc" = 2 ] || fail "--which without an argument exited $rc"
	"$tlshim" --help >"$w/help.out" 2>&1 || fail "--help failed"
	has help.out '--which HOST:PORT'
	;;

refusal-hints)
	# Every refusal names the rule, the peer, the reason and what to change.
	need socat
	free_port
	pol() { # pol FILE NAME KEY=VALUE...: one rule on $port
		local f=$1 n=$2
		shift 2
		{
			printf '[%s]\nport = %s\n' "$n" "$port"
			printf '%s\n' "$@"
		} >"$w/$f"
	}
	pol srv.ini in "role = server" "cert = $pki/server-p256.crt" "key = $pki/server-p256.key"
	server srv.log srv.ini
	peer='127\.0\.0\.1:[0-9]+ <-> 127\.0\.0\.1:'$port

	# Name mismatch: the certificate's names and the rule's expectation.
	pol name.ini redis-out "role = client" "ca = $pki/ca.crt" "server_name = redis.internal"
	client name.log name.ini
	[ "$rc" != 0 ] || fail "a name mismatch connected"
	[ ! -s "$w/name.log.echo" ] || fail "data came back despite the refusal"
	has name.log "^tlshim\[[0-9]+\]: warn: rule redis-out: client $peer: handshake refused: certificate name mismatch: expected redis\.internal -- certificate is for localhost and 127\.0\.0\.1; the rule expects redis\.internal: set server_name or reissue the certificate$"
	# Without server_name the address is what must match.
	# (127.0.0.1 is in the certificate: this one connects.)
	sed -i 's/^server_name = .*//' "$w/name.ini"
	client ip.log name.ini
	[ "$rc" = 0 ] || fail "the IP SAN check refused 127.0.0.1"

	# Untrusted chain: the rule's ca file is named.
	pol ca.ini out "role = client" "ca = $pki/evil-ca.crt" "server_name = localhost"
	client ca.log ca.ini
	[ "$rc" != 0 ] || fail "an untrusted chain connected"
	hasf ca.log "handshake refused: certificate verify failed: unable to get local issuer certificate -- the server's chain does not lead to the rule's ca ($pki/evil-ca.crt): point ca at the CA that issued the server's certificate"

	# The server requires a client certificate; the client rule has none.
	free_port
	pol mtls.ini in "role = server" "cert = $pki/server-p256.crt" "key = $pki/server-p256.key" \
		"ca = $pki/ca.crt" "verify_peer = require"
	server mtls-srv.log mtls.ini
	pol nocert.ini out "role = client" "ca = $pki/ca.crt" "server_name = localhost"
	client nocert.log nocert.ini
	[ "$rc" != 0 ] || fail "connected without the required client certificate"
	has nocert.log "warn: rule out: client .*handshake refused: peer sent fatal alert handshake_failure \(40\) -- the server requires a client certificate: set cert and key in the rule$"
	wait_for mtls-srv.log 'handshake refused'
	has mtls-srv.log "warn: rule in: server .*handshake refused: client did not send a certificate, and verify_peer = require -- the client sent no certificate and the rule has verify_peer = require: give the client a certificate"
	# The same server, reached by a plaintext client: not TLS.
	rc=0
	echo "PING" | timeout $T socat -t 2 - TCP:127.0.0.1:"$port" >"$w/plain.echo" 2>"$w/plain.log" || rc=$?
	! grep -q PING "$w/plain.echo" || fail "the plaintext client was echoed"
	wait_for mtls-srv.log 'non-TLS'
	has mtls-srv.log "handshake refused: received a non-TLS record .* -- the peer is not speaking TLS: wrap it with tlshim or use a TLS client$"

	# No cipher suite in common: the server says what the client offered.
	free_port
	pol aes256.ini in "role = server" "cert = $pki/server-p256.crt" "key = $pki/server-p256.key" \
		"ciphers = ECDHE-ECDSA-AES256-GCM-SHA384"
	server suite-srv.log aes256.ini
	pol chacha.ini out "role = client" "ca = $pki/ca.crt" "server_name = localhost" \
		"ciphers = ECDHE-ECDSA-CHACHA20-POLY1305"
	client suite.log chacha.ini
	[ "$rc" != 0 ] || fail "connected without a common suite"
	has suite.log "handshake refused: peer sent fatal alert handshake_failure \(40\) -- the server found nothing acceptable in our offer"
	wait_for suite-srv.log 'handshake refused'
	has suite-srv.log "handshake refused: no cipher suite in common: client offered .*; we accept ECDHE-ECDSA-AES256-GCM-SHA384 -- name one of the client's suites in the rule's ciphers"

	# An expired server certificate: the date it expired.
	need openssl
	free_port
	e=$w/exp
	mkdir -p "$e"
	touch "$e/index.txt"
	printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n' \
		"$e" "$e" "$e" >"$e/ca.cnf"
	echo 01 >"$e/serial"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$e/old.key" 2>/dev/null
	openssl req -new -key "$e/old.key" -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -out "$e/old.csr" 2>/dev/null
	openssl ca -batch -config "$e/ca.cnf" -cert "$pki/ca.crt" -keyfile "$pki/ca.key" \
		-in "$e/old.csr" -out "$e/old.crt" -startdate 20200101000000Z \
		-enddate 20200102030405Z -notext >"$w/openssl-ca.log" 2>&1 || fail "openssl ca failed"
	pol old.ini in "role = server" "cert = $e/old.crt" "key = $e/old.key"
	server old-srv.log old.ini
	pol ok.ini out "role = client" "ca = $pki/ca.crt" "server_name = localhost"
	client old.log ok.ini
	[ "$rc" != 0 ] || fail "an expired certificate was accepted"
	has old.log "handshake refused: certificate verify failed: certificate has expired -- certificate expired on 2020-01-02 03:04:05 UTC: reissue the server's certificate"
	wait_for old-srv.log 'handshake refused'
	has old-srv.log "peer sent fatal alert certificate_expired \(45\) -- the client says the rule's cert has expired: reissue it"
	;;

debug-trace)
	# -l debug: every handshake step in order, prefixed with rule and peer.
	need socat
	free_port
	cat >"$w/p.ini" <<-EOF
		[in]
		role = server
		port = $port
		cert = $pki/server-p256.crt
		key = $pki/server-p256.key
		[out]
		role = client
		port = $port
		ca = $pki/ca.crt
		server_name = localhost
	EOF
	timeout $T "$tlshim" -l debug -c "$w/p.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat \
		</dev/null 2>"$w/srv.log" 8>&- &
	pids+=("$!")
	wait_listen "$port"
	client cli.log p.ini -l debug
	[ "$rc" = 0 ] || fail "wrapped client exited $rc"
	grep -q "hello from cli.log" "$w/cli.log.echo" || fail "no echo"
	p="^tlshim\[[0-9]+\]: debug: rule out: client 127\.0\.0\.1:[0-9]+ <-> 127\.0\.0\.1:$port: "
	grep -E "$p" "$w/cli.log" | sed -E "s/$p//; s/ \(.*//; s/:.*//" >"$w/steps.txt"
	printf '%s\n' "send ClientHello" "recv ServerHello" "recv Certificate" \
		"recv ServerKeyExchange" "recv ServerHelloDone" "send ClientKeyExchange" \
		"send ChangeCipherSpec" "send Finished" "recv NewSessionTicket" \
		"recv ChangeCipherSpec" "recv Finished" "handshake complete" >"$w/want.txt"
	diff "$w/want.txt" "$w/steps.txt" >"$w/steps.log" || fail "client trace steps differ"
	has cli.log "${p}send ClientHello \([0-9]+ bytes\): [0-9]+ suites, SNI localhost$"
	has cli.log "${p}recv ServerHello \([0-9]+ bytes\): suite ECDHE-ECDSA-AES128-GCM-SHA256$"
	has cli.log "${p}recv Certificate \([0-9]+ bytes\): \"CN=localhost,O=tlshim interop\", verified$"
	has cli.log "${p}recv ServerKeyExchange \([0-9]+ bytes\): group x25519$"
	# The trace comes before the connection's info line.
	t=$(grep -n -E "${p}handshake complete" "$w/cli.log" | cut -d: -f1)
	i=$(grep -n -E '^tlshim\[[0-9]+\]: info: rule out: client ' "$w/cli.log" | cut -d: -f1)
	if [ -z "$t" ] || [ -z "$i" ] || [ "$t" -ge "$i" ]; then
		fail "trace and info line out of order"
	fi
	wait_for srv.log "debug: rule in: server .*: handshake complete"
	has srv.log "debug: rule in: server 127\.0\.0\.1:$port <-> 127\.0\.0\.1:[0-9]+: recv ClientHello \([0-9]+ bytes\): SNI localhost$"
	has srv.log "debug: rule in: server .*: send NewSessionTicket \([0-9]+ bytes\)$"
	# A refused handshake: the trace ends with the failure and its alert.
	sed -i 's/^server_name = .*/server_name = other.example/' "$w/p.ini"
	client bad.log p.ini -l debug
	[ "$rc" != 0 ] || fail "name mismatch connected"
	has bad.log "debug: rule out: .*: failed: certificate name mismatch: expected other\.example \(send alert bad_certificate\)$"
	hasnt bad.log "handshake complete"
	# Below debug, no trace at all.
	sed -i 's/^server_name = .*/server_name = localhost/' "$w/p.ini"
	client quiet.log p.ini -l info
	[ "$rc" = 0 ] || fail "client at info exited $rc"
	hasnt quiet.log ': debug: '
	;;

info-line)
	# -l info: exactly one line per connection on each side, with rule,
	# direction, addresses, protocol, suite, group, peer and handshake time.
	need socat
	free_port
	cat >"$w/p.ini" <<-EOF
		[in]
		role = server
		port = $port
		cert = $pki/server-p256.crt
		key = $pki/server-p256.key
		[out]
		role = client
		port = $port
		ca = $pki/ca.crt
		server_name = localhost
	EOF
	timeout $T "$tlshim" -l info -c "$w/p.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat \
		</dev/null 2>"$w/srv.log" 8>&- &
	pids+=("$!")
	wait_listen "$port"
	for k in 1 2 3; do
		client cli$k.log p.ini -l info
		[ "$rc" = 0 ] || fail "client $k exited $rc"
		[ "$(count cli$k.log ': info: ')" = 1 ] || fail "client $k: not exactly one info line"
		has cli$k.log "^tlshim\[[0-9]+\]: info: rule out: client 127\.0\.0\.1:[0-9]+ <-> 127\.0\.0\.1:$port: TLSv1\.2 ECDHE-ECDSA-AES128-GCM-SHA256 x25519 peer \"CN=localhost,O=tlshim interop\" new in [0-9]+\.[0-9] ms$"
		hasnt cli$k.log ': (warn|debug): '
	done
	for _ in $(seq 200); do
		[ "$(count srv.log ': info: rule in: server ')" -ge 3 ] && break
		sleep 0.025
	done
	[ "$(count srv.log ': info: rule in: server ')" = 3 ] || fail "server: not one info line per connection"
	has srv.log "^tlshim\[[0-9]+\]: info: rule in: server 127\.0\.0\.1:$port <-> 127\.0\.0\.1:[0-9]+: TLSv1\.2 ECDHE-ECDSA-AES128-GCM-SHA256 x25519 peer \"-\" new in [0-9.]+ ms$"
	;;

*)
	fail "unknown case"
	;;
esac
echo "apps/$name: ok"
