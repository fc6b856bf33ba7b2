/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * init_sys: the system set-up steps of the appliance's PID 1 (root, all
 * capabilities, before any service runs): pseudo file systems, kernel
 * modules from the initramfs (trusted: they came with the image), the
 * hardening sysctls, the config disk (administrator input, mounted
 * nosuid/nodev/noexec, its config part read-only) and the network.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "init.h"
#include "image_modules.h"	/* generated from image/modules.list */

#define INIT_DISK_DEV		"/dev/vda"
#define INIT_DISK_WAIT_MS	3000
#define INIT_IF_WAIT_MS		3000
#define INIT_IF_NAME		"eth0"

struct init_mount {
	const char	*m_src;
	const char	*m_dst;
	const char	*m_type;
	unsigned long	 m_flags;
	const char	*m_data;
};

static const struct init_mount init_mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "hidepid=2" },
	{ "sys", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "" },
	{ "tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=1777,size=16m" },
	{ "run", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=0755,size=8m" },
	{ "varlib", "/var/lib", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=0755,size=1m" },
};

struct init_sysctl {
	const char	*s_path;
	const char	*s_value;
};

/* Hardening; kernel.modules_disabled comes later (init_sys_modules_lock). */
static const struct init_sysctl init_sysctls[] = {
	{ "/proc/sys/kernel/kptr_restrict", "2" },
	{ "/proc/sys/kernel/dmesg_restrict", "1" },
	{ "/proc/sys/kernel/unprivileged_bpf_disabled", "1" },
	{ "/proc/sys/kernel/yama/ptrace_scope", "2" },
	{ "/proc/sys/kernel/perf_event_paranoid", "3" },
	{ "/proc/sys/kernel/kexec_load_disabled", "1" },
	{ "/proc/sys/kernel/sysrq", "0" },
	{ "/proc/sys/net/core/bpf_jit_harden", "2" },
	{ "/proc/sys/fs/protected_symlinks", "1" },
	{ "/proc/sys/fs/protected_hardlinks", "1" },
	{ "/proc/sys/fs/protected_fifos", "2" },
	{ "/proc/sys/fs/protected_regular", "2" },
	{ "/proc/sys/fs/suid_dumpable", "0" },
	{ "/proc/sys/dev/tty/ldisc_autoload", "0" },
	{ "/proc/sys/net/ipv4/ip_forward", "0" },
	{ "/proc/sys/net/ipv4/tcp_syncookies", "1" },
	{ "/proc/sys/net/ipv4/conf/all/rp_filter", "1" },
	{ "/proc/sys/net/ipv4/conf/all/accept_redirects", "0" },
	{ "/proc/sys/net/ipv4/conf/all/send_redirects", "0" },
	{ "/proc/sys/net/ipv4/conf/all/accept_source_route", "0" },
	{ "/proc/sys/net/ipv6/conf/all/accept_redirects", "0" },
	{ "/proc/sys/net/ipv6/conf/default/accept_ra", "0" },
};

static int	init_write_file(const char *, const char *);
static void	init_sleep_ms(long);
static int	init_wait_path(const char *, long);
static int	init_bind(const char *, const char *, int);
static int	init_if_flags_up(int, const char *);

double
init_sys_uptime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1) {
		return 0.0;
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
init_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
		continue;
	}
}

static int
init_write_file(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, rv = -1;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		return -1;
	}
	n = write(fd, value, len);
	if (n >= 0 && (size_t)n == len) {
		rv = 0;
	}
	close(fd);
	return rv;
}

int
init_sys_mounts(void)
{
	const struct init_mount *m;
	size_t i;
	int rv = 0;

	for (i = 0; i < sizeof(init_mounts) / sizeof(init_mounts[0]); i++) {
		m = &init_mounts[i];
		(void)mkdir(m->m_dst, 0755);
		if (mount(m->m_src, m->m_dst, m->m_type, m->m_flags,
		    m->m_data) == -1) {
			init_log("mount %s: %s", m->m_dst, strerror(errno));
			rv = -1;
		}
	}
	return rv;
}

int
init_sys_modules(void)
{
	char path[256];
	size_t i;
	int fd, rv = 0;

	for (i = 0; i < sizeof(image_modules) / sizeof(image_modules[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s.ko", INIT_MODULE_DIR,
		    image_modules[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
			init_log("module %s: %s", image_modules[i],
			    strerror(errno));
			rv = -1;
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) == -1 &&
		    errno != EEXIST) {
			init_log("module %s: %s", image_modules[i],
			    strerror(errno));
			rv = -1;
		}
		close(fd);
	}
	return rv;
}

void
init_sys_harden(void)
{
	size_t i;

	for (i = 0; i < sizeof(init_sysctls) / sizeof(init_sysctls[0]); i++) {
		if (init_write_file(init_sysctls[i].s_path,
		    init_sysctls[i].s_value) == -1) {
			init_log("sysctl %s: %s", init_sysctls[i].s_path,
			    strerror(errno));
		}
	}
}

/* After the last module: no more loading, until the next boot. */
int
init_sys_modules_lock(void)
{
	if (init_write_file("/proc/sys/kernel/modules_disabled", "1") == -1) {
		init_log("kernel.modules_disabled: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
init_wait_path(const char *path, long ms)
{
	struct stat st;

	for (; ms > 0; ms -= 50) {
		if (stat(path, &st) == 0) {
			return 0;
		}
		init_sleep_ms(50);
	}
	return stat(path, &st);
}

static int
init_bind(const char *src, const char *dst, int readonly)
{
	unsigned long fl = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC;

	(void)mkdir(dst, 0755);
	if (mount(src, dst, NULL, MS_BIND, NULL) == -1) {
		return -1;
	}
	if (readonly) {
		fl |= MS_RDONLY;
	}
	return mount(NULL, dst, NULL, MS_REMOUNT | fl, NULL);
}

/*
 * The config disk: ext2 on the first virtio disk.  etc/ becomes
 * /etc/bailey (read-only), pbsd/ becomes /var/lib/pbsd (writable).
 */
int
init_sys_config_disk(const char **errstr_r)
{
	char sub[128];

	if (init_wait_path(INIT_DISK_DEV, INIT_DISK_WAIT_MS) == -1) {
		*errstr_r = "no config disk (" INIT_DISK_DEV ")";
		return -1;
	}
	(void)mkdir(INIT_DISK_MNT, 0700);
	if (mount(INIT_DISK_DEV, INIT_DISK_MNT, "ext2",
	    MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "") == -1) {
		*errstr_r = "config disk: not an ext2 file system";
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/etc", INIT_DISK_MNT);
	(void)mkdir("/etc", 0755);
	if (init_bind(sub, INIT_CONF_DIR, 1) == -1) {
		*errstr_r = "config disk: no etc/ directory";
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/pbsd", INIT_DISK_MNT);
	(void)mkdir(sub, 0755);
	if (init_bind(sub, INIT_PBSD_STATE, 0) == -1) {
		init_log("config disk: pbsd state: %s", strerror(errno));
	}
	return 0;
}

void
init_sys_config_disk_release(void)
{
	sync();
	(void)umount2(INIT_PBSD_STATE, MNT_DETACH);
	(void)umount2(INIT_CONF_DIR, MNT_DETACH);
	if (umount2(INIT_DISK_MNT, 0) == -1) {
		(void)mount(NULL, INIT_DISK_MNT, NULL, MS_REMOUNT | MS_RDONLY,
		    NULL);
	}
}

int
init_sys_read_conf(const char *path, struct image_conf *conf,
    const char **errstr_r)
{
	struct image_conf_parser p;
	uint8_t chunk[512];
	ssize_t n;
	int fd, rv = -1;

	image_conf_init(&p, conf);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		*errstr_r = "cannot open";
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (image_conf_feed(&p, chunk, (size_t)n, errstr_r) == -1) {
			goto out_close;
		}
	}
	if (n == -1) {
		*errstr_r = "read error";
		goto out_close;
	}
	rv = image_conf_end(&p, errstr_r);
out_close:
	close(fd);
out:
	if (rv == -1 && *errstr_r != NULL) {
		init_log("%s: %s", path, *errstr_r);
	}
	image_conf_release(&p);
	return rv;
}

static int
init_if_flags_up(int s, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1) {
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static void
init_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	memcpy(sa, &sin, sizeof(sin));
}

int
init_sys_network(const struct image_conf *c, const char **errstr_r)
{
	struct ifreq ifr;
	struct rtentry rt;
	uint32_t mask;
	long ms;
	int s, rv = -1;

	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		*errstr_r = "socket";
		return -1;
	}
	if (init_if_flags_up(s, "lo") == -1) {
		*errstr_r = "lo up";
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", INIT_IF_NAME);
	for (ms = INIT_IF_WAIT_MS; ioctl(s, SIOCGIFINDEX, &ifr) == -1;
	    ms -= 50) {
		if (ms <= 0) {
			*errstr_r = "no " INIT_IF_NAME;
			goto out;
		}
		init_sleep_ms(50);
	}
	init_sin(&ifr.ifr_addr, c->ic_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) == -1) {
		*errstr_r = "set address";
		goto out;
	}
	mask = htonl(c->ic_prefix == 32 ? 0xffffffffU :
	    ~(0xffffffffU >> c->ic_prefix));
	init_sin(&ifr.ifr_netmask, mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) == -1) {
		*errstr_r = "set netmask";
		goto out;
	}
	if (init_if_flags_up(s, INIT_IF_NAME) == -1) {
		*errstr_r = INIT_IF_NAME " up";
		goto out;
	}
	if (c->ic_gateway != 0) {
		memset(&rt, 0, sizeof(rt));
		init_sin(&rt.rt_dst, 0);
		init_sin(&rt.rt_genmask, 0);
		init_sin(&rt.rt_gateway, c->ic_gateway);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(s, SIOCADDRT, &rt) == -1) {
			*errstr_r = "default route";
			goto out;
		}
	}
	rv = 0;
out:
	close(s);
	return rv;
}
