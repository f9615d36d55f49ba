#!/bin/sh
exec /usr/local/bin/zbsync webhook --home "${ZBSYNC_HOME:-/var/lib/zbsync}"
