#!/usr/bin/env bash
# System packages some tests drive as real programs (PgBouncer in front of PostgreSQL).
# Installs what is missing when run as root on a Debian-like system; elsewhere it names what
# is missing, and the tests that need it skip with the same message.
set -euo pipefail

missing=()
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The package starts nothing here that the tests need; they start their own.
    exit 0
fi
echo "not installed: ${missing[*]} (as root: apt-get install ${missing[*]}); the tests needing it will skip" >&2
