#!/usr/bin/env bash
# run_servers.sh CASE: one real-server case. Unmodified redis-server (epoll)
# and nginx (epoll, sendfile, master + worker) run under the in-tree tlshim
# wrapper on free loopback ports, each with its own configuration in the
# case's scratch directory (never the system instances or their files);
# clients are the stock redis-cli (wrapped) and curl (speaking TLS itself).
# run_servers.sh --list prints the case names (CMake registers one test per
# name, beside run.sh's).
#
# Environment: as run.sh (TLSHIM, TLSHIM_LIBRARY, APPS_DIR; the PKI and the
# port lock in APPS_DIR are shared with run.sh's cases). Every process runs
# under `timeout` and is killed on exit.
set -euo pipefail

cases=(redis-mtls redis-refusals nginx-sendfile-keepalive nginx-plain-refused)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bg_log_stdout=1 # bg: the servers' own output goes to the log too
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh" "$@"
shared_pki

nginx_master=
cleanup() {
	# nginx workers outlive a master that dies by SIGKILL: note them by
	# parent pid first, stop the master (timeout forwards TERM), then any
	# worker still there.
	local workers=()
	[ -n "$nginx_master" ] && mapfile -t workers < <(pgrep -P "$nginx_master" || true)
	kill_pids
	for p in "${workers[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
info_ok() { # info_ok LOG ROLE: the tlshim info line of one TLS 1.2 connection.
	has "$1" "^tlshim\[[0-9]+\]: info: rule [a-z-]+: $2 .* TLSv1\.2 ECDHE-[A-Z0-9-]+ [a-z0-9]+ peer "
}

# redis_start: redis-server under tlshim with redis.ini's mutual-TLS server
# rule on a free port ($port); no persistence, its files in $w.
redis_policy() { # redis_policy FILE [nocert]: server rule + client rule
	{
		printf '[global]\nlog = info\n'
		printf '[redis-in]\nrole = server\nport = %s\n' "$port"
		printf 'cert = %s\nkey = %s\n' "$pki/server-p256.crt" "$pki/server-p256.key"
		printf 'ca = %s\nverify_peer = require\n' "$pki/ca.crt"
		printf '[redis-out]\nrole = client\nport = %s\n' "$port"
		printf 'ca = %s\nserver_name = localhost\n' "$pki/ca.crt"
		[ "${2:-}" = nocert ] ||
			printf 'cert = %s\nkey = %s\n' "$pki/client-p256.crt" "$pki/client-p256.key"
	} >"$w/$1"
}
redis_start() {
	need redis-server
	need redis-cli
	free_port
	redis_policy redis.ini
	bg srv.log "$tlshim" -c "$w/redis.ini" -- redis-server --port "$port" \
		--bind 127.0.0.1 --save '' --appendonly no --dir "$w" --logfile "$w/redis.log"
	wait_listen "$port"
}
cli() { # cli POLICY OUT CMD...: wrapped redis-cli; its stderr in OUT.log, rc in $rc
	local pol=$1 out=$2
	shift 2
	rc=0
	timeout $T "$tlshim" -c "$w/$pol" -- redis-cli -p "$port" "$@" \
		</dev/null >"$w/$out" 2>"$w/$out.log" || rc=$?
}

# nginx_start: nginx (master + 1 worker, epoll, sendfile) under tlshim with a
# server rule on a free port; serves $w/www; logs to $w (tlshim's too).
nginx_start() {
	need nginx
	need curl
	free_port
	mkdir -p "$w/www" "$w/tmp"
	{
		[ "$(id -u)" -ne 0 ] || echo 'user root root;' # the worker reads $w
		cat <<-EOF
			worker_processes 1;
			daemon off;
			master_process on;
			pid $w/nginx.pid;
			error_log $w/error.log info;
			events { }
			http {
				access_log $w/access.log;
				client_body_temp_path $w/tmp/body;
				proxy_temp_path $w/tmp/proxy;
				fastcgi_temp_path $w/tmp/fastcgi;
				uwsgi_temp_path $w/tmp/uwsgi;
				scgi_temp_path $w/tmp/scgi;
				default_type application/octet-stream;
				sendfile on;
				keepalive_timeout 20;
				server {
					listen 127.0.0.1:$port;
					root $w/www;
				}
			}
		EOF
	} >"$w/nginx.conf"
	{
		printf '[global]\nlog = info\nlog_file = %s\n' "$w/tlshim.log"
		printf '[https-in]\nrole = server\nport = %s\n' "$port"
		printf 'cert = %s\nkey = %s\n' "$pki/server-p256.crt" "$pki/server-p256.key"
	} >"$w/nginx.ini"
	bg nginx.log "$tlshim" -c "$w/nginx.ini" -- nginx -p "$w" -c "$w/nginx.conf" -e "$w/error.log"
	wait_listen "$port"
	# The wrapper execs nginx under timeout: the master is timeout's child.
	for _ in $(seq 200); do
		nginx_master=$(pgrep -P "$bgpid" || true)
		[ -n "$nginx_master" ] && [ -n "$(pgrep -P "$nginx_master" || true)" ] && break
		sleep 0.025
	done
	[ -n "$nginx_master" ] || fail "no nginx master process"
	has error.log 'using the "epoll" event method'
}

case $name in
redis-mtls)
	# Both ends wrapped, mutual TLS: a 100 KB binary value round-trips
	# (SET -x / GET), 300 PINGs on one connection, and a second of
	# redis-cli --latency sampling (non-tty: one summary line).
	redis_start
	head -c 102400 /dev/urandom >"$w/value.bin"
	rc=0
	timeout $T "$tlshim" -c "$w/redis.ini" -- redis-cli -p "$port" -x set big \
		<"$w/value.bin" >"$w/set.out" 2>"$w/set.out.log" || rc=$?
	[ "$rc" = 0 ] || fail "wrapped redis-cli SET exited $rc"
	has set.out '^OK$'
	cli redis.ini get.out --raw get big
	[ "$rc" = 0 ] || fail "wrapped redis-cli GET exited $rc"
	# --raw prints the value and a newline.
	head -c -1 "$w/get.out" >"$w/got.bin"
	[ "$(sha256sum <"$w/value.bin")" = "$(sha256sum <"$w/got.bin")" ] ||
		fail "100 KB value differs after GET ($(stat -c %s "$w/got.bin") bytes back)"
	cli redis.ini strlen.out strlen big
	has strlen.out '^102400$'
	info_ok get.out.log client
	has get.out.log 'peer "CN=localhost,O=tlshim interop"'

	cli redis.ini ping.out -r 300 ping
	[ "$rc" = 0 ] || fail "300 PINGs: redis-cli exited $rc"
	[ "$(count ping.out '^PONG$')" = 300 ] || fail "300 PINGs: $(count ping.out '^PONG$') PONGs"
	[ "$(wc -l <"$w/ping.out")" = 300 ] || fail "300 PINGs: unexpected output"
	[ "$(count ping.out.log ' info: rule redis-out: client ')" = 1 ] ||
		fail "300 PINGs did not share one TLS connection"

	cli redis.ini latency.out --latency -i 1
	[ "$rc" = 0 ] || fail "redis-cli --latency exited $rc"
	# "min max avg samples": at least 20 samples in the second.
	read -r lmin lmax lavg lsamples <"$w/latency.out" || fail "no --latency output"
	echo "latency ms: min $lmin max $lmax avg $lavg samples $lsamples" >"$w/latency.log"
	[[ "$lsamples" =~ ^[0-9]+$ ]] || fail "--latency: bad sample count '$lsamples'"
	[ "$lsamples" -ge 20 ] || fail "--latency: only $lsamples samples"
	awk -v m="$lmax" 'BEGIN { exit !(m < 1000) }' || fail "--latency: max $lmax ms"

	# The server saw every client certificate and counted the commands.
	cli redis.ini stats.out info commandstats
	has stats.out '^cmdstat_set:calls=1,'
	has stats.out '^cmdstat_get:calls=1,'
	has stats.out '^cmdstat_ping:calls=([3-9][0-9][0-9]|[0-9]{4,}),'
	info_ok srv.log server
	has srv.log 'rule redis-in: server .* peer "CN=interop client p256,O=tlshim interop"'
	hasnt srv.log 'handshake refused'
	;;

redis-refusals)
	# The mutual-TLS redis refuses an unwrapped redis-cli (plaintext on its
	# TLS port) and a wrapped redis-cli without a client certificate; the
	# server never sees either command, and still serves a proper client.
	redis_start
	redis_policy nocert.ini nocert
	tag=$RANDOM$RANDOM
	rc=0
	timeout $T redis-cli -p "$port" set "plain-$tag" leaked </dev/null \
		>"$w/plain.out" 2>"$w/plain.out.log" || rc=$?
	[ "$rc" != 0 ] || fail "unwrapped redis-cli succeeded"
	hasnt plain.out '^OK'
	cli nocert.ini nocert.out set "nocert-$tag" leaked
	[ "$rc" != 0 ] || fail "wrapped redis-cli without a client certificate succeeded"
	hasnt nocert.out '^OK'
	# A blocking connect() whose peer refused us: EACCES (INTERFACE.md).
	has nocert.out.log 'Permission denied'
	has nocert.out.log 'warn: rule redis-out: client .*handshake refused'

	has srv.log 'warn: rule redis-in: server .*handshake refused: .*(non-TLS|plaintext)'
	has srv.log 'warn: rule redis-in: server .*handshake refused: .*certificate'
	# What the server executed, asked by a proper client.
	cli redis.ini exists.out exists "plain-$tag" "nocert-$tag"
	[ "$rc" = 0 ] || fail "wrapped redis-cli with a certificate exited $rc after the refusals"
	has exists.out '^0$'
	cli redis.ini stats.out info commandstats
	hasnt stats.out '^cmdstat_set:'
	has stats.out '^cmdstat_exists:calls=1,'
	;;

nginx-sendfile-keepalive)
	# nginx with sendfile on, under a server rule; stock curl over https:
	# a 5 MB file byte for byte over TLS 1.2, then two requests on one
	# keep-alive connection.
	nginx_start
	head -c 5000000 /dev/urandom >"$w/www/file"
	want=$(sha256sum <"$w/www/file")
	rc=0
	timeout $T curl -sS -v --cacert "$pki/ca.crt" -o "$w/got" \
		"https://localhost:$port/file" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "curl exited $rc"
	[ "$(sha256sum <"$w/got")" = "$want" ] || fail "5 MB file differs ($(stat -c %s "$w/got") bytes)"
	has curl.log '^\* SSL connection using TLSv1\.2 / ECDHE-ECDSA-'
	has curl.log '^< HTTP/1\.1 200'
	has curl.log '^< Content-Length: 5000000'
	has curl.log '^\* +subject: .*CN ?= ?localhost'
	info_ok tlshim.log server
	[ "$(count tlshim.log ' info: rule https-in: server ')" = 1 ] || fail "expected one TLS connection"

	rc=0
	timeout $T curl -sS -v --cacert "$pki/ca.crt" -o "$w/got1" -o "$w/got2" \
		"https://localhost:$port/file?one" "https://localhost:$port/file?two" \
		2>"$w/curl2.log" || rc=$?
	[ "$rc" = 0 ] || fail "curl with two URLs exited $rc"
	[ "$(sha256sum <"$w/got1")" = "$want" ] || fail "keep-alive: first response differs"
	[ "$(sha256sum <"$w/got2")" = "$want" ] || fail "keep-alive: second response differs"
	has curl2.log 'Re-using existing connection'
	[ "$(count curl2.log '^< HTTP/1\.1 200')" = 2 ] || fail "keep-alive: not two 200 responses"
	[ "$(count curl2.log '^\* SSL connection using TLSv1\.2')" = 1 ] ||
		fail "keep-alive: more than one TLS handshake"
	[ "$(count tlshim.log ' info: rule https-in: server ')" = 2 ] ||
		fail "keep-alive: the two requests did not share one TLS connection"
	has access.log '"GET /file\?one HTTP/1\.1" 200 5000000 '
	has access.log '"GET /file\?two HTTP/1\.1" 200 5000000 '
	hasnt tlshim.log 'handshake refused|connection failed'
	;;

nginx-plain-refused)
	# Plain http to the wrapped nginx's port fails, gets none of the file,
	# and nginx never sees the request; https on the same server still works.
	nginx_start
	head -c 100000 /dev/urandom >"$w/www/file"
	rc=0
	timeout $T curl -sS -o "$w/plain" "http://127.0.0.1:$port/file?plain" \
		2>"$w/plain.log" || rc=$?
	[ "$rc" != 0 ] || fail "plain http was served on the TLS port"
	[ ! -s "$w/plain" ] || fail "plain http got bytes"
	has tlshim.log 'warn: rule https-in: server .*handshake refused'
	rc=0
	timeout $T curl -sS --cacert "$pki/ca.crt" -o "$w/got" \
		"https://localhost:$port/file?tls" 2>"$w/curl.log" || rc=$?
	[ "$rc" = 0 ] || fail "https after the refusal: curl exited $rc"
	cmp "$w/www/file" "$w/got" >"$w/cmp.log" 2>&1 || fail "https after the refusal: content differs"
	has access.log '"GET /file\?tls HTTP/1\.1" 200 100000 '
	hasnt access.log 'plain'
	;;

*)
	fail "unknown case"
	;;
esac
echo "apps/$name: ok"
