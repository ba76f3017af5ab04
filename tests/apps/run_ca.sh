#!/usr/bin/env bash
# run_ca.sh CASE: the CA helper (`tlshim ca`) end to end. Certificates come
# only from `tlshim ca`; policies are built from the lines it prints; stock
# openssl checks the files, and unmodified socat talks mutual TLS with them
# under the wrapper. run_ca.sh --list prints the case names (CMake registers
# one test per name).
#
# Environment as for run.sh: TLSHIM (the built wrapper), TLSHIM_LIBRARY,
# APPS_DIR (scratch; per-case work in $APPS_DIR/work/CASE).
set -euo pipefail

cases=(ca-files ca-mutual-socat ca-pin)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail_logs=(log out)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
ca=$w/ca

hasline() { grep -q -x -F -- "$2" "$w/$1" || fail "$1 lacks the line '$2'"; }
mode() { stat -c %a "$1"; }
# run OUT CMD...: run CMD, stdout to $w/OUT.out, stderr to $w/OUT.log; $rc.
run() {
	local out=$1
	shift
	rc=0
	timeout $T "$@" </dev/null >"$w/$out.out" 2>"$w/$out.log" || rc=$?
}

# lines FILE HEADER: the "key = value" lines `tlshim ca` printed under the
# line starting with HEADER (comments skipped).
lines() {
	awk -v h="$2" 'index($0, h) == 1 { on = 1; next }
		on && /^  [a-z_]+ = / { sub(/^  /, ""); print; next }
		on && /^  ;/ { next }
		{ on = 0 }' "$w/$1"
}

# make_pki: a CA, a server certificate (localhost, 127.0.0.1) and a client
# certificate, all from tlshim ca.
make_pki() {
	run init "$tlshim" ca init "$ca" --name "apps test CA"
	[ "$rc" = 0 ] || fail "ca init exited $rc"
	run server "$tlshim" ca issue "$ca" server --dns localhost --ip 127.0.0.1
	[ "$rc" = 0 ] || fail "ca issue server exited $rc"
	run client "$tlshim" ca issue "$ca" client1 --client
	[ "$rc" = 0 ] || fail "ca issue --client exited $rc"
}

# echo_through POLICY OUT: a wrapped socat client sends 256 KiB through the
# wrapped echo server on $port; $rc is its status, $w/OUT.bin the echo.
echo_through() {
	[ -e "$w/data.bin" ] || head -c 262144 /dev/urandom >"$w/data.bin"
	rc=0
	timeout $T "$tlshim" -c "$w/$1" -- socat -t 10 - TCP:127.0.0.1:"$port" \
		<"$w/data.bin" >"$w/$2.bin" 2>"$w/$2.log" || rc=$?
}

case $name in
ca-files)
	# What init and issue write, as stock openssl sees it; refusals.
	make_pki
	[ "$(mode "$ca")" = 700 ] || fail "CA directory mode $(mode "$ca"), not 700"
	for k in ca server client1; do
		[ "$(mode "$ca/$k.key")" = 600 ] || fail "$k.key mode $(mode "$ca/$k.key"), not 600"
		grep -q -x -- '-----BEGIN PRIVATE KEY-----' "$ca/$k.key" || fail "$k.key is not PKCS#8 PEM"
		# The key belongs to the certificate next to it.
		[ "$(openssl x509 -in "$ca/$k.crt" -noout -pubkey)" = \
			"$(openssl pkey -in "$ca/$k.key" -pubout)" ] || fail "$k.key does not match $k.crt"
		[ "$(grep -c 'BEGIN CERTIFICATE' "$ca/$k.crt")" = 1 ] || fail "$k.crt is not one certificate"
	done
	hasline init.out "  ca = $ca/ca.crt"
	openssl x509 -in "$ca/ca.crt" -noout -text >"$w/ca.txt"
	has ca.txt 'Subject: CN ?= ?apps test CA'
	has ca.txt 'CA:TRUE, pathlen:0'
	has ca.txt 'Certificate Sign, CRL Sign'
	has ca.txt 'Subject Key Identifier'
	has ca.txt 'Signature Algorithm: ecdsa-with-SHA256'
	openssl x509 -in "$ca/server.crt" -noout -text >"$w/server.txt"
	has server.txt 'DNS:localhost, IP Address:127\.0\.0\.1'
	has server.txt 'TLS Web Server Authentication'
	has server.txt 'Authority Key Identifier'
	openssl x509 -in "$ca/client1.crt" -noout -text >"$w/client1.txt"
	has client1.txt 'Subject: CN ?= ?client1'
	has client1.txt 'TLS Web Client Authentication'
	! grep -q 'TLS Web Server Authentication' "$w/client1.txt" || fail "client cert has serverAuth"
	# Stock openssl accepts both leaves for their purposes, and not the other way round.
	openssl verify -CAfile "$ca/ca.crt" -purpose sslserver "$ca/server.crt" >"$w/verify.log" 2>&1 ||
		fail "openssl verify rejects the server certificate"
	openssl verify -CAfile "$ca/ca.crt" -purpose sslclient "$ca/client1.crt" >>"$w/verify.log" 2>&1 ||
		fail "openssl verify rejects the client certificate"
	! openssl verify -CAfile "$ca/ca.crt" -purpose sslserver "$ca/client1.crt" >>"$w/verify.log" 2>&1 ||
		fail "the client certificate passes as a server certificate"
	# Without --dns/--ip NAME is the DNS name; RSA and Ed25519 keys; --out.
	mkdir "$w/elsewhere"
	run db "$tlshim" ca issue "$ca" db.internal --key rsa --out "$w/elsewhere/db"
	[ "$rc" = 0 ] || fail "ca issue --key rsa --out exited $rc"
	has db.out 'server_name = db\.internal$'
	openssl x509 -in "$w/elsewhere/db.crt" -noout -text >"$w/db.txt"
	has db.txt 'DNS:db\.internal$'
	has db.txt 'Digital Signature, Key Encipherment'
	has db.txt 'Public-Key: \(2048 bit\)'
	[ "$(mode "$w/elsewhere/db.key")" = 600 ] || fail "db.key mode is not 600"
	run ed "$tlshim" ca issue "$ca" ed --dns ed.internal --key ed25519
	[ "$rc" = 0 ] || fail "ca issue --key ed25519 exited $rc"
	openssl verify -CAfile "$ca/ca.crt" -purpose sslserver "$w/elsewhere/db.crt" "$ca/ed.crt" \
		>>"$w/verify.log" 2>&1 || fail "openssl verify rejects the RSA or Ed25519 certificate"
	# init twice: refused, CA untouched; --force replaces it.
	sum=$(cat "$ca/ca.key" "$ca/ca.crt" | sha256sum)
	run init2 "$tlshim" ca init "$ca"
	[ "$rc" = 1 ] || fail "second ca init exited $rc, not 1"
	has init2.log 'already holds a CA'
	[ "$(cat "$ca/ca.key" "$ca/ca.crt" | sha256sum)" = "$sum" ] || fail "refused init changed the CA"
	# issue over an existing certificate: refused; --force replaces it.
	sum=$(cat "$ca/server.key" "$ca/server.crt" | sha256sum)
	run issue2 "$tlshim" ca issue "$ca" server --dns localhost
	[ "$rc" = 1 ] || fail "second ca issue exited $rc, not 1"
	has issue2.log 'server\.key already exists'
	[ "$(cat "$ca/server.key" "$ca/server.crt" | sha256sum)" = "$sum" ] || fail "refused issue changed files"
	run issue3 "$tlshim" ca issue "$ca" server --dns localhost --force
	[ "$rc" = 0 ] || fail "ca issue --force exited $rc"
	[ "$(cat "$ca/server.key" "$ca/server.crt" | sha256sum)" != "$sum" ] || fail "--force kept the files"
	[ "$(mode "$ca/server.key")" = 600 ] || fail "replaced server.key mode is not 600"
	run init3 "$tlshim" ca init "$ca" --force
	[ "$rc" = 0 ] || fail "ca init --force exited $rc"
	! openssl verify -CAfile "$ca/ca.crt" "$ca/server.crt" >>"$w/verify.log" 2>&1 ||
		fail "a certificate of the replaced CA still verifies"
	[ -z "$(find "$ca" "$w/elsewhere" -name '*.tmp-*')" ] || fail "temporary files left behind"
	# Usage errors exit 2, missing CA exits 1.
	run u1 "$tlshim" ca issue "$ca" x --key dsa
	[ "$rc" = 2 ] || fail "--key dsa exited $rc, not 2"
	run u2 "$tlshim" ca issue "$ca" x --ip 300.1.1.1
	[ "$rc" = 2 ] || fail "--ip 300.1.1.1 exited $rc, not 2"
	run u3 "$tlshim" ca bogus
	[ "$rc" = 2 ] || fail "ca bogus exited $rc, not 2"
	run u4 "$tlshim" ca issue "$w/no-such-ca" x
	[ "$rc" = 1 ] || fail "issue with a missing CA exited $rc, not 1"
	has u4.log 'ca init'
	[ ! -e "$w/no-such-ca/x.key" ] || fail "issue with a missing CA wrote a key"
	run help "$tlshim" ca --help
	[ "$rc" = 0 ] || fail "ca --help exited $rc"
	has help.out '^usage: tlshim ca init DIR'
	"$tlshim" --help >"$w/mainhelp.out" 2>&1 || fail "tlshim --help failed"
	has mainhelp.out 'tlshim ca '
	;;

ca-mutual-socat)
	# A policy made only of the lines tlshim ca printed: mutual TLS between
	# a wrapped socat echo server and a wrapped socat client.
	need socat
	make_pki
	free_port
	{
		printf '[global]\nlog = info\n\n[in]\nrole = server\nport = %s\n' "$port"
		lines server.out 'Policy lines for the server'
		lines client.out 'and for the server it connects to'
		printf '\n[out]\nrole = client\nport = %s\n' "$port"
		lines server.out 'and for its clients'
		lines client.out 'Policy lines for the client'
	} >"$w/policy.ini"
	for k in cert key ca verify_peer server_name; do
		grep -q "^$k = " "$w/policy.ini" || fail "printed policy lines lack $k"
	done
	! grep -E '^(cert|key|ca) = ' "$w/policy.ini" | grep -v -F " = $ca/" >"$w/paths.log" ||
		fail "the policy names files outside the CA directory"
	run check "$tlshim" --check "$w/policy.ini"
	[ "$rc" = 0 ] || fail "--check on the printed policy exited $rc"
	has check.out '^in: role=server .*verify_peer=require'
	has check.out '^out: role=client .*server_name=localhost'
	bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
	echo_through policy.ini echo
	[ "$rc" = 0 ] || fail "wrapped socat client exited $rc"
	cmp "$w/data.bin" "$w/echo.bin" >"$w/cmp.log" 2>&1 || fail "echo differs"
	has echo.log 'info: rule out: client .* TLSv1\.2 .*peer "CN=server"'
	has srv.log 'info: rule in: server .* TLSv1\.2 .*peer "CN=client1"'
	# Without server_name the client checks 127.0.0.1 against the IP entry.
	grep -v '^server_name = ' "$w/policy.ini" >"$w/by-ip.ini"
	echo_through by-ip.ini echo-ip
	[ "$rc" = 0 ] || fail "client without server_name (IP SAN) exited $rc"
	cmp "$w/data.bin" "$w/echo-ip.bin" >>"$w/cmp.log" 2>&1 || fail "echo (IP SAN) differs"
	# Stock s_client with the client certificate reaches the wrapped server.
	printf 'hello from s_client\n' >"$w/hello.txt"
	rc=0
	timeout $T openssl s_client -connect "127.0.0.1:$port" -verify_hostname localhost \
		-CAfile "$ca/ca.crt" -cert "$ca/client1.crt" -key "$ca/client1.key" \
		-verify_return_error -ign_eof <"$w/hello.txt" >"$w/s_client.out" 2>"$w/s_client.log" &
	sc=$!
	pids+=("$sc")
	for _ in $(seq 200); do grep -q 'hello from s_client' "$w/s_client.out" && break; sleep 0.05; done
	kill "$sc" 2>/dev/null || true
	has s_client.out 'Verify return code: 0 \(ok\)'
	has s_client.out '^hello from s_client$'
	# The server requires a client certificate: a client without one fails.
	grep -v -E '^(cert|key) = .*client1' "$w/policy.ini" >"$w/nocert.ini"
	echo_through nocert.ini nocert
	[ "$rc" != 0 ] || fail "a client without a certificate connected"
	[ ! -s "$w/nocert.bin" ] || fail "a client without a certificate got data"
	;;

ca-pin)
	# tlshim ca pin equals the pin curl documents, for our certificates and
	# a foreign one; a client rule with only that pin connects, a wrong one
	# does not.
	need socat
	make_pki
	opin() { # the openssl pipeline from curl's --pinnedpubkey documentation
		echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
			openssl dgst -sha256 -binary | base64)"
	}
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$w/foreign.key" -subj /CN=foreign \
		-days 1 -out "$w/foreign.crt" >/dev/null 2>&1 || fail "openssl req failed"
	for c in "$ca/server.crt" "$ca/client1.crt" "$ca/ca.crt" "$w/foreign.crt"; do
		run pin "$tlshim" ca pin "$c"
		[ "$rc" = 0 ] || fail "ca pin $c exited $rc"
		[ "$(wc -l <"$w/pin.out")" = 1 ] || fail "ca pin $c printed more than one line"
		[ "$(cat "$w/pin.out")" = "$(opin "$c")" ] || fail "ca pin $c differs from openssl's"
	done
	openssl x509 -in "$w/foreign.crt" -outform der -out "$w/foreign.der"
	run pin "$tlshim" ca pin "$w/foreign.der"
	[ "$rc" = 0 ] || fail "ca pin of DER exited $rc"
	[ "$(cat "$w/pin.out")" = "$(opin "$w/foreign.crt")" ] || fail "ca pin of DER differs"
	run pin "$tlshim" ca pin "$ca/server.key"
	[ "$rc" = 1 ] || fail "ca pin of a key exited $rc, not 1"
	# The pin issue printed is the same value.
	pin=$("$tlshim" ca pin "$ca/server.crt")
	hasline server.out "  pin = $pin"
	wrong=$("$tlshim" ca pin "$ca/client1.crt")
	free_port
	cert=$(lines server.out 'Policy lines for the server')
	printf '[global]\nlog = info\n[in]\nrole = server\nport = %s\n%s\n' "$port" "$cert" >"$w/server.ini"
	printf '[out]\nrole = client\nport = %s\npin = %s\n' "$port" "$pin" >"$w/pin.ini"
	printf '[out]\nrole = client\nport = %s\npin = %s\n' "$port" "$wrong" >"$w/wrong.ini"
	! grep -q '^ca' "$w/pin.ini" || fail "pin policy has a ca"
	for p in server pin wrong; do
		run check "$tlshim" --check "$w/$p.ini"
		[ "$rc" = 0 ] || fail "--check $p.ini exited $rc"
	done
	bg srv.log "$tlshim" -c "$w/server.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
	echo_through pin.ini echo
	[ "$rc" = 0 ] || fail "client with the right pin exited $rc"
	cmp "$w/data.bin" "$w/echo.bin" >"$w/cmp.log" 2>&1 || fail "echo differs"
	echo_through wrong.ini wrong
	[ "$rc" != 0 ] || fail "client with a wrong pin succeeded"
	[ ! -s "$w/wrong.bin" ] || fail "client with a wrong pin got data"
	has wrong.log 'pin'
	;;

*)
	fail "unknown case"
	;;
esac
echo "apps/$name: ok"
