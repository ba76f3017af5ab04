#!/usr/bin/env bash
# run.sh CASE: one interop case between tlsdrv (our engine) and a stock peer
# (openssl s_server/s_client, gnutls-serv/gnutls-cli) over loopback TCP.
# run.sh --list prints the case names (CMake registers one test per name).
#
# Environment: TLSDRV (the tlsdrv binary), INTEROP_DIR (where the shared PKI
# and pattern files live; per-case logs go to $INTEROP_DIR/work/CASE).
#
# Every case asserts what was negotiated on both sides (TLS 1.2, the suite,
# the group where it matters), and data cases move 1 MiB each way and check
# it byte for byte on both ends. Every process runs under `timeout` and is
# killed on exit, so a hung peer cannot hang ctest.
set -euo pipefail

cases=(
	ossl-srv-ecdsa-aes128 ossl-srv-ecdsa-aes256 ossl-srv-ecdsa-chacha20
	ossl-srv-rsa-aes128 ossl-srv-rsa-aes256 ossl-srv-rsa-chacha20
	ossl-srv-rsakx-aes128 ossl-srv-rsakx-aes256 ossl-srv-p384 ossl-srv-ed25519
	ossl-srv-x25519 ossl-srv-secp256r1 ossl-srv-secp384r1 ossl-srv-mtls-p256
	ossl-srv-mtls-rsa ossl-srv-resume ossl-srv-pin ossl-srv-ip-san
	ossl-srv-untrusted ossl-srv-wrong-name ossl-srv-tls13-only ossl-srv-reneg
	ossl-cli-default ossl-cli-rsa-aes256 ossl-cli-chacha20 ossl-cli-p384
	ossl-cli-ed25519 ossl-cli-rsakx ossl-cli-mtls ossl-cli-mtls-nocert
	ossl-cli-resume ossl-cli-tls13-only ossl-cli-ecdsa-sha512 ossl-cli-rsa-sha512
	ossl-cli-rsapss-sha512 ossl-cli-mtls-sha512
	ossl-srv-alpn ossl-srv-alpn-no-overlap ossl-srv-alpn-unanswered
	ossl-cli-alpn ossl-cli-alpn-server-order ossl-cli-alpn-no-overlap ossl-cli-alpn-not-offered
	gnutls-cli-alpn
	gnutls-srv-ecdsa gnutls-srv-rsa gnutls-srv-chacha20 gnutls-srv-resume
	gnutls-srv-mtls
	gnutls-cli-ecdsa gnutls-cli-rsa-aes256 gnutls-cli-ed25519 gnutls-cli-resume
	gnutls-cli-mtls
	gnutls-cli-legacy-no-ems gnutls-cli-legacy-no-reneg gnutls-cli-no-ems-refused
	gnutls-srv-legacy-no-ems gnutls-srv-no-ems-refused gnutls-srv-no-reneg-refused
)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${cases[@]}"
	exit 0
fi
name=${1:?usage: run.sh CASE | --list}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
drv=${TLSDRV:?TLSDRV must name the tlsdrv binary}
base=${INTEROP_DIR:?INTEROP_DIR must name a scratch directory}
pki=$base/pki
w=$base/work/$name
MiB=1048576
T=25 # seconds any single process may run

label=interop
port_lo=20000 # free_port: 20000-31999, below the ephemeral range and apart
port_n=12000  # from the apps cases' 10000-19999
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$here/../lib/common.sh"
fresh_workdir
# Shared PKI and pattern files, made once per build directory (ctest -j).
make_pattern() {
	if [ ! -s "$base/pat.bin" ]; then
		"$drv" pattern $MiB >"$base/pat.tmp"
		mv "$base/pat.tmp" "$base/pat.bin"
	fi
}
shared_pki make_pattern

# feed FILE: $w/feed is a FIFO that yields FILE and then stays open, so a
# stock tool does not hang up on end of input before its peer is done.
feed() {
	rm -f "$w/feed"
	mkfifo "$w/feed"
	{ cat "$1"; exec sleep $T; } >"$w/feed" 2>/dev/null 8>&- &
	pids+=("$!")
}
# bg OUT LOG CMD...: (in place of common.sh's bg) start CMD under timeout,
# stdin from $w/feed; its pid in $bgpid.
bg() {
	local out=$1 log=$2
	shift 2
	timeout $T "$@" <"$w/feed" >"$w/$out" 2>"$w/$log" 8>&- &
	bgpid=$!
	pids+=("$bgpid")
}
check_data() { # check_data FILE [--text]: FILE is exactly 1 MiB of pattern
	"$drv" check $MiB "${@:2}" <"$w/$1" 2>>"$w/check.log" || fail "$1: data mismatch"
}
drv_ok() { # drv_ok SUITE [GROUP]: what tlsdrv reported
	has drv.log "established version=TLSv1.2 suite=$1 "
	[ -z "${2:-}" ] || has drv.log " group=$2 "
	has drv.log ": ok$"
}

suite_hex() { # the ServerHello bytes of a suite, as s_server -trace prints them
	case $1 in
	ECDHE-ECDSA-AES128-GCM-SHA256) echo "0xC0, 0x2B" ;;
	ECDHE-ECDSA-AES256-GCM-SHA384) echo "0xC0, 0x2C" ;;
	ECDHE-ECDSA-CHACHA20-POLY1305) echo "0xCC, 0xA9" ;;
	ECDHE-RSA-AES128-GCM-SHA256) echo "0xC0, 0x2F" ;;
	ECDHE-RSA-AES256-GCM-SHA384) echo "0xC0, 0x30" ;;
	ECDHE-RSA-CHACHA20-POLY1305) echo "0xCC, 0xA8" ;;
	AES128-GCM-SHA256) echo "0x00, 0x9C" ;;
	AES256-GCM-SHA384) echo "0x00, 0x9D" ;;
	*) fail "unknown suite $1" ;;
	esac
}
group_id() {
	case $1 in x25519) echo 29 ;; secp256r1) echo 23 ;; secp384r1) echo 24 ;; esac
}

# --- tlsdrv client <-> openssl s_server ------------------------------------
# ossl_srv CERT SUITE GROUP "DRV ARGS" "S_SERVER ARGS" [INPUT]
ossl_srv() {
	local cert=$1 suite=$2 group=$3 drvargs=$4 srvargs=$5 input=${6:-$base/pat.bin}
	local port rc=0
	free_port
	feed "$input"
	# -quiet: stdout carries only the data received; -trace goes to a file.
	# shellcheck disable=SC2086
	bg srv.out srv.log openssl s_server -quiet -trace -msgfile "$w/trace.log" \
		-accept "127.0.0.1:$port" -naccept 1 -cert "$pki/$cert.crt" \
		-key "$pki/$cert.key" $srvargs
	local srv=$bgpid
	wait_listen "$port"
	# shellcheck disable=SC2086
	timeout $T "$drv" client --connect "127.0.0.1:$port" $drvargs 2>"$w/drv.log" || rc=$?
	wait "$srv" || true
	[ "$rc" = 0 ] || fail "tlsdrv client exited $rc"
	hasnt trace.log "TLS 1\.3"
	if [ -n "$suite" ] || grep -q "ServerHello," "$w/trace.log"; then
		has trace.log "server_version=0x303 \(TLS 1.2\)"
	fi
	if [ -n "$suite" ]; then
		has trace.log "cipher_suite \{$(suite_hex "$suite")\}"
		drv_ok "$suite" "$group"
	fi
	[ -z "$group" ] || has trace.log "named_curve: .*\($(group_id "$group")\)"
}
# ossl_srv_data CERT SUITE GROUP "DRV ARGS" "S_SERVER ARGS": 1 MiB each way
ossl_srv_data() {
	ossl_srv "$1" "$2" "$3" "--name localhost --ca $pki/ca.crt --send $MiB --expect $MiB $4" "$5"
	check_data srv.out
}

# --- tlsdrv server <-> openssl s_client ------------------------------------
start_drv_server() { # start_drv_server ARGS...: sets $port
	timeout $T "$drv" server --port 0 "$@" >"$w/port.out" 2>"$w/drv.log" &
	drvpid=$!
	pids+=("$drvpid")
	for _ in $(seq 200); do
		# port.out may not exist yet (the background shell opens it):
		# under set -e a failing awk would end the case.
		port=$(awk '/^PORT/ {print $2}' "$w/port.out" 2>/dev/null || true)
		[ -n "$port" ] && return 0
		sleep 0.025
	done
	fail "tlsdrv server reported no port"
}
wait_drv() { # wait_drv: tlsdrv server's exit status must be 0
	local rc=0
	wait "$drvpid" || rc=$?
	[ "$rc" = 0 ] || fail "tlsdrv server exited $rc"
}
# ossl_cli CERT SUITE "DRV ARGS" "S_CLIENT ARGS": 1 MiB each way
ossl_cli() {
	local cert=$1 suite=$2 rc=0
	# shellcheck disable=SC2086
	start_drv_server --cert "$pki/$cert.crt" --key "$pki/$cert.key" --send $MiB \
		--expect $MiB $3
	feed "$base/pat.bin"
	# shellcheck disable=SC2086
	timeout $T openssl s_client -brief -connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$pki/ca.crt" -verify_return_error $4 <"$w/feed" >"$w/cli.out" \
		2>"$w/cli.log" || rc=$?
	wait_drv
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	has cli.log "^Protocol version: TLSv1\.2$"
	has cli.log "^Verification: OK$"
	if [ -z "$suite" ]; then # whatever was chosen, both must agree on it
		suite=$(sed -n 's/^Ciphersuite: //p' "$w/cli.log")
	fi
	has cli.log "^Ciphersuite: $suite$"
	drv_ok "$suite"
	check_data cli.out
}

# --- tlsdrv client <-> gnutls-serv -----------------------------------------
# gnutls_srv CERT "DRV ARGS" "GNUTLS-SERV ARGS": gnutls-serv --echo echoes
# lines of text (it works on C strings), hence --text data.
gnutls_srv() {
	local cert=$1 port rc=0
	free_port
	feed /dev/null
	# shellcheck disable=SC2086
	bg srv.log srv-err.log stdbuf -oL gnutls-serv --echo --crlf -p "$port" \
		--x509certfile "$pki/$cert.crt" --x509keyfile "$pki/$cert.key" $3
	wait_listen "$port"
	# shellcheck disable=SC2086
	timeout $T "$drv" client --connect "127.0.0.1:$port" --name localhost \
		--ca "$pki/ca.crt" $2 2>"$w/drv.log" || rc=$?
	[ "$rc" = 0 ] || fail "tlsdrv client exited $rc"
	sleep 0.1 # let gnutls-serv print what it saw
	has srv.log "^- Version: TLS1\.2$"
	hasnt srv.log "TLS1\.3"
}
gnutls_srv_data() { # gnutls_srv_data CERT SUITE GNUTLS-CIPHER "DRV" "SERV"
	gnutls_srv "$1" "--send $MiB --expect $MiB --expect-suite $2 $4 --text" "$5"
	drv_ok "$2"
	has srv.log "^- Cipher: $3$"
}

# --- tlsdrv server <-> gnutls-cli ------------------------------------------
# gnutls_cli CERT "DRV ARGS" "GNUTLS-CLI ARGS" INPUT
gnutls_cli() {
	local cert=$1 rc=0
	# shellcheck disable=SC2086
	start_drv_server --cert "$pki/$cert.crt" --key "$pki/$cert.key" $2
	feed "$4"
	# shellcheck disable=SC2086
	timeout $T gnutls-cli --logfile "$w/cli.log" --x509cafile "$pki/ca.crt" \
		-p "$port" --sni-hostname localhost --verify-hostname localhost $3 127.0.0.1 \
		<"$w/feed" >"$w/cli.out" 2>"$w/cli-err.log" || rc=$?
	wait_drv
	[ "$rc" = 0 ] || fail "gnutls-cli exited $rc"
	has cli.log "^- Description: \(TLS1\.2-X\.509\)"
	hasnt cli.log "TLS1\.3"
}
gnutls_cli_data() { # gnutls_cli_data CERT SUITE GNUTLS-DESC-TAIL "DRV" "CLI"
	gnutls_cli "$1" "--send $MiB --expect $MiB --expect-suite $2 $4" "$5" "$base/pat.bin"
	drv_ok "$2"
	has cli.log "^- Description: \(TLS1\.2-X\.509\)-$3$"
	check_data cli.out
}

p256=server-p256
rsa=server-rsa
ca="--name localhost --ca $pki/ca.crt"
case $name in
ossl-srv-ecdsa-aes128 | ossl-srv-ecdsa-aes256 | ossl-srv-ecdsa-chacha20 | \
	ossl-srv-rsa-aes128 | ossl-srv-rsa-aes256 | ossl-srv-rsa-chacha20)
	# The server picks each default suite out of our default offer.
	kind=${name#ossl-srv-}
	kind=${kind%-*}
	suite=$(echo "${name##*-}" | sed 's/aes128/AES128-GCM-SHA256/; s/aes256/AES256-GCM-SHA384/;
		s/chacha20/CHACHA20-POLY1305/')
	suite=ECDHE-${kind^^}-$suite
	cert=$([ "$kind" = ecdsa ] && echo $p256 || echo $rsa)
	ossl_srv_data "$cert" "$suite" x25519 "" "-cipher $suite"
	;;
ossl-srv-rsakx-aes128)
	ossl_srv_data $rsa AES128-GCM-SHA256 "" "--ciphers AES128-GCM-SHA256" \
		"-cipher AES128-GCM-SHA256"
	hasnt trace.log "ServerKeyExchange"
	;;
ossl-srv-rsakx-aes256)
	ossl_srv_data $rsa AES256-GCM-SHA384 "" "--ciphers AES256-GCM-SHA384" \
		"-cipher AES256-GCM-SHA384"
	hasnt trace.log "ServerKeyExchange"
	;;
ossl-srv-p384)
	ossl_srv_data server-p384 ECDHE-ECDSA-AES256-GCM-SHA384 "" \
		"--ciphers ECDHE-ECDSA-AES256-GCM-SHA384" ""
	has trace.log "NIST CURVE: P-384"
	# TLS 1.2 ECDSA schemes name the hash, not the curve: any is fine as
	# long as we report what the server's ServerKeyExchange carried.
	sig=$(sed -n 's/^ *Signature Algorithm: .*(\(0x[0-9a-f]*\))$/\1/p' "$w/trace.log")
	has drv.log "sigscheme=${sig:-none} "
	;;
ossl-srv-ed25519)
	ossl_srv_data server-ed25519 ECDHE-ECDSA-AES128-GCM-SHA256 "" "" ""
	has drv.log "sigscheme=0x0807 " # ed25519
	;;
ossl-srv-x25519)
	# An RSA certificate: in TLS 1.2 supported_groups also limits the curve
	# of an ECDSA certificate (RFC 8422 §5.1), so x25519 alone excludes P-256.
	ossl_srv_data $rsa ECDHE-RSA-AES128-GCM-SHA256 x25519 "--groups x25519" ""
	;;
ossl-srv-secp256r1)
	ossl_srv_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 secp256r1 "--groups secp256r1" ""
	;;
ossl-srv-secp384r1)
	ossl_srv_data server-p384 ECDHE-ECDSA-AES128-GCM-SHA256 secp384r1 "--groups secp384r1" \
		"-cipher ECDHE-ECDSA-AES128-GCM-SHA256"
	;;
ossl-srv-mtls-p256 | ossl-srv-mtls-rsa)
	c=client-${name##*-}
	ossl_srv_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" \
		"--cert $pki/$c.crt --key $pki/$c.key" \
		"-Verify 1 -verify_return_error -CAfile $pki/ca.crt"
	has trace.log "CertificateRequest"
	has trace.log "CertificateVerify"
	has trace.log "interop client ${name##*-}"
	;;
ossl-srv-resume)
	ossl_srv $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" "$ca --resume" "-naccept 2" /dev/null
	[ "$(grep -c "established.*resumed=no" "$w/drv.log")" = 1 ] || fail "first not full"
	[ "$(grep -c "established.*resumed=yes" "$w/drv.log")" = 1 ] || fail "second not resumed"
	# Two handshakes, one certificate: the second was abbreviated (RFC 5077 §3.1).
	[ "$(grep -c "ServerHello, Length" "$w/trace.log")" = 2 ] || fail "not 2 ServerHellos"
	[ "$(grep -c "^ *Certificate, Length" "$w/trace.log")" = 1 ] || fail "cert sent twice"
	has trace.log "NewSessionTicket"
	;;
ossl-srv-pin)
	pin=$(openssl pkey -in "$pki/$p256.key" -pubout -outform DER |
		openssl dgst -sha256 -binary | base64)
	ossl_srv $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" \
		"--name localhost --pin sha256//$pin --send 1000 --expect 0" "" /dev/null
	has drv.log "peer_verified=yes"
	;;
ossl-srv-ip-san)
	# No server name: no SNI, and 127.0.0.1 is checked against the IP SAN.
	ossl_srv $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" \
		"--ca $pki/ca.crt --send 1000 --expect 0" "" /dev/null
	has drv.log "peer_verified=yes sni=\"\" "
	hasnt trace.log "server_name"
	;;
ossl-srv-tls13-only)
	# A server that speaks only TLS 1.3 turns our 1.2 ClientHello away.
	ossl_srv $p256 "" "" "$ca --send 1000 --expect-fail ALERT:protocol_version" "-tls1_3" \
		/dev/null
	has drv.log "failed: class=ALERT alert=protocol_version \(from peer\)"
	[ ! -s "$w/srv.out" ] || fail "application data reached the server"
	;;
ossl-srv-reneg)
	# s_server's "r" command sends HelloRequest; we never renegotiate and
	# answer with a no_renegotiation warning (RFC 5246 §7.4.1.1), which
	# OpenSSL 3 then ends with a fatal handshake_failure of its own.
	free_port
	rm -f "$w/feed"
	mkfifo "$w/feed"
	{ sleep 0.5; echo r; exec sleep $T; } >"$w/feed" 2>/dev/null 8>&- &
	pids+=("$!")
	bg srv.out srv.log openssl s_server -trace -msgfile "$w/trace.log" -naccept 1 \
		-accept "127.0.0.1:$port" -cert "$pki/$p256.crt" -key "$pki/$p256.key"
	srv=$bgpid
	wait_listen "$port"
	# shellcheck disable=SC2086
	timeout $T "$drv" client --connect "127.0.0.1:$port" $ca --expect 64 --text \
		--expect-fail ALERT 2>"$w/drv.log" || fail "tlsdrv client failed"
	wait "$srv" || true
	has drv.log "established version=TLSv1\.2 "
	has trace.log "HelloRequest"
	has trace.log "Level=warning\(1\), description=no renegotiation\(100\)"
	[ "$(grep -c "ClientHello, Length" "$w/trace.log")" = 1 ] || fail "we renegotiated"
	;;
ossl-srv-untrusted | ossl-srv-wrong-name)
	if [ "$name" = ossl-srv-untrusted ]; then
		cert=evil-server args="--name localhost"
	else
		cert=$p256 args="--name wrong.example"
	fi
	ossl_srv "$cert" "" "" "$args --ca $pki/ca.crt --send 1000 --expect-fail AUTH" "" \
		/dev/null
	has drv.log "failed: class=AUTH alert=[a-z_]+ \(sent\)"
	has drv.log "expected failure AUTH happened"
	[ ! -s "$w/srv.out" ] || fail "application data reached the server"
	has trace.log "Alert"
	;;
ossl-cli-default)
	ossl_cli $p256 "" "" ""
	;;
ossl-cli-rsa-aes256)
	ossl_cli $rsa ECDHE-RSA-AES256-GCM-SHA384 "" "-tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384"
	;;
ossl-cli-chacha20)
	ossl_cli $p256 ECDHE-ECDSA-CHACHA20-POLY1305 "" \
		"-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305"
	;;
ossl-cli-p384)
	ossl_cli server-p384 "" "--expect-group secp384r1" "-groups secp384r1"
	has cli.log "^Server Temp Key: ECDH, (P-384|secp384r1), 384 bits$"
	;;
ossl-cli-ed25519)
	ossl_cli server-ed25519 "" "" "-sigalgs ed25519"
	grep -q -i "^Signature type: Ed25519$" "$w/cli.log" || fail "not an Ed25519 signature"
	has drv.log " sni=\"localhost\" "
	;;
ossl-cli-rsakx)
	ossl_cli $rsa AES256-GCM-SHA384 "--ciphers AES256-GCM-SHA384" \
		"-tls1_2 -cipher AES256-GCM-SHA384"
	;;
ossl-cli-ecdsa-sha512)
	# Only (SHA-512, ECDSA) offered to a P-256 server: TLS 1.2 takes any
	# offered hash with the key (RFC 5246 §7.4.1.4.1, RFC 8422 §5.1.1).
	ossl_cli $p256 "" "" "-tls1_2 -sigalgs ECDSA+SHA512"
	has cli.log "^Hash used: SHA512$"
	has cli.log "^Signature type: ECDSA$"
	has drv.log "established .*sigscheme=0x0000 " # no client certificate
	;;
ossl-cli-rsa-sha512)
	ossl_cli $rsa "" "" "-tls1_2 -sigalgs RSA+SHA512"
	has cli.log "^Hash used: SHA512$"
	has cli.log "^Signature type: RSA$"
	;;
ossl-cli-rsapss-sha512)
	ossl_cli $rsa "" "" "-tls1_2 -sigalgs rsa_pss_rsae_sha512"
	has cli.log "^Hash used: SHA512$"
	has cli.log "^Signature type: RSA-PSS$"
	;;
ossl-cli-mtls-sha512)
	# Our server asks with every scheme; the client signs its
	# CertificateVerify with the only one it allows itself.
	ossl_cli $p256 "" "--ca $pki/ca.crt --verify require" \
		"-tls1_2 -client_sigalgs ECDSA+SHA512 -cert $pki/client-p256.crt -key $pki/client-p256.key"
	has drv.log "established .*sigscheme=0x0603 .*peer_verified=yes"
	;;
ossl-cli-mtls)
	ossl_cli $p256 "" "--ca $pki/ca.crt --verify require" \
		"-cert $pki/client-p256.crt -key $pki/client-p256.key"
	has drv.log "peer_verified=yes .*peer=\".*interop client p256"
	;;
ossl-cli-mtls-nocert)
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" --ca "$pki/ca.crt" \
		--verify require --expect-fail AUTH
	rc=0
	timeout $T openssl s_client -brief -connect "127.0.0.1:$port" -CAfile "$pki/ca.crt" \
		</dev/null >"$w/cli.out" 2>"$w/cli.log" || rc=$?
	wait_drv
	[ "$rc" != 0 ] || fail "s_client without a certificate was let in"
	has drv.log "failed: class=AUTH"
	has cli.log "alert"
	;;
ossl-cli-resume)
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" --accept 2 \
		--expect-resumed
	for i in 1 2; do
		io=$([ $i = 1 ] && echo -sess_out || echo -sess_in)
		timeout $T openssl s_client -connect "127.0.0.1:$port" -servername localhost \
			-CAfile "$pki/ca.crt" -verify_return_error "$io" "$w/sess.pem" \
			</dev/null >"$w/cli$i.log" 2>&1 || fail "s_client run $i failed"
	done
	wait_drv
	has cli1.log "^New, TLSv1\.2, Cipher is "
	has cli2.log "^Reused, TLSv1\.2, Cipher is "
	has drv.log "resumed=yes"
	;;
ossl-cli-tls13-only)
	# A client that offers only TLS 1.3 (supported_versions = {0x0304},
	# RFC 8446 §4.2.1) is told protocol_version, not handshake_failure.
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" --send 1000 \
		--expect-fail NEGOTIATION:protocol_version
	rc=0
	timeout $T openssl s_client -brief -tls1_3 -connect "127.0.0.1:$port" \
		-CAfile "$pki/ca.crt" </dev/null >"$w/cli.out" 2>"$w/cli.log" || rc=$?
	wait_drv
	[ "$rc" != 0 ] || fail "s_client -tls1_3 got in"
	[ ! -s "$w/cli.out" ] || fail "application data reached the client"
	has drv.log "failed: class=NEGOTIATION alert=protocol_version \(sent\)"
	has drv.log "client offers TLSv1\.3 \(supported_versions\)"
	has cli.log "alert protocol version"
	;;
ossl-srv-alpn)
	# Our client offers h2,http/1.1; s_server serves http/1.1 only: it
	# must answer http/1.1, and we report it (RFC 7301 §3.1).
	ossl_srv_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" \
		"--alpn h2,http/1.1 --expect-alpn http/1.1" "-alpn http/1.1"
	has drv.log " alpn=http/1.1$"
	grep -A2 "extension_type=application_layer_protocol_negotiation(16), length=14" \
		"$w/trace.log" | grep -q "^ *h2$" || fail "our ClientHello did not offer h2 first"
	;;
ossl-srv-alpn-no-overlap)
	# No protocol in common: OpenSSL 3 answers no_application_protocol
	# (120), which we report as the server's alert; nothing is sent.
	ossl_srv $p256 "" "" "$ca --alpn h2 --send 1000 --expect-fail ALERT:no_application_protocol" \
		"-alpn postgresql" /dev/null
	has drv.log "failed: class=ALERT alert=no_application_protocol \(from peer\)"
	[ ! -s "$w/srv.out" ] || fail "application data reached the server"
	;;
ossl-srv-alpn-unanswered)
	# A server without ALPN ignores our offer; the client goes on
	# without a protocol (RFC 7301 §3.2 leaves that to the application).
	ossl_srv $p256 ECDHE-ECDSA-AES128-GCM-SHA256 "" \
		"$ca --alpn h2 --expect-alpn - --send 1000 --expect 0" "" /dev/null
	has drv.log " alpn=-$"
	;;
ossl-cli-alpn | ossl-cli-alpn-server-order | ossl-cli-alpn-not-offered)
	# Our server picks the first of ITS protocols the client offered.
	case $name in
	ossl-cli-alpn) ours=http/1.1 theirs="-alpn h2,http/1.1" want=http/1.1 ;;
	ossl-cli-alpn-server-order) ours=h2,http/1.1 theirs="-alpn http/1.1,h2" want=h2 ;;
	*) ours=h2,http/1.1 theirs="" want=- ;; # no ALPN offered: served without
	esac
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" --send 1000 \
		--expect 0 --alpn "$ours" --expect-alpn "$want"
	rc=0
	# shellcheck disable=SC2086
	timeout $T openssl s_client -connect "127.0.0.1:$port" -servername localhost \
		-CAfile "$pki/ca.crt" -verify_return_error $theirs </dev/null >"$w/cli.out" \
		2>"$w/cli.log" || rc=$?
	wait_drv
	[ "$rc" = 0 ] || fail "s_client exited $rc"
	has cli.out "^ +Protocol +: TLSv1\.2$"
	if [ "$want" = - ]; then
		has cli.out "^No ALPN negotiated$"
	else
		has cli.out "^ALPN protocol: $want$"
	fi
	has drv.log " alpn=$want$"
	;;
ossl-cli-alpn-no-overlap)
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" --alpn postgresql \
		--expect-fail NEGOTIATION:no_application_protocol
	rc=0
	timeout $T openssl s_client -connect "127.0.0.1:$port" -CAfile "$pki/ca.crt" \
		-alpn h2,http/1.1 </dev/null >"$w/cli.out" 2>"$w/cli.log" || rc=$?
	wait_drv
	[ "$rc" != 0 ] || fail "s_client with no common protocol got in"
	has cli.log "alert no application protocol"
	has drv.log "reason=\"no application protocol in common \(ALPN, RFC 7301 §3\.2\): client offered h2, http/1\.1; we accept postgresql\""
	;;
gnutls-cli-alpn)
	# gnutls-cli offers two protocols; our server takes the one it has.
	gnutls_cli $p256 "--alpn postgresql --expect-alpn postgresql" \
		"--alpn h2 --alpn postgresql" /dev/null
	has cli.log "^- Application protocol: postgresql$"
	has drv.log " alpn=postgresql$"
	;;
gnutls-srv-ecdsa)
	gnutls_srv_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 AES-128-GCM \
		"--ciphers ECDHE-ECDSA-AES128-GCM-SHA256" ""
	;;
gnutls-srv-rsa)
	gnutls_srv_data $rsa ECDHE-RSA-AES256-GCM-SHA384 AES-256-GCM \
		"--ciphers ECDHE-RSA-AES256-GCM-SHA384 --groups secp256r1" ""
	has drv.log " group=secp256r1 "
	;;
gnutls-srv-chacha20)
	gnutls_srv_data $p256 ECDHE-ECDSA-CHACHA20-POLY1305 CHACHA20-POLY1305 \
		"--ciphers ECDHE-ECDSA-CHACHA20-POLY1305" ""
	;;
gnutls-srv-resume)
	gnutls_srv $p256 "--resume" ""
	has drv.log "resumed=yes"
	has srv.log "This is a resumed session"
	;;
gnutls-srv-mtls)
	gnutls_srv_data $p256 ECDHE-ECDSA-AES256-GCM-SHA384 AES-256-GCM \
		"--ciphers ECDHE-ECDSA-AES256-GCM-SHA384 --cert $pki/client-rsa.crt --key $pki/client-rsa.key" \
		"--require-client-cert --verify-client-cert --x509cafile $pki/ca.crt"
	has srv.log "interop client rsa"
	has srv.log "The certificate is trusted"
	;;
gnutls-cli-ecdsa)
	gnutls_cli_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 \
		"\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(AES-128-GCM\)" "" \
		"--priority NORMAL:-CIPHER-ALL:+AES-128-GCM"
	;;
gnutls-cli-rsa-aes256)
	gnutls_cli_data $rsa ECDHE-RSA-AES256-GCM-SHA384 \
		"\(ECDHE-SECP384R1\)-\(RSA-.*\)-\(AES-256-GCM\)" "--expect-group secp384r1" \
		"--priority NORMAL:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-SECP384R1"
	;;
gnutls-cli-ed25519)
	gnutls_cli_data server-ed25519 ECDHE-ECDSA-CHACHA20-POLY1305 \
		"\(ECDHE-X25519\)-\(EdDSA-Ed25519\)-\(CHACHA20-POLY1305\)" "" \
		"--priority NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+CHACHA20-POLY1305"
	;;
gnutls-cli-resume)
	gnutls_cli $p256 "--accept 2 --expect-resumed" "--resume" /dev/null
	has cli.log "This is a resumed session"
	[ "$(grep -c "resumed=yes" "$w/drv.log")" = 1 ] || fail "not resumed once"
	;;
gnutls-cli-mtls)
	gnutls_cli_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 \
		"\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(AES-128-GCM\)" \
		"--ca $pki/ca.crt --verify require" \
		"--x509certfile $pki/client-p256.crt --x509keyfile $pki/client-p256.key"
	has drv.log "peer_verified=yes .*interop client p256"
	;;
gnutls-cli-legacy-no-ems)
	# A client without the extended master secret (GnuTLS calls it the
	# session hash): with --legacy-peers both sides use the RFC 5246 §8.1
	# master secret, and 1 MiB each way proves they agree on it.
	gnutls_cli_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 \
		"\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(AES-128-GCM\)" "--legacy-peers" \
		"--priority NORMAL:-CIPHER-ALL:+AES-128-GCM:%NO_SESSION_HASH"
	has drv.log "established .* ems=no secure_reneg=yes "
	;;
gnutls-cli-legacy-no-reneg)
	gnutls_cli_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 \
		"\(ECDHE-X25519\)-\(ECDSA-SHA256\)-\(AES-128-GCM\)" "--legacy-peers" \
		"--priority NORMAL:-CIPHER-ALL:+AES-128-GCM:%DISABLE_SAFE_RENEGOTIATION"
	has drv.log "established .* ems=yes secure_reneg=no "
	;;
gnutls-cli-no-ems-refused)
	# The default: such a client is refused with handshake_failure.
	start_drv_server --cert "$pki/$p256.crt" --key "$pki/$p256.key" \
		--expect-fail NEGOTIATION:handshake_failure
	rc=0
	timeout $T gnutls-cli --x509cafile "$pki/ca.crt" -p "$port" --sni-hostname localhost \
		--priority "NORMAL:%NO_SESSION_HASH" 127.0.0.1 </dev/null >"$w/cli.log" 2>&1 || rc=$?
	wait_drv
	[ "$rc" != 0 ] || fail "gnutls-cli without EMS got in"
	has drv.log "reason=\"client does not support extended master secret \(RFC 7627\)"
	;;
gnutls-srv-legacy-no-ems)
	gnutls_srv_data $p256 ECDHE-ECDSA-AES128-GCM-SHA256 AES-128-GCM \
		"--ciphers ECDHE-ECDSA-AES128-GCM-SHA256 --legacy-peers" \
		"--priority NORMAL:%NO_SESSION_HASH"
	has drv.log "established .* ems=no secure_reneg=yes "
	;;
gnutls-srv-no-ems-refused | gnutls-srv-no-reneg-refused)
	# A client rule refuses a server without EMS or renegotiation_info
	# (RFC 7627, RFC 5746) unless legacy_peers.
	if [ "$name" = gnutls-srv-no-ems-refused ]; then
		prio=NORMAL:%NO_SESSION_HASH words="extended master secret \(RFC 7627\)"
	else
		prio=NORMAL:%DISABLE_SAFE_RENEGOTIATION
		words="secure renegotiation \(renegotiation_info, RFC 5746\)"
	fi
	free_port
	feed /dev/null
	bg srv.log srv-err.log gnutls-serv --echo -p "$port" --x509certfile "$pki/$p256.crt" \
		--x509keyfile "$pki/$p256.key" --priority "$prio"
	wait_listen "$port"
	timeout $T "$drv" client --connect "127.0.0.1:$port" --name localhost --ca "$pki/ca.crt" \
		--send 100 --expect-fail NEGOTIATION:handshake_failure 2>"$w/drv.log" ||
		fail "tlsdrv client did not fail as expected"
	has drv.log "reason=\"server does not support $words"
	;;
*)
	fail "unknown case (see run.sh --list)"
	;;
esac
echo "interop/$name: ok"
