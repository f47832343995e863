#!/usr/bin/env bash
# Sourced by ./dev before tests: Debian packages the tests use beyond the base image (git, gpg, openssl, ssh-keygen).
# sshd serves the SSH git server in source-controller's tests.
if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing openssh-server (sshd for the SSH git server in tests)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null) ||
      echo "system-deps: could not install openssh-server; the SSH git tests will be skipped" >&2
  else
    echo "system-deps: /usr/sbin/sshd is missing: install Debian's openssh-server (the SSH git tests skip without it)" >&2
  fi
fi
# chromium: the dashboard's browser tests drive Debian's Chromium headless through playwright-core.
if [ ! -x /usr/bin/chromium ] && [ -z "${CAPSTAN_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing chromium (headless browser for the dashboard's browser tests)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
      echo "system-deps: could not install chromium; the dashboard's browser tests will fail" >&2
  else
    echo "system-deps: /usr/bin/chromium is missing: install Debian's chromium (dashboard browser tests need it)" >&2
  fi
fi
