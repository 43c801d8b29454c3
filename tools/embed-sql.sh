#!/bin/sh
# Turn an SQL file into a C string constant: tools/embed-sql.sh NAME < in.sql > out.c
set -eu
echo "/* Generated from schema.sql by tools/embed-sql.sh: do not edit. */"
echo "const char $1[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/'
echo "    ;"
