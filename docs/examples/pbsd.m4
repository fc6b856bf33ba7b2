divert(-1)
#
# Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
#
# pbsd.m4: a sendmail.cf hack shipped with pbsd(8).  Sendmail relays for
# client addresses that pbsd wrote into its Berkeley DB table; every other
# client is checked as before.  m4 reads this file (as root) when the site
# builds its sendmail.cf; sendmail SMTP processes then read the table.  It
# trusts the table, which only pbsd writes (its own user, a 0755
# directory, a 0644 file).
#
# Install this file as /usr/share/sendmail/cf/hack/pbsd.m4 and add the
# line that pbsd(8) shows under EXAMPLES to sendmail.mc; its argument is
# the hash output file of pbsd (Sendmail adds the .db suffix itself).  The
# keys are the client address as Sendmail prints it, which the map folds
# to lower case: 192.0.2.1, or ipv6:2001:db8:0:0:0:0:0:2 for IPv6
# (pbsd.conf output_keys sendmail, alone or with postfix).  The value is
# not used, so one table can also serve Postfix and Exim.
#
# Keep macro names, quote characters and m4 builtin names out of these
# comments: cf.m4 turns m4 comments off, so m4 would expand them.
#
divert(0)
VERSIONID(`pbsd.m4 (Bailey)')
LOCAL_CONFIG
Kpbsd hash -o -a<PBSD> ifelse(defn(`_ARG_'), `', `/var/lib/pbsd/relay', `_ARG_')
LOCAL_RULESETS
SLocal_check_rcpt
R$*		$: $(pbsd $&{client_addr} $: <?> $)
R<?>		$@ NoPbsd
R$*<PBSD>	$# OK
