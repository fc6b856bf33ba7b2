/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * pbsd_sandbox: the seccomp allow-list pbsd loads after dropping its
 * privileges and before reading the first datagram.  Runs in pbsd.
 */
#ifndef BAILEY_PBSD_SANDBOX_H
#define BAILEY_PBSD_SANDBOX_H

/*
 * Loads the filter (default: kill the process).  With PBSD_DEBUG_SANDBOX=1
 * in the environment a forbidden call raises SIGSYS and its number is
 * logged first.  Fatal on failure.
 */
void	pbsd_sandbox_enter(void);

#endif
