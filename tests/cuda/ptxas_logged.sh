#!/bin/sh
# ptxas_logged.sh LOG COMMAND...: runs COMMAND (ptxas -v …) with its report (stderr) written to LOG, for
# ptxas_audit.py; on failure the report is shown too.
log=$1
shift
if "$@" 2>"$log"; then exit 0; fi
cat "$log" >&2
exit 1
