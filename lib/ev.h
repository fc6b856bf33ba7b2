/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * ev: a small level-triggered epoll loop with a binary heap of timers.
 * One loop per process; used by every bailey role.  Callbacks may add,
 * change or delete any watcher, including their own.
 */
#ifndef BAILEY_EV_H
#define BAILEY_EV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_io *, uint32_t revents);
typedef void (*ev_timer_cb)(struct ev_timer *);

struct ev_io {
	int		 fd;
	uint32_t	 events;	/* EPOLLIN, EPOLLOUT ... */
	int		 active;
	ev_io_cb	 cb;
	void		*arg;
};

struct ev_timer {
	uint64_t	 when;		/* ms, monotonic */
	size_t		 idx;		/* heap index + 1; 0 = not armed */
	ev_timer_cb	 cb;
	void		*arg;
};

void	 ev_init(void);
/* Adds or changes (events 0 keeps the fd registered but quiet). */
void	 ev_io_set(struct ev_io *, int fd, uint32_t events, ev_io_cb, void *);
void	 ev_io_events(struct ev_io *, uint32_t events);
void	 ev_io_del(struct ev_io *);
void	 ev_io_del_closing(struct ev_io *);
void	 ev_timer_init(struct ev_timer *, ev_timer_cb, void *);
void	 ev_timer_add(struct ev_timer *, uint64_t ms);	/* (re)arm */
void	 ev_timer_del(struct ev_timer *);
int	 ev_timer_pending(const struct ev_timer *);
uint64_t ev_now(void);		/* cached at each loop iteration */
uint64_t ev_clock_ms(void);	/* fresh */
/* Called after each batch of events: free what callbacks retired. */
void	 ev_set_post_hook(void (*)(void));
void	 ev_loop(void);
void	 ev_break(void);

#endif
