# shellcheck shell=bash
# lib.sh: the prelude the tests/apps/run*.sh case scripts share. Sourced,
# never run, as
#   here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   . "$here/lib.sh" "$@"
# once the script has set cases=(...) and, optionally, the variables
# tests/lib/common.sh reads (fail_logs, bg_log_stdout, ...).
#
# With --list it prints the case names (CMake registers one test per name)
# and exits 0; otherwise $1 is the case. It then sets
#   name    the case ($1)          tlshim  the built wrapper ($TLSHIM)
#   base    the scratch directory ($APPS_DIR), shared by every case
#   pki     $base/pki (made by shared_pki, if the script calls it)
#   w       this case's work directory, $base/work/$name, fresh and empty
#   T=25    seconds any single process may run (a script may raise it)
#   label=apps
# exports TLSHIM_LIBRARY (which must be set), unsets TLSHIM_CONFIG,
# TLSHIM_LOG and SSLKEYLOGFILE (no setting of the caller's leaks into a
# case), sources tests/lib/common.sh and calls fresh_workdir.

if [ "${1:-}" = --list ]; then
	# shellcheck disable=SC2154 # cases: set by the sourcing script
	printf '%s\n' "${cases[@]}"
	exit 0
fi
name=${1:?usage: ${0##*/} CASE | --list}
# shellcheck disable=SC2034 # used by the sourcing script
tlshim=${TLSHIM:?TLSHIM must name the tlshim wrapper}
: "${TLSHIM_LIBRARY:?TLSHIM_LIBRARY must name libtlshim.so}"
export TLSHIM_LIBRARY
base=${APPS_DIR:?APPS_DIR must name a scratch directory}
pki=$base/pki
w=$base/work/$name
T=25
unset TLSHIM_CONFIG TLSHIM_LOG SSLKEYLOGFILE

label=apps
# shellcheck source=SCRIPTDIR/../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
fresh_workdir
