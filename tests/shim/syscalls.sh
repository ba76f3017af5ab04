#!/usr/bin/env bash
# syscalls.sh RR_LOOP: syscall parity on the request/response path (issue 10
# item 1). Runs rr_loop (1,000 round trips; epoll level- and edge-triggered
# and poll servers) under
# strace -f, with and without tlshim, counts every process's system calls
# between its two getppid() markers (after the handshake and a warm-up
# round), and fails when tlshim's count exceeds plaintext's by more than 2%.
# A deterministic guard (strace counts calls, not time).
set -euo pipefail
rr=${1:?usage: syscalls.sh RR_LOOP}
rounds=${RR_ROUNDS:-1000}
command -v strace >/dev/null || { echo "syscalls.sh: strace is not installed (scripts/deps)"; exit 77; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
base=${SHIMTEST_DIR:?}/syscalls
mkdir -p "$base"

# count FILE: the system calls between each process's two markers, summed;
# per-name totals go to FILE.names.
count() {
	awk '
	/^[0-9]+ +(\+\+\+|---)/ { next }
	/^[0-9]+ +<\.\.\. / { next } # the second half of an interrupted call
	{
		pid = $1
		name = $2; sub(/\(.*/, "", name)
		if (name == "getppid") { mark[pid]++; next }
		if (mark[pid] == 1) { total++; names[name]++ }
	}
	END {
		for (n in names) printf "%s %d\n", n, names[n] > (FILENAME ".names")
		print total + 0
	}' "$1"
}

fail=0
for mode in epoll epollet poll; do
	declare -A got=()
	for kind in plain tls; do
		out=$base/$mode-$kind.trace
		rm -f "$out" "$out.names"
		if ! bash "$here/run.sh" strace -f -qq -o "$out" "$rr" "$kind" "$mode" "$rounds" >"$base/$mode-$kind.log" 2>&1; then
			echo "syscalls.sh: rr_loop $kind $mode failed:"; cat "$base/$mode-$kind.log"
			exit 1
		fi
		got[$kind]=$(count "$out")
		echo "$mode $kind: ${got[$kind]} system calls in $rounds round trips ($(sort -k2 -nr "$out.names" | head -n 6 | tr '\n' ' '))"
	done
	p=${got[plain]} t=${got[tls]}
	if [ "$p" -lt "$rounds" ]; then
		echo "syscalls.sh: $mode: the plaintext count ($p) is implausible: markers not found"
		fail=1
	elif [ $((t * 100)) -gt $((p * 102)) ]; then
		echo "syscalls.sh: FAIL: $mode: tlshim made $t system calls where plaintext made $p (> 2% more)"
		fail=1
	fi
done
exit $fail
