#!/usr/bin/env bash
# run.sh PROGRAM [ARG...]: run one shim test. Makes the test certificates
# once per build directory (under a lock, for ctest -j), then runs PROGRAM,
# which writes its own policy and re-execs itself under the library.
#
# Environment: TLSHIM_LIBRARY (libtlshim.so), SHIMTEST_DIR (scratch
# directory in the build tree). Passes SHIMTEST_CERTS to the program.
# SHIMTEST_SANITIZER_RUNTIME (optional, scripts/test): the shared sanitizer
# runtime of a gcc ASan build (libasan.so). An instrumented libtlshim.so
# needs it loaded first in every process, the test programs and the other
# programs they run under the library (sh, ...), so it starts LD_PRELOAD
# (shimtest_preload).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TLSHIM_LIBRARY:?TLSHIM_LIBRARY must name libtlshim.so}"
base=${SHIMTEST_DIR:?SHIMTEST_DIR must name a scratch directory}
mkdir -p "$base"
(
	flock 9
	bash "$here/../interop/mkcerts.sh" "$base/pki" >/dev/null
) 9>"$base/.lock"
export SHIMTEST_CERTS=$base/pki
# A policy from the caller's environment must not leak into the test
# (TLSHIM_LOG is kept: TLSHIM_LOG=debug ctest ... shows the shim's view).
unset TLSHIM_CONFIG SSLKEYLOGFILE SHIMTEST_WRAPPED
if [ -n "${SHIMTEST_SANITIZER_RUNTIME:-}" ]; then
	export LD_PRELOAD=$SHIMTEST_SANITIZER_RUNTIME${LD_PRELOAD:+:$LD_PRELOAD}
fi
exec "$@"
