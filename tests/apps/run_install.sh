#!/usr/bin/env bash
# run_install.sh CASE: tlshim as a user gets it, not as the build tree has
# it: `cmake --install` into a temporary prefix and only that prefix used
# (a wrapped socat server and client, the man pages), the Debian package
# CPack makes, the example policies and the systemd drop-in. run_install.sh
# --list prints the case names (CMake registers one test per name).
#
# Environment: TLSHIM (the built wrapper, for --check), TLSHIM_BUILD_DIR
# (the build tree to install from and package), APPS_DIR (scratch; per-case
# work in $APPS_DIR/work/CASE). Every process runs under `timeout`.
set -euo pipefail

cases=(install-prefix install-man examples-check deb-package systemd-dropin)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${cases[@]}"
	exit 0
fi
name=${1:?usage: run_install.sh CASE | --list}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
tlshim=${TLSHIM:?TLSHIM must name the built tlshim wrapper}
build=${TLSHIM_BUILD_DIR:?TLSHIM_BUILD_DIR must name the build tree}
base=${APPS_DIR:?APPS_DIR must name a scratch directory}
pki=$base/pki
w=$base/work/$name
T=25
unset TLSHIM_CONFIG TLSHIM_LOG SSLKEYLOGFILE

label=apps
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$here/../lib/common.sh"
fresh_workdir
shared_pki

# install PREFIX: cmake --install of the build tree into PREFIX.
install_to() {
	cmake --install "$build" --prefix "$1" >"$w/install.log" 2>&1 || fail "cmake --install failed"
}

case $name in
install-prefix)
	# Only $prefix/bin/tlshim: it must find $prefix/lib/tlshim/libtlshim.so
	# by itself (no TLSHIM_LIBRARY), and the wrapped server must have
	# that library mapped, not the build tree's.
	need socat
	prefix=$w/prefix
	install_to "$prefix"
	for f in bin/tlshim lib/tlshim/libtlshim.so share/man/man1/tlshim.1 \
		share/man/man5/tlshim.ini.5 share/doc/tlshim/examples/redis.ini \
		share/doc/tlshim/examples/make-certs share/doc/tlshim/examples/systemd/tlshim.conf; do
		[ -s "$prefix/$f" ] || fail "cmake --install did not install $f"
	done
	[ -x "$prefix/bin/tlshim" ] || fail "bin/tlshim is not executable"
	[ -x "$prefix/share/doc/tlshim/examples/make-certs" ] || fail "make-certs lost its x bit"
	unset TLSHIM_LIBRARY
	itlshim=$prefix/bin/tlshim
	"$itlshim" --version >"$w/version.out" 2>"$w/version.log" || fail "installed --version failed"
	has version.out '^tlshim [0-9]+\.[0-9]+\.[0-9]+$'

	free_port
	cat >"$w/policy.ini" <<-EOF
		[global]
		log = info
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
	"$itlshim" --check "$w/policy.ini" >"$w/check.out" 2>"$w/check.log" || fail "installed --check failed"
	timeout $T "$itlshim" -c "$w/policy.ini" -- \
		socat TCP-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork EXEC:cat \
		</dev/null 2>"$w/srv.log" 8>&- &
	pids+=("$!")
	to=$!
	wait_listen "$port"
	srv=$(pgrep -P "$to" socat | head -n 1) || fail "no socat under timeout"
	grep -F libtlshim "/proc/$srv/maps" | awk '{print $6}' | sort -u >"$w/maps.txt"
	lib=$(realpath "$prefix/lib/tlshim/libtlshim.so")
	[ "$(cat "$w/maps.txt")" = "$lib" ] ||
		fail "the wrapped server mapped $(tr '\n' ' ' <"$w/maps.txt"), not $lib"

	head -c 200000 /dev/urandom >"$w/data.bin"
	rc=0
	timeout $T "$itlshim" -c "$w/policy.ini" -- socat -t 5 - TCP:127.0.0.1:"$port" \
		<"$w/data.bin" >"$w/echo.bin" 2>"$w/cli.log" || rc=$?
	[ "$rc" = 0 ] || fail "installed wrapped client exited $rc"
	cmp "$w/data.bin" "$w/echo.bin" >"$w/cmp.log" 2>&1 || fail "echo differs"
	has cli.log '^tlshim\[[0-9]+\]: info: rule out: client .* TLSv1\.2 ECDHE-'
	has srv.log '^tlshim\[[0-9]+\]: info: rule in: server .* TLSv1\.2 ECDHE-'
	;;

install-man)
	# The installed man pages render without a single groff warning.
	need man
	need groff
	prefix=$w/prefix
	install_to "$prefix"
	for page in man1/tlshim.1 man5/tlshim.ini.5; do
		f=$prefix/share/man/$page
		out=$w/$(basename "$page").txt
		MANWIDTH=80 man -l "$f" >"$out" 2>"$w/man.log" || fail "man -l $page failed"
		[ "$(wc -l <"$out")" -gt 50 ] || fail "man -l $page rendered almost nothing"
		! [ -s "$w/man.log" ] || fail "man -l $page printed warnings"
		groff -man -ww -z "$f" 2>"$w/groff.log" || fail "groff -ww -z $page failed"
		! [ -s "$w/groff.log" ] || fail "groff -ww -z $page warns"
		[ "$(awk 'length > 80' "$out" | wc -l)" = 0 ] || fail "$page: lines wider than 80"
	done
	has tlshim.1.txt '^NAME'
	has tlshim.1.txt '--which'
	has tlshim.ini.5.txt 'verify_peer'
	;;

examples-check)
	# examples/make-certs DIR, then every example policy passes --check
	# (with the wrapper from the build, as the README says).
	need openssl
	d=$w/examples
	bash "$src/examples/make-certs" "$d" >"$w/make-certs.log" 2>&1 || fail "make-certs failed"
	n=0
	for f in "$src"/examples/*.ini; do
		copy=$d/$(basename "$f")
		[ -s "$copy" ] || fail "make-certs did not copy $(basename "$f")"
		rc=0
		"$tlshim" --check "$copy" >"$w/check.out" 2>"$w/check.log" || rc=$?
		[ "$rc" = 0 ] || fail "tlshim --check $(basename "$f") exited $rc"
		[ "$(grep -c -v '^global: ' "$w/check.out")" -ge 1 ] || fail "$(basename "$f"): no rules"
		n=$((n + 1))
	done
	[ "$n" -ge 4 ] || fail "only $n example policies"
	# Running make-certs again keeps everything (idempotent).
	sum=$(cat "$d"/*.crt | md5sum)
	bash "$src/examples/make-certs" "$d" >"$w/make-certs2.log" 2>&1 || fail "make-certs again failed"
	[ "$(cat "$d"/*.crt | md5sum)" = "$sum" ] || fail "make-certs replaced certificates"
	;;

deb-package)
	# cpack -G DEB from the build tree: the package holds the wrapper, the
	# library and the man pages under /usr, with the declared metadata.
	need cpack
	need dpkg-deb
	[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build (CPack not configured)"
	(cd "$build" && timeout 120 cpack -G DEB -B "$w/pkg") >"$w/cpack.log" 2>&1 || fail "cpack failed"
	deb=$(find "$w/pkg" -maxdepth 1 -name '*.deb' | head -n 1)
	[ -n "$deb" ] || fail "cpack made no .deb"
	dpkg-deb -c "$deb" | awk '{print $6}' >"$w/contents.txt" || fail "dpkg-deb -c failed"
	for f in ./usr/bin/tlshim ./usr/lib/tlshim/libtlshim.so \
		'./usr/share/man/man1/tlshim\.1(\.gz)?' './usr/share/man/man5/tlshim\.ini\.5(\.gz)?' \
		./usr/share/doc/tlshim/examples/redis.ini; do
		has contents.txt "^$f\$"
	done
	hasnt contents.txt '^\./(tmp|work|home)/'
	dpkg-deb -f "$deb" Package Version Architecture Maintainer Depends Description \
		>"$w/control.txt" || fail "dpkg-deb -f failed"
	has control.txt '^Package: tlshim$'
	has control.txt '^Version: [0-9]+\.[0-9]+\.[0-9]+'
	has control.txt "^Architecture: $(dpkg --print-architecture)\$"
	has control.txt '^Maintainer: tlshim developers'
	has control.txt '^Depends: .*libssl3 \(>= 3\.0\)'
	has control.txt '^Depends: .*libsodium23'
	has control.txt '^Depends: .*libinih1'
	has control.txt '^Description: .*TLS'
	# The packaged wrapper runs (it is the same binary as the installed one).
	mkdir "$w/x"
	dpkg-deb -x "$deb" "$w/x" || fail "dpkg-deb -x failed"
	env -u TLSHIM_LIBRARY "$w/x/usr/bin/tlshim" --version >"$w/version.out" 2>"$w/version.log" ||
		fail "the packaged tlshim does not run"
	;;

systemd-dropin)
	# The drop-in clears ExecStart= and runs the service through tlshim;
	# systemd-analyze accepts it (tlshim's path pointed at an install).
	f=$src/examples/systemd/tlshim.conf
	[ -s "$f" ] || fail "examples/systemd/tlshim.conf missing"
	grep -v '^[#;]' "$f" | grep -v '^$' >"$w/dropin.txt"
	has dropin.txt '^\[Service\]$'
	[ "$(sed -n '2p' "$w/dropin.txt")" = "ExecStart=" ] || fail "ExecStart= is not cleared first"
	has dropin.txt '^ExecStart=/usr/bin/tlshim -c /etc/tlshim/[a-z]+\.ini -- /'
	has dropin.txt '^Environment=TLSHIM_LOG=(error|warn|info|debug)$'
	if command -v systemd-analyze >/dev/null; then
		prefix=$w/prefix
		install_to "$prefix"
		mkdir -p "$w/units/demo.service.d"
		printf '[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/true\n' >"$w/units/demo.service"
		sed "s|/usr/bin/tlshim|$prefix/bin/tlshim|" "$f" >"$w/units/demo.service.d/tlshim.conf"
		rc=0
		(cd "$w/units" && SYSTEMD_UNIT_PATH="$w/units:" timeout $T \
			systemd-analyze verify --man=no "$w/units/demo.service") >"$w/verify.log" 2>&1 || rc=$?
		# Only the service's own binary may be missing on a test machine.
		grep -v -E 'redis-server|Command .* is not executable' "$w/verify.log" >"$w/verify-other.log" || true
		! [ -s "$w/verify-other.log" ] || fail "systemd-analyze verify complains"
	fi
	grep -q 'examples/systemd/tlshim.conf' "$src/README.md" || fail "README does not mention the drop-in"
	;;

*)
	fail "unknown case"
	;;
esac
echo "apps/$name: ok"
