#!/bin/sh
# Kept for existing callers: tools/gen-nginx-conf.sh RUNDIR PORT == gen-webconf.sh nginx RUNDIR PORT
exec "$(dirname "$0")/gen-webconf.sh" nginx "$1" "$2"
