#!/usr/bin/env bash
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# deps.sh: install what building, documenting and testing Bailey needs, from
# Debian 12's own packages.  Runs on the developer's or CI's machine, as root
# when something is missing (otherwise any user), trusting only apt.
# Idempotent and fast when everything is present: one dpkg-query call, or
# nothing at all when the stamp is newer than dpkg's database.
#
# Other parts of the project append to the arrays below: one package (or
# system user) a line, with a comment saying who needs it.
set -euo pipefail

PACKAGES=(
	# build
	gcc
	make
	pkg-config
	libc6-dev
	libseccomp-dev
	libcap-dev
	libdb5.3-dev
	# make fuzz (clang's libFuzzer runtime lives in libclang-rt-14-dev)
	clang
	libclang-rt-14-dev
	# build: pbsd's nftables writer; scripts/mbedtls.sh (apt-get source)
	libnftnl-dev
	libmnl-dev
	dpkg-dev
	# docs (make man-lint)
	mandoc
	# tests: backend, clients, tools
	dovecot-imapd
	dovecot-pop3d
	python3
	python3-pytest
	python3-pytest-timeout
	curl
	openssl
	procps
	iproute2
	# tests: pbsd against a real Postfix (postmap, Berkeley DB tools) and nft
	postfix
	db5.3-util
	nftables
	# tests: which process opens the TLS key file (test_keyholder.py)
	strace
	# make bench: the load generator's TLS side
	libssl-dev
	# dpkg-dev above fetches mbedTLS's source; its signatures need this
	debian-archive-keyring
	# the appliance image (image/DEPS): boot it, pack it, its ruleset
	qemu-system-x86
	busybox-static
	e2fsprogs
	xz-utils
	gzip
	file
	binutils
	util-linux
)

# Answers for packages that would otherwise ask: Postfix gets no system
# configuration (the tests run private instances with postfix -c DIR).
DEBCONF_SELECTIONS=(
	"postfix postfix/main_mailer_type select No configuration"
)

# System users the tests and the demo need: "name:home".  bailey-mail owns
# the test Dovecot's maildirs (Dovecot will not access mail as root).
SYSTEM_USERS=(
	bailey-mail:/nonexistent
)

here=$(cd "$(dirname "$0")/.." && pwd)
stamp_dir=${BAILEY_DEPS_STAMP_DIR:-$here/build}
stamp=$stamp_dir/.deps-stamp
want=$({
	printf '%s\n' "${PACKAGES[@]}" "${SYSTEM_USERS[@]}"
	cat "$here/scripts/users.sh" 2>/dev/null || true
} | sha256sum | cut -c1-64)

# Fast path: the stamp names this exact list (and users.sh), and neither
# dpkg's database nor the user list has changed since.
if [[ -f $stamp && $stamp -nt /var/lib/dpkg/status && $stamp -nt /etc/passwd ]] &&
    [[ $(<"$stamp") == "$want" ]]; then
	exit 0
fi

missing_packages() {
	local line pkg status
	declare -A ok=()
	while IFS=' ' read -r pkg status; do
		if [[ $status == installed ]]; then
			ok[${pkg%%:*}]=1
		fi
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
	    "${PACKAGES[@]}" 2>/dev/null || true)
	for line in "${PACKAGES[@]}"; do
		if [[ -z ${ok[$line]:-} ]]; then
			printf '%s\n' "$line"
		fi
	done
}

missing_users() {
	local entry
	for entry in "${SYSTEM_USERS[@]}"; do
		if ! getent passwd "${entry%%:*}" >/dev/null; then
			printf '%s\n' "$entry"
		fi
	done
}

# Debian's dovecot-core starts the system dovecot where an init system runs.
# Ours are private instances: stop the system one only if this run installed
# Dovecot (so the package started it, for us) and systemd is PID 1.
quiet_system_dovecot() {
	if [[ " ${pkgs[*]} " != *" dovecot-"* ]]; then
		return 0
	fi
	if [[ $(ps -o comm= -p 1 2>/dev/null) != systemd ]]; then
		return 0
	fi
	if systemctl is-enabled --quiet dovecot 2>/dev/null ||
	    systemctl is-active --quiet dovecot 2>/dev/null; then
		echo "deps: disabling the system dovecot service (tests run their own)"
		systemctl disable --now dovecot >/dev/null 2>&1 || true
	fi
}

mapfile -t pkgs < <(missing_packages)
mapfile -t users < <(missing_users)

if ((${#pkgs[@]} > 0 || ${#users[@]} > 0)) && ((EUID != 0)); then
	echo "deps: missing, and installing needs root:" >&2
	if ((${#pkgs[@]} > 0)); then
		echo "  apt-get install --no-install-recommends ${pkgs[*]}" >&2
	fi
	for u in "${users[@]}"; do
		echo "  useradd --system --user-group --home-dir ${u#*:}" \
		    "--no-create-home --shell /usr/sbin/nologin ${u%%:*}" >&2
	done
	exit 1
fi

if ((${#pkgs[@]} > 0)); then
	echo "deps: installing ${pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	printf '%s\n' "${DEBCONF_SELECTIONS[@]}" | debconf-set-selections
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	    --no-install-recommends "${pkgs[@]}"
	quiet_system_dovecot
	mapfile -t still < <(missing_packages)
	if ((${#still[@]} > 0)); then
		echo "deps: still missing after install: ${still[*]}" >&2
		exit 1
	fi
fi

for u in "${users[@]}"; do
	echo "deps: creating system user ${u%%:*}"
	useradd --system --user-group --home-dir "${u#*:}" --no-create-home \
	    --shell /usr/sbin/nologin "${u%%:*}"
done

# The sandboxed roles' user and empty chroot (scripts/users.sh, idempotent).
if [[ -x $here/scripts/users.sh ]]; then
	if ((EUID == 0)); then
		"$here/scripts/users.sh"
	elif ! getent passwd "${BAILEY_USER:-_bailey}" >/dev/null; then
		echo "deps: as root, run: $here/scripts/users.sh" >&2
		exit 1
	fi
fi

if mkdir -p "$stamp_dir" 2>/dev/null; then
	printf '%s\n' "$want" >"$stamp" 2>/dev/null || true
fi
exit 0
