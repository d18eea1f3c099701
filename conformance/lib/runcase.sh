# shellcheck shell=bash
# Runs one case function in a fresh bash: runcase.sh FUNCTION "QUOTED ARGS".
# Environment from the driver: RUNTIME ROOTFS SUITE_TMP CASE_ID CASE_TMP
# CASE_ROOT ID_PREFIX CONF_TAG CONF_DIR CONF_LIB.
set -u
. "$CONF_LIB/common.sh"
. "$CONF_LIB/helpers.sh"
for f in "$CONF_DIR"/cases/*.sh; do . "$f"; done
cd "$CASE_TMP/work" || exit 1
WORK=$CASE_TMP/work
CASE_FN=$1
eval "set -- $2"
"$CASE_FN" "$@"
touch "$CASE_TMP/verdict.done"
