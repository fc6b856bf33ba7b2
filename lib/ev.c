/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * ev: epoll + timer heap.  Runs in every bailey role; holds no data of
 * its own beyond the registered watchers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"

#define EV_BATCH	64

static int		  ev_fd = -1;
static int		  ev_stop;
static uint64_t		  ev_cached;
static struct ev_timer	**ev_heap;
static size_t		  ev_nheap, ev_capheap;
static void		 (*ev_post)(void);

void
ev_set_post_hook(void (*fn)(void))
{
	ev_post = fn;
}

uint64_t
ev_clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ev_now(void)
{
	return ev_cached;
}

void
ev_init(void)
{
	if (ev_fd != -1) {
		close(ev_fd);
	}
	if ((ev_fd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fatal("epoll_create1");
	}
	ev_cached = ev_clock_ms();
	ev_nheap = 0;
	ev_stop = 0;
}

void
ev_io_set(struct ev_io *w, int fd, uint32_t events, ev_io_cb cb, void *arg)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = w;
	w->cb = cb;
	w->arg = arg;
	if (w->active && w->fd == fd) {
		if (w->events != events &&
		    epoll_ctl(ev_fd, EPOLL_CTL_MOD, fd, &ee) == -1) {
			fatal("epoll_ctl mod %d", fd);
		}
	} else {
		if (w->active) {
			ev_io_del(w);
		}
		if (epoll_ctl(ev_fd, EPOLL_CTL_ADD, fd, &ee) == -1) {
			fatal("epoll_ctl add %d", fd);
		}
	}
	w->fd = fd;
	w->events = events;
	w->active = 1;
}

void
ev_io_events(struct ev_io *w, uint32_t events)
{
	if (!w->active) {
		fatalx("ev_io_events on inactive watcher");
	}
	ev_io_set(w, w->fd, events, w->cb, w->arg);
}

void
ev_io_del(struct ev_io *w)
{
	if (!w->active) {
		return;
	}
	if (epoll_ctl(ev_fd, EPOLL_CTL_DEL, w->fd, NULL) == -1 &&
	    errno != EBADF && errno != ENOENT) {
		fatal("epoll_ctl del %d", w->fd);
	}
	w->active = 0;
}

/*
 * For a watcher whose fd the caller closes next and is the only
 * reference to (no dup, never passed on): the last close removes the
 * epoll registration by itself, so no epoll_ctl.  Events already fetched
 * for it are skipped (inactive).
 */
void
ev_io_del_closing(struct ev_io *w)
{
	w->active = 0;
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	t->when = 0;
	t->idx = 0;
	t->cb = cb;
	t->arg = arg;
}

static void
heap_swap(size_t a, size_t b)
{
	struct ev_timer *t = ev_heap[a];

	ev_heap[a] = ev_heap[b];
	ev_heap[b] = t;
	ev_heap[a]->idx = a + 1;
	ev_heap[b]->idx = b + 1;
}

static void
heap_up(size_t i)
{
	while (i > 0 && ev_heap[(i - 1) / 2]->when > ev_heap[i]->when) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(size_t i)
{
	size_t	l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < ev_nheap && ev_heap[l]->when < ev_heap[m]->when) {
			m = l;
		}
		if (r < ev_nheap && ev_heap[r]->when < ev_heap[m]->when) {
			m = r;
		}
		if (m == i) {
			return;
		}
		heap_swap(i, m);
		i = m;
	}
}

void
ev_timer_del(struct ev_timer *t)
{
	size_t	i;

	if (t->idx == 0) {
		return;
	}
	i = t->idx - 1;
	t->idx = 0;
	ev_nheap--;
	if (i == ev_nheap) {
		return;
	}
	ev_heap[i] = ev_heap[ev_nheap];
	ev_heap[i]->idx = i + 1;
	heap_up(i);
	heap_down(ev_heap[i]->idx - 1);
}

void
ev_timer_add(struct ev_timer *t, uint64_t ms)
{
	ev_timer_del(t);
	if (ev_nheap == ev_capheap) {
		ev_capheap = ev_capheap ? ev_capheap * 2 : 64;
		ev_heap = reallocarray(ev_heap, ev_capheap, sizeof(*ev_heap));
		if (ev_heap == NULL) {
			fatal("ev_timer_add");
		}
	}
	t->when = ev_clock_ms() + ms;
	ev_heap[ev_nheap] = t;
	t->idx = ++ev_nheap;
	heap_up(ev_nheap - 1);
}

int
ev_timer_pending(const struct ev_timer *t)
{
	return t->idx != 0;
}

void
ev_break(void)
{
	ev_stop = 1;
}

static int
ev_next_timeout(void)
{
	uint64_t	d;

	if (ev_nheap == 0) {
		return -1;
	}
	if (ev_heap[0]->when <= ev_cached) {
		return 0;
	}
	d = ev_heap[0]->when - ev_cached;
	return d > 60000 ? 60000 : (int)d;
}

static void
ev_run_timers(void)
{
	struct ev_timer	*t;

	while (ev_nheap > 0 && ev_heap[0]->when <= ev_cached) {
		t = ev_heap[0];
		ev_timer_del(t);
		t->cb(t);
	}
}

void
ev_loop(void)
{
	struct epoll_event	 evs[EV_BATCH];
	struct ev_io		*w;
	int			 n, i;

	while (!ev_stop) {
		ev_cached = ev_clock_ms();
		n = epoll_wait(ev_fd, evs, EV_BATCH, ev_next_timeout());
		if (n == -1) {
			if (errno == EINTR) {
				continue;
			}
			fatal("epoll_wait");
		}
		ev_cached = ev_clock_ms();
		for (i = 0; i < n && !ev_stop; i++) {
			w = evs[i].data.ptr;
			if (w->active) {
				w->cb(w, evs[i].events);
			}
		}
		ev_run_timers();
		if (ev_post != NULL) {
			ev_post();
		}
	}
}
