#!/usr/bin/env bash
# What the test suite runs against, checked before vitest starts (npm's `pretest`), so a machine
# missing a part fails in seconds with the fix instead of minutes later with `spawn slapd ENOENT`.
#
#   redis-server, redis-cli   throwaway Redis servers (replicas, Sentinel, Cluster, outage tests)
#   slapd, ldapadd, openssl   a real OpenLDAP with a generated CA (Debian: slapd, ldap-utils)
#   chromium                  the web pages in a real headless browser (playwright-core drives it)
#   $TESSERA_SLAPD and $TESSERA_CHROMIUM name other binaries than Debian's, for the tests and here
#   Redis on 127.0.0.1:6379   the shared Redis; started here (nothing kept on disk) when absent
#
# Missing Debian packages are installed with apt-get when this user may (root, or sudo without a
# password). Otherwise, or with TESSERA_PREREQS_INSTALL=no, it prints the exact command and exits 1.
set -euo pipefail

# Debian puts slapd in /usr/sbin, which a non-root PATH often lacks; the tests look there too.
find_cmd() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

chromium_path="${TESSERA_CHROMIUM:-/usr/bin/chromium}"
packages=()
find_cmd redis-server && find_cmd redis-cli || packages+=(redis-server)
if [ -n "${TESSERA_SLAPD:-}" ]; then [ -x "$TESSERA_SLAPD" ] || packages+=(slapd); else find_cmd slapd || packages+=(slapd); fi
find_cmd ldapadd || packages+=(ldap-utils)
find_cmd openssl || packages+=(openssl)
[ -x "$chromium_path" ] || packages+=(chromium)

# apt installs /usr/sbin/slapd and /usr/bin/chromium, which cannot help a variable naming another file.
misnamed() {
  local status=0
  for name in TESSERA_SLAPD TESSERA_CHROMIUM; do
    if [ -n "${!name:-}" ] && [ ! -x "${!name}" ]; then
      echo "test-prereqs: $name=${!name} is not an executable file: point it at one, or unset it to use Debian's." >&2
      status=1
    fi
  done
  return $status
}

if [ ${#packages[@]} -gt 0 ]; then
  install="apt-get install -y --no-install-recommends ${packages[*]}"
  sudo=""
  can_install=no
  if [ "${TESSERA_PREREQS_INSTALL:-yes}" != no ]; then
    if [ "$(id -u)" = 0 ]; then can_install=yes
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then can_install=yes; sudo="sudo"
    fi
  fi
  if [ "$can_install" != yes ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test-prereqs: the tests need ${packages[*]}, which this machine lacks. Install them with:" >&2
    echo "  sudo apt-get update && sudo $install" >&2
    misnamed || true
    exit 1
  fi
  echo "test-prereqs: installing ${packages[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Waits for another apt run (a second checkout running its tests) instead of failing on the lock.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${packages[@]}"
  # Debian's slapd package starts a system slapd on port 389; the tests run their own on spare ports.
fi
misnamed || exit 1

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test-prereqs: starting redis-server on 127.0.0.1:6379 (nothing saved to disk)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "test-prereqs: redis-server on 127.0.0.1:6379 did not answer" >&2; exit 1; }
fi
echo "test-prereqs: redis-server, slapd, ldap-utils, openssl, chromium and Redis on 127.0.0.1:6379 are ready"
