#!/usr/bin/env bash
# run_testssl.sh CASE: testssl.sh (Debian's package, a TLS scanner nobody
# here wrote) against an unmodified python3 http.server wrapped by tlshim on
# a loopback port. run_testssl.sh --list prints the case names.
#
# testssl-legacy-peers: a server rule with `legacy_peers = yes` (testssl
# builds many ClientHellos itself, without the extended master secret).
# Checks run: -p (protocols), -f (forward secrecy and the curves), -S (server
# defaults: extensions, tickets, certificate) and -U (every vulnerability
# check it has: Heartbleed, CCS, Ticketbleed, ROBOT, RFC 5746 renegotiation,
# client-initiated renegotiation, CRIME, BREACH, POODLE, TLS_FALLBACK_SCSV,
# SWEET32, FREAK, DROWN, LOGJAM, BEAST, LUCKY13, RC4). From its JSON output:
#   - no finding of severity MEDIUM, HIGH or CRITICAL, none whose text says
#     "VULNERABLE" or "NOT ok", and no WARN (a check that could not run)
#     but testssl's own note that its openssl lacks GOST engines;
#   - TLS 1.2 offered; SSLv2, SSLv3, TLS 1.0, TLS 1.1 not offered;
#   - forward secrecy offered (id PFS, FS in testssl 3.1+) with the three
#     default curves listed: prime256v1 secp384r1 X25519;
#   - secure renegotiation (RFC 5746) supported, client-initiated
#     renegotiation refused; session tickets on (the hint is reported);
#   - the certificate's chain of trust ok (testssl is given the test CA).
# The certificate is made for this case (a year's validity, CRL and OCSP
# URIs), so that testssl's certificate-hygiene findings about the shared
# throwaway test certificates (ten years, no revocation info) do not stand
# in for findings about tlshim.
#
# testssl-default-refuses: the same server without legacy_peers: testssl's
# own ClientHellos lack the extended master secret, so they are refused
# (logged) and it reports no forward secrecy: the default the knob relaxes.
#
# legacy-peer-log: testssl's probes never finish a handshake without EMS,
# so a stock gnutls-cli with the session hash (EMS) or safe renegotiation
# switched off talks to a wrapped socat echo server under legacy_peers =
# yes: the data echoes, and the connection's info line and a warn line say
# what the peer lacked.
set -euo pipefail

cases=(testssl-legacy-peers testssl-default-refuses legacy-peer-log)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail_logs=(log)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
T=150 # testssl's whole run; the server lives as long
shared_pki

testssl=$(command -v testssl || command -v testssl.sh) ||
	fail "testssl.sh is not installed (scripts/deps installs Debian's testssl.sh)"
py=$(command -v /usr/bin/python3 python3 | head -n 1) || fail "python3 missing"

# A leaf for this case from the shared CA: P-256, localhost, one year, with
# revocation pointers (testssl does not fetch them without --phone-out).
cert() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/leaf.key" 2>/dev/null
	openssl req -new -key "$w/leaf.key" -subj "/O=tlshim testssl/CN=localhost" \
		-out "$w/leaf.csr" 2>/dev/null
	cat >"$w/leaf.ext" <<-EOF
		basicConstraints=critical,CA:FALSE
		keyUsage=critical,digitalSignature
		extendedKeyUsage=serverAuth
		subjectAltName=DNS:localhost,IP:127.0.0.1
		crlDistributionPoints=URI:http://127.0.0.1/tlshim-test.crl
		authorityInfoAccess=OCSP;URI:http://127.0.0.1/ocsp
	EOF
	openssl x509 -req -in "$w/leaf.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "$w/leaf.ext" \
		-out "$w/leaf.crt" 2>/dev/null || fail "cannot make the leaf certificate"
}

# serve LEGACY: python3 http.server under tlshim with a server rule.
serve() {
	free_port
	mkdir -p "$w/www"
	echo "tlshim testssl case" >"$w/www/index.html"
	{
		printf '[global]\nlog = info\n[in]\nrole = server\nport = %s\n' "$port"
		printf 'cert = %s\nkey = %s\nlegacy_peers = %s\n' "$w/leaf.crt" "$w/leaf.key" "$1"
	} >"$w/policy.ini"
	bg_log_stdout=1 bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		"$py" -m http.server "$port" --bind 127.0.0.1 --directory "$w/www"
	wait_listen "$port"
}

# scan CHECKS...: testssl over loopback, its JSON in $w/testssl.json.
scan() {
	local rc=0
	timeout "$T" "$testssl" --quiet --color 0 --warnings off --nodns min --ip 127.0.0.1 \
		--connect-timeout 5 --openssl-timeout 5 --add-ca "$pki/ca.crt" \
		--jsonfile "$w/testssl.json" "$@" "localhost:$port" >"$w/testssl.log" 2>&1 || rc=$?
	# testssl exits with the number of problems it met (0 when none);
	# 124 is our timeout.
	[ "$rc" != 124 ] || fail "testssl did not finish within $T s"
	[ -s "$w/testssl.json" ] || fail "testssl wrote no JSON (exit $rc)"
}

# judge MODE: the assertions on $w/testssl.json (MODE legacy or default).
judge() {
	"$py" - "$w/testssl.json" "$1" >"$w/judge.log" 2>&1 <<-'EOF' || fail "$(cat "$w/judge.log")"
		import json, sys
		findings = json.load(open(sys.argv[1]))
		mode = sys.argv[2]
		by_id = {f["id"]: f for f in findings}
		bad = []
		def need(fid, pred, why):
		    f = by_id.get(fid)
		    if f is None or not pred(f):
		        bad.append("%s: want %s, got %r" % (fid, why, f and (f["severity"], f["finding"])))
		if mode == "default":
		    fs = by_id.get("PFS") or by_id.get("FS")
		    if fs is None or fs["severity"] == "OK" or "offered" == fs["finding"]:
		        bad.append("forward secrecy should look absent without legacy_peers: %r" % (fs,))
		else:
		    for f in findings:
		        sev, text = f.get("severity", ""), f.get("finding", "")
		        if f["id"] == "engine_problem":
		            continue  # testssl's own openssl has no GOST engines
		        if sev in ("MEDIUM", "HIGH", "CRITICAL", "WARN"):
		            bad.append("%s: severity %s: %s" % (f["id"], sev, text))
		        elif "VULNERABLE" in text or "NOT ok" in text:
		            bad.append("%s: %s" % (f["id"], text))
		    need("TLS1_2", lambda f: f["finding"] == "offered", "offered")
		    for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
		        need(p, lambda f: f["finding"].startswith("not offered"), "not offered")
		    fs = "FS" if "FS" in by_id else "PFS"
		    need(fs, lambda f: f["severity"] == "OK" and f["finding"] == "offered", "OK offered")
		    need(fs + "_ECDHE_curves",
		         lambda f: f["finding"].split() == ["prime256v1", "secp384r1", "X25519"],
		         "prime256v1 secp384r1 X25519")
		    need("secure_renego", lambda f: f["severity"] == "OK", "supported (OK)")
		    need("secure_client_renego", lambda f: f["severity"] == "OK", "not vulnerable (OK)")
		    need("sessionresumption_ticket", lambda f: f["finding"] == "supported", "supported")
		    need("cert_chain_of_trust", lambda f: f["severity"] == "OK", "passed")
		    for v in ("heartbleed", "CCS", "ticketbleed", "ROBOT", "CRIME_TLS", "BREACH",
		              "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM",
		              "BEAST", "LUCKY13", "RC4"):
		        need(v, lambda f: f["severity"] in ("OK", "INFO"), "OK or INFO")
		print("\n".join(bad) if bad else "ok: %d findings judged" % len(findings))
		sys.exit(1 if bad else 0)
	EOF
}

cert
case $name in
testssl-legacy-peers)
	serve yes
	scan -p -f -S -U
	judge legacy
	# testssl completed handshakes too (e.g. its openssl checks), each
	# with tlshim's info line, and nothing it did was refused for a
	# missing extension.
	has srv.log "info: rule in: .* TLSv1\.2 ECDHE-ECDSA-"
	hasnt srv.log "does not support (extended master secret|secure renegotiation)"
	;;
legacy-peer-log)
	command -v gnutls-cli >/dev/null || fail "gnutls-cli is not installed (scripts/deps)"
	free_port
	printf '[global]\nlog = info\n[in]\nrole = server\nport = %s\ncert = %s\nkey = %s\nlegacy_peers = yes\n' \
		"$port" "$w/leaf.crt" "$w/leaf.key" >"$w/policy.ini"
	bg_log_stdout=1 bg srv.log "$tlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_listen "$port"
	for what in NO_SESSION_HASH DISABLE_SAFE_RENEGOTIATION; do
		echo "legacy peer $what" >"$w/in-$what"
		rc=0
		# gnutls-cli quits at end of input; give the echo time to come back.
		{ cat "$w/in-$what"; sleep 1; } | timeout 20 gnutls-cli --x509cafile "$pki/ca.crt" \
			-p "$port" --sni-hostname localhost --priority "NORMAL:%$what" 127.0.0.1 \
			>"$w/out-$what.log" 2>&1 || rc=$?
		[ "$rc" = 0 ] || fail "gnutls-cli with %$what exited $rc"
		has "out-$what.log" "^legacy peer $what$"
	done
	sleep 0.2
	has srv.log "info: rule in: server .* TLSv1\.2 ECDHE-ECDSA-.* new in [0-9.]+ ms, legacy peer: no extended master secret$"
	has srv.log "info: rule in: server .* TLSv1\.2 ECDHE-ECDSA-.* new in [0-9.]+ ms, legacy peer: no renegotiation_info$"
	has srv.log "warn: rule in: server .*: legacy peer: no extended master secret \(RFC 7627, RFC 5746\); accepted because of legacy_peers = yes"
	has srv.log "warn: rule in: server .*: legacy peer: no renegotiation_info \(RFC 7627, RFC 5746\); accepted"
	;;
testssl-default-refuses)
	serve no
	scan -f
	judge default
	has srv.log "warn: rule in: .*handshake refused: client does not support extended master secret"
	has srv.log "handshake refused: .* -- .*legacy_peers = yes in the rule accepts such peers"
	;;
esac
