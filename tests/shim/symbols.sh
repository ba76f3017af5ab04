#!/usr/bin/env bash
# symbols.sh LIBRARY MAP: the library's exported symbols are exactly the
# names its version script lists (STYLE.md 10; OpenBSD's libtls checks its
# Symbols.list the same way). A name in the map that the library no longer
# defines is as much an error as an export the map does not name: GNU ld
# accepts both silently.
#
# symbols.sh --self-test LIBRARY MAP: the check itself can fail: a map
# without one exported name, and a map with a name nobody defines, are both
# rejected.
set -euo pipefail
if [ "${1:-}" = --self-test ]; then
	lib=${2:?usage: symbols.sh --self-test LIBRARY MAP}
	map=${3:?usage: symbols.sh --self-test LIBRARY MAP}
	here=$(dirname "${BASH_SOURCE[0]}")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	bash "$here/symbols.sh" "$lib" "$map" >/dev/null || { echo "self-test: the real map fails" >&2; exit 1; }
	first=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3; exit }')
	sed -e "s/\(^\|[[:space:]]\)$first;/\1/" "$map" >"$tmp/missing.map"
	sed -e 's/global:/global: tlshim_no_such_symbol;/' "$map" >"$tmp/extra.map"
	for m in missing extra; do
		if bash "$here/symbols.sh" "$lib" "$tmp/$m.map" 2>"$tmp/$m.err"; then
			echo "self-test: a map with $m name passed" >&2
			exit 1
		fi
		grep -q "$([ $m = missing ] && echo "exports $first" || echo tlshim_no_such_symbol)" "$tmp/$m.err" ||
			{ echo "self-test: $m map failed for the wrong reason:" >&2; cat "$tmp/$m.err" >&2; exit 1; }
	done
	echo "symbols self-test: a missing ($first) and an extra name are both caught"
	exit 0
fi
lib=${1:?usage: symbols.sh LIBRARY MAP}
map=${2:?usage: symbols.sh LIBRARY MAP}

# The names between "global:" and "local:", comments (/* */, #, //) removed.
listed=$(sed -e ':a' -e '/\/\*/{/\*\//!{N;ba' -e '}}' -e 's:/\*.*\*/::g' \
		-e 's/#.*//' -e 's://.*::' "$map" |
	tr '\n' ' ' |
	sed -n 's/.*global:\(.*\)local:.*/\1/p' |
	tr ';' '\n' | tr -d ' \t' | grep -v '^$' | sort -u)
if [ -z "$listed" ]; then
	echo "symbols: no global: ... local: section in $map" >&2
	exit 1
fi

# Defined dynamic symbols (version nodes, type A, are not functions).
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)

status=0
while read -r name; do
	case $name in
	*[*?[]*) # a pattern: it must match something, and covers what it matches
		matched=0
		while read -r e; do
			# shellcheck disable=SC2053 # $name is a glob on purpose
			[[ $e == $name ]] && matched=1
		done <<<"$exported"
		[ "$matched" = 1 ] || { echo "symbols: map pattern $name matches no export" >&2; status=1; }
		;;
	*)
		grep -qxF -- "$name" <<<"$exported" ||
			{ echo "symbols: $name is in $map but not exported by $lib" >&2; status=1; }
		;;
	esac
done <<<"$listed"

while read -r e; do
	covered=0
	while read -r name; do
		# shellcheck disable=SC2053
		[[ $e == $name ]] && { covered=1; break; }
	done <<<"$listed"
	[ "$covered" = 1 ] || { echo "symbols: $lib exports $e, which $map does not list" >&2; status=1; }
done <<<"$exported"

n=$(wc -l <<<"$exported")
[ "$status" = 0 ] && echo "symbols: $n exports, all listed in $(basename "$map"), every listed name exported"
exit "$status"
