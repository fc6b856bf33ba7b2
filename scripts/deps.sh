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
	# tests: pbsd's log-tail mode runs the real Perdition 2.2 (test_pbsd_logtail.py)
	perdition
	# tests: which process opens the TLS key file (test_keyholder.py)
	strace
	# tests: a real load balancer sending PROXY v2 (test_proxy_in.py)
	haproxy
	# make bench: the load generator's TLS side
	libssl-dev
	# dpkg-dev above fetches mbedTLS's source; its signatures need this
	debian-archive-keyring
	# tests/e2e/test_pbsd_mta.py: m4 builds a sendmail.cf; the libraries the
	# unpacked sendmail and exim4 binaries (MTA_DEBS below) need
	m4
	libdb5.3
	libnsl2
	libldap-2.5-0
	libsasl2-2
	libssl3
	libwrap0
	liblockfile1
	libcrypt1
	libgnutls30
	libgnutls-dane0
	libidn12
	libidn2-0
	libpcre2-8-0
	libunbound8
	libevent-2.1-7
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
	# the unpacked exim4 refuses to start without its compiled-in user
	Debian-exim:/nonexistent
)

# --- pbsd: real Sendmail and Exim (tests/e2e/test_pbsd_mta.py) ----------
# They cannot be installed beside Postfix (each is a mail-transport-agent),
# so "apt-get download" fetches their .debs and dpkg-deb unpacks them into
# build/mta/root (or $BAILEY_MTA_DIR/root); the tests run the binaries from
# there with private config files.  Cached: redone only when this list
# changes or the tree is gone.
MTA_DEBS=(
	sendmail-bin
	sendmail-cf
	exim4-daemon-light
)
mta_dir=${BAILEY_MTA_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build/mta}
mta_want="debs: ${MTA_DEBS[*]}"

mta_ready() {
	[[ -f $mta_dir/stamp && $(<"$mta_dir/stamp") == "$mta_want" &&
	    -x $mta_dir/root/usr/libexec/sendmail/sendmail &&
	    -x $mta_dir/root/usr/sbin/exim4 ]]
}

mta_unpack() {
	local work deb bin missing
	if mta_ready; then
		return 0
	fi
	echo "deps: unpacking ${MTA_DEBS[*]} into $mta_dir/root"
	mkdir -p "$mta_dir"
	work=$(mktemp -d "$mta_dir/.work.XXXXXX")
	if ! (cd "$work" && apt-get download -qq "${MTA_DEBS[@]}" 2>/dev/null); then
		if ((EUID == 0)); then
			apt-get -o DPkg::Lock::Timeout=600 update -qq
		fi
		if ! (cd "$work" && apt-get download -qq "${MTA_DEBS[@]}"); then
			echo "deps: apt-get download ${MTA_DEBS[*]} failed" >&2
			rm -rf "$work"
			return 1
		fi
	fi
	mkdir "$work/root"
	for deb in "$work"/*.deb; do
		dpkg-deb -x "$deb" "$work/root"
	done
	missing=
	for bin in "$work/root/usr/libexec/sendmail/sendmail" \
	    "$work/root/usr/libexec/sendmail/makemap" \
	    "$work/root/usr/sbin/exim4"; do
		if ldd "$bin" | grep -q 'not found'; then
			missing+=" $(ldd "$bin" | awk '/not found/ {print $1}')"
		fi
	done
	if [[ -n $missing ]]; then
		echo "deps: libraries missing for the unpacked MTAs:$missing" >&2
		rm -rf "$work"
		return 1
	fi
	rm -rf "$mta_dir/root"
	mv "$work/root" "$mta_dir/root"
	rm -rf "$work"
	printf '%s\n' "$mta_want" >"$mta_dir/stamp"
}
# --- end pbsd MTAs -------------------------------------------------------

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
    [[ $(<"$stamp") == "$want" ]] && mta_ready; then
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

# Debian's dovecot-core, perdition and haproxy start system services where
# an init system runs.  Ours are private instances: no service may start
# while we install (policy-rc.d, see invoke-rc.d(8)), and those this run
# installed are disabled if systemd is PID 1, so a reboot does not start
# them either.
deny_service_starts() {
	if [[ -e /usr/sbin/policy-rc.d ]]; then
		return 0
	fi
	printf '#!/bin/sh\n# bailey scripts/deps.sh: no starts while installing\nexit 101\n' \
	    >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
}

quiet_system_services() {
	local svc
	if [[ $(ps -o comm= -p 1 2>/dev/null) != systemd ]]; then
		return 0
	fi
	for svc in dovecot perdition haproxy; do
		if [[ " ${pkgs[*]} " != *" $svc"* &&
		    " ${pkgs[*]} " != *" $svc-"* ]]; then
			continue
		fi
		if systemctl is-enabled --quiet "$svc" 2>/dev/null ||
		    systemctl is-active --quiet "$svc" 2>/dev/null; then
			echo "deps: disabling the system $svc service (tests run their own)"
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
	done
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
	deny_service_starts
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	    --no-install-recommends "${pkgs[@]}"
	quiet_system_services
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

mta_unpack || exit 1

if mkdir -p "$stamp_dir" 2>/dev/null; then
	printf '%s\n' "$want" >"$stamp" 2>/dev/null || true
fi
exit 0
