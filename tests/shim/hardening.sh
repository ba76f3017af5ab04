#!/usr/bin/env bash
# hardening.sh LIBRARY FORTIFY: libtlshim.so lives inside other people's
# processes, so it is built hardened (CMakeLists.txt): full RELRO and
# immediate binding, a non-executable stack, the stack protector, and, in
# release builds (FORTIFY=1), _FORTIFY_SOURCE's checked libc calls.
set -euo pipefail
lib=${1:?usage: hardening.sh LIBRARY FORTIFY(0|1)}
fortify=${2:?usage: hardening.sh LIBRARY FORTIFY(0|1)}
status=0
bad() {
	echo "hardening: $lib: $*" >&2
	status=1
}
dyn=$(readelf -dW "$lib")
seg=$(readelf -lW "$lib")
imports=$(nm -D --undefined-only "$lib" | awk '{ sub(/@.*/, "", $2); print $2 }')
grep -q 'BIND_NOW' <<<"$dyn" || bad "no BIND_NOW (-z now)"
grep -q 'GNU_RELRO' <<<"$seg" || bad "no GNU_RELRO segment (-z relro)"
grep 'GNU_STACK' <<<"$seg" | grep -q 'RWE' && bad "executable stack"
grep -qx '__stack_chk_fail' <<<"$imports" || bad "no __stack_chk_fail: built without the stack protector"
if [ "$fortify" = 1 ]; then
	n=$(grep -c '^__.*_chk$' <<<"$imports" | tr -d ' ' || true)
	checked=$(grep '^__.*_chk$' <<<"$imports" | grep -vcx '__stack_chk_fail' || true)
	[ "$checked" -gt 0 ] || bad "no __*_chk imports ($n): built without _FORTIFY_SOURCE"
fi
[ "$status" = 0 ] && echo "hardening: $(basename "$lib"): relro, now, nx stack, stack protector$([ "$fortify" = 1 ] && echo ", fortify")"
exit "$status"
